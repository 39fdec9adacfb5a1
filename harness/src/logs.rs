//! What a server printed: both pipes drained from spawn to exit, the latest lines kept.
//!
//! Memory is bounded per server: each stream keeps at most [`MAX_LINES`] lines and
//! [`MAX_BYTES`] bytes of text, dropping the oldest first, and a line longer than [`MAX_LINE`]
//! bytes is cut into pieces. So a server that writes gigabytes costs the harness at most about
//! 2 × 1 MiB of kept text (plus one 64 KiB read buffer per stream), and it never blocks on a full pipe.

use std::collections::VecDeque;
use std::fmt;
use std::time::SystemTime;

/// Lines kept per stream at most.
///
/// ```
/// use harness::{Logs, Stream, logs::MAX_LINES};
/// assert_eq!(MAX_LINES, 10_000);
/// assert!(Logs::default().total_lines(Stream::Stdout) <= MAX_LINES as u64);
/// ```
pub const MAX_LINES: usize = 10_000;
/// Bytes of text kept per stream at most.
///
/// ```
/// assert_eq!(harness::logs::MAX_BYTES, 1024 * 1024);
/// ```
pub const MAX_BYTES: usize = 1024 * 1024;
/// Longest line kept whole; longer lines are cut.
///
/// ```
/// assert_eq!(harness::logs::MAX_LINE, 16 * 1024);
/// ```
pub const MAX_LINE: usize = 16 * 1024;

/// Which pipe a line came from.
///
/// ```
/// use harness::Stream;
/// assert_eq!(Stream::Stdout.to_string(), "stdout");
/// assert_eq!(Stream::Stderr.to_string(), "stderr");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The server's standard output.
    Stdout,
    /// The server's standard error.
    Stderr,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

/// One line of output, without its line ending.
///
/// ```no_run
/// # fn f(web: &harness::ServerHandle) {
/// for line in web.logs().lines() {
///     println!("[{}] {}", line.stream, line.text);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The stream it came from.
    pub stream: Stream,
    /// When the harness read it.
    pub at: SystemTime,
    /// The text, as printed (ANSI codes and a trailing CR removed).
    pub text: String,
    seq: u64,
}

/// The kept output of one stream.
#[derive(Debug, Default)]
pub(crate) struct Ring {
    lines: VecDeque<LogLine>,
    bytes: usize,
    total_lines: u64,
    total_bytes: u64,
}

impl Ring {
    pub(crate) fn push(&mut self, line: LogLine, raw_len: usize) {
        self.total_lines += 1;
        self.total_bytes += raw_len as u64 + 1;
        self.bytes += line.text.len();
        self.lines.push_back(line);
        while self.lines.len() > MAX_LINES || self.bytes > MAX_BYTES {
            let old = self
                .lines
                .pop_front()
                .expect("not empty while over the bound");
            self.bytes -= old.text.len();
        }
    }
}

/// Both streams of one server, in the order lines were read.
#[derive(Debug, Default)]
pub(crate) struct Rings {
    pub(crate) stdout: Ring,
    pub(crate) stderr: Ring,
    seq: u64,
}

impl Rings {
    pub(crate) fn push(&mut self, stream: Stream, text: String, raw_len: usize) {
        self.seq += 1;
        let line = LogLine {
            stream,
            at: SystemTime::now(),
            text,
            seq: self.seq,
        };
        match stream {
            Stream::Stdout => self.stdout.push(line, raw_len),
            Stream::Stderr => self.stderr.push(line, raw_len),
        }
    }

    pub(crate) fn snapshot(&self) -> Logs {
        let mut lines: Vec<LogLine> = self
            .stdout
            .lines
            .iter()
            .chain(self.stderr.lines.iter())
            .cloned()
            .collect();
        lines.sort_by_key(|l| l.seq);
        Logs {
            lines,
            stdout_bytes: self.stdout.total_bytes,
            stderr_bytes: self.stderr.total_bytes,
            stdout_lines: self.stdout.total_lines,
            stderr_lines: self.stderr.total_lines,
        }
    }
}

/// A snapshot of a server's kept output, from [`ServerHandle::logs`](crate::ServerHandle::logs).
///
/// ```no_run
/// # async fn f(web: harness::ServerHandle) {
/// let logs = web.logs();
/// assert!(logs.stderr().any(|line| line.contains("listening")));
/// println!("{}", logs.tail(harness::Stream::Stderr, 20));
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Logs {
    lines: Vec<LogLine>,
    stdout_bytes: u64,
    stderr_bytes: u64,
    stdout_lines: u64,
    stderr_lines: u64,
}

