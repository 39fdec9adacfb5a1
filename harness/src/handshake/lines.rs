//! Lines: cleaning one before it is parsed, and splitting a byte stream into them.

/// Removes ANSI escape sequences (colours, cursor moves), a trailing CR, and white space, byte-order
/// marks (`U+FEFF`) and NUL bytes around the line.
///
/// ```
/// let raw = "\u{1b}[32m  {\"harness\":1}  \u{1b}[0m\r";
/// assert_eq!(harness::handshake::clean_line(raw), "{\"harness\":1}");
/// // A BOM written by a Windows-minded runtime, NUL padding from a raw write.
/// assert_eq!(harness::handshake::clean_line("\u{feff}\0\0{}\0"), "{}");
/// ```
pub fn clean_line(raw: &str) -> String {
    strip_ansi(raw)
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\0')
        .to_owned()
}

/// Removes ANSI escape sequences and a trailing CR, keeping everything else (indentation too).
/// What the server's logs keep of each line; not public, as no user needs it beside [`clean_line`].
pub(crate) fn strip_ansi(raw: &str) -> String {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    if !raw.contains('\u{1b}') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI: ESC [ parameters... final byte in @..~
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: ESC ] ... terminated by BEL or ESC \
            Some(']') => {
                chars.next();
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // Any other two-character escape.
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out
}

/// Splits a byte stream into lines, whatever the read boundaries.
///
/// Bytes are buffered until a `\n`; a line longer than the limit is cut there and the rest of it is
/// delivered as the next piece, so memory stays bounded on a stream that never sends a newline.
/// Invalid UTF-8 is replaced, never an error. The server's pipe readers use it; not public.
#[cfg(feature = "server")]
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    max_line: usize,
}

#[cfg(feature = "server")]
impl LineSplitter {
    /// A splitter that cuts lines longer than `max_line` bytes.
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_line: max_line.max(1),
        }
    }

    /// Feeds one read's bytes, returning the lines it completed (without the `\n`).
    pub(crate) fn push(&mut self, mut bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        while !bytes.is_empty() {
            let room = self.max_line - self.buf.len();
            let window = &bytes[..bytes.len().min(room + 1)];
            match window.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    self.buf.extend_from_slice(&bytes[..i]);
                    lines.push(self.take());
                    bytes = &bytes[i + 1..];
                }
                // Only more than `room` bytes without a newline prove the line is too long; exactly
                // `room` may still be followed by its newline in the next read.
                None if bytes.len() > room => {
                    self.buf.extend_from_slice(&bytes[..room]);
                    lines.push(self.take());
                    bytes = &bytes[room..];
                }
                None => {
                    self.buf.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
        lines
    }

    /// Returns the unterminated last line, if any, at end of stream.
    pub(crate) fn finish(&mut self) -> Option<String> {
        (!self.buf.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let line = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        line
    }
}