impl Logs {
    /// Logs made of `lines`, all of `stream`, kept within the usual bounds (read from a file
    /// another process wrote, for a server the harness attached to).
    pub(crate) fn from_lines<'a>(stream: Stream, lines: impl IntoIterator<Item = &'a str>) -> Self {
        let mut rings = Rings::default();
        for line in lines {
            let text: String = line.chars().take(MAX_LINE).collect();
            rings.push(stream, text, line.len());
        }
        rings.snapshot()
    }

    /// Every kept line of both streams, oldest first.
    ///
    /// ```no_run
    /// # fn f(web: &harness::ServerHandle) {
    /// let logs = web.logs();
    /// let errors = logs.lines().iter().filter(|l| l.text.contains("ERROR")).count();
    /// assert_eq!(errors, 0);
    /// # }
    /// ```
    pub fn lines(&self) -> &[LogLine] {
        &self.lines
    }

    /// The kept stdout lines, oldest first.
    ///
    /// ```no_run
    /// # fn f(web: &harness::ServerHandle) {
    /// let logs = web.logs();
    /// let handshake = logs.stdout().find(|line| line.starts_with(r#"{"harness":"#));
    /// assert!(handshake.is_some());
    /// # }
    /// ```
    pub fn stdout(&self) -> impl Iterator<Item = &str> {
        self.of(Stream::Stdout)
    }

    /// The kept stderr lines, oldest first.
    ///
    /// ```no_run
    /// # fn f(web: &harness::ServerHandle) {
    /// assert!(!web.logs().stderr().any(|line| line.contains("panicked")));
    /// # }
    /// ```
    pub fn stderr(&self) -> impl Iterator<Item = &str> {
        self.of(Stream::Stderr)
    }

    fn of(&self, stream: Stream) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(move |l| l.stream == stream)
            .map(|l| l.text.as_str())
    }

    /// The lines read at or after `since`, e.g. during one test.
    ///
    /// ```no_run
    /// # async fn f(web: &harness::ServerHandle) -> Result<(), Box<dyn std::error::Error>> {
    /// let start = std::time::SystemTime::now();
    /// reqwest::get(web.url().join("hello")?).await?;
    /// for line in web.logs().since(start) {
    ///     println!("{}", line.text);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn since(&self, since: SystemTime) -> impl Iterator<Item = &LogLine> {
        self.lines.iter().filter(move |l| l.at >= since)
    }

    /// How many bytes the server wrote to `stream` in all, including those no longer kept.
    ///
    /// ```
    /// use harness::{Logs, Stream};
    /// assert_eq!(Logs::default().total_bytes(Stream::Stdout), 0);
    /// ```
    pub fn total_bytes(&self, stream: Stream) -> u64 {
        match stream {
            Stream::Stdout => self.stdout_bytes,
            Stream::Stderr => self.stderr_bytes,
        }
    }

    /// How many lines the server wrote to `stream` in all, including those no longer kept.
    ///
    /// ```no_run
    /// # fn f(web: &harness::ServerHandle) {
    /// let logs = web.logs();
    /// let dropped = logs.total_lines(harness::Stream::Stdout) - logs.stdout().count() as u64;
    /// println!("{dropped} stdout lines no longer kept");
    /// # }
    /// ```
    pub fn total_lines(&self, stream: Stream) -> u64 {
        match stream {
            Stream::Stdout => self.stdout_lines,
            Stream::Stderr => self.stderr_lines,
        }
    }

    /// The last `n` lines of `stream`, formatted for an error message.
    ///
    /// ```
    /// use harness::{Logs, Stream};
    /// let tail = Logs::default().tail(Stream::Stderr, 20);
    /// assert_eq!(tail.to_string(), "  stderr: (empty)");
    /// ```
    pub fn tail(&self, stream: Stream, n: usize) -> Tail {
        let kept: Vec<&str> = self.of(stream).collect();
        let start = kept.len().saturating_sub(n);
        Tail {
            stream,
            lines: kept[start..].iter().map(|s| (*s).to_owned()).collect(),
            total: self.total_lines(stream),
        }
    }
}

/// The last lines of one stream, displayed as an indented block.
///
/// ```no_run
/// # fn f(web: &harness::ServerHandle) {
/// let tail: harness::logs::Tail = web.logs().tail(harness::Stream::Stdout, 5);
/// eprintln!("server output:\n{tail}");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Tail {
    stream: Stream,
    lines: Vec<String>,
    total: u64,
}

impl fmt::Display for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines.is_empty() {
            return write!(f, "  {}: (empty)", self.stream);
        }
        write!(
            f,
            "  {} (last {} of {} lines):",
            self.stream,
            self.lines.len(),
            self.total
        )?;
        for line in &self.lines {
            let line: String = line.chars().take(500).collect();
            write!(f, "\n    | {line}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_are_bounded_by_lines_and_bytes() {
        let mut rings = Rings::default();
        for i in 0..(MAX_LINES + 10) {
            rings.push(Stream::Stdout, format!("line {i}"), 8);
        }
        let logs = rings.snapshot();
        assert_eq!(logs.stdout().count(), MAX_LINES);
        assert_eq!(logs.total_lines(Stream::Stdout), (MAX_LINES + 10) as u64);
        assert_eq!(logs.stdout().next(), Some("line 10"));

        let mut rings = Rings::default();
        let big = "x".repeat(MAX_LINE);
        for _ in 0..200 {
            rings.push(Stream::Stderr, big.clone(), big.len());
        }
        assert!(rings.stderr.bytes <= MAX_BYTES);
        assert_eq!(rings.stderr.lines.len(), MAX_BYTES / MAX_LINE);
    }

    #[test]
    fn snapshot_interleaves_streams_in_read_order_and_tails() {
        let mut rings = Rings::default();
        rings.push(Stream::Stdout, "a".into(), 1);
        rings.push(Stream::Stderr, "b".into(), 1);
        rings.push(Stream::Stdout, "c".into(), 1);
        let logs = rings.snapshot();
        let texts: Vec<&str> = logs.lines().iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c"]);
        let tail = logs.tail(Stream::Stdout, 1).to_string();
        assert_eq!(tail, "  stdout (last 1 of 2 lines):\n    | c");
        assert_eq!(
            logs.tail(Stream::Stderr, 0).to_string(),
            "  stderr: (empty)"
        );
    }
}
