//! Floods of log-like lines on stdout or stderr, for testing how a harness drains its pipes.
//!
//! Each line is 100 bytes, `flood stdout before line 0000000001 xxx…\n`, naming its stream and
//! phase so a reader can tell the floods apart. The writer fills a 64 KiB buffer once and only
//! rewrites the line numbers between writes, so a gigabyte costs little more than the pipe's own
//! throughput. It writes to a duplicate of the file descriptor, bypassing std's locked and
//! line-buffered `Stdout`.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;

/// The length of every line but a cut last one, newline included.
const LINE_LEN: usize = 100;

/// Lines per write: as many as fit in 64 KiB.
const LINES_PER_CHUNK: usize = 64 * 1024 / LINE_LEN;

/// Width of the zero-padded line number.
const DIGITS: usize = 10;

/// Which of the standard streams to flood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Standard output, which also carries the handshake.
    Stdout,
    /// Standard error, which also carries the logs.
    Stderr,
}

/// Whether a flood comes before or after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Written after binding, before the handshake line.
    Before,
    /// Written after the handshake, while the server serves.
    After,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        })
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Before => "before",
            Self::After => "after",
        })
    }
}

/// Writes `bytes` bytes of flood lines to `stream`, blocking while the reader lags.
pub(crate) fn flood(stream: Stream, phase: Phase, bytes: u64) -> io::Result<()> {
    if bytes == 0 {
        return Ok(());
    }
    let fd = match stream {
        Stream::Stdout => io::stdout().as_fd().try_clone_to_owned()?,
        Stream::Stderr => io::stderr().as_fd().try_clone_to_owned()?,
    };
    write_lines(&mut File::from(fd), &format!("{stream} {phase}"), bytes)?;
    // The end of a flood cannot be seen from a stream sent to /dev/null; this line shows it.
    tracing::info!(%stream, %phase, bytes, "flood finished");
    Ok(())
}

/// Writes exactly `bytes` bytes of numbered lines labelled `label`; the last line ends in `\n`
/// even when cut short.
pub(crate) fn write_lines(out: &mut impl Write, label: &str, bytes: u64) -> io::Result<()> {
    let prefix = format!("flood {label} line ");
    let digits_at = prefix.len();
    let padding = LINE_LEN
        .checked_sub(digits_at + DIGITS + 2)
        .expect("the label leaves room on the line");
    let mut line = prefix.into_bytes();
    line.resize(digits_at + DIGITS, b'0');
    line.push(b' ');
    line.resize(line.len() + padding, b'x');
    line.push(b'\n');
    debug_assert_eq!(line.len(), LINE_LEN);

    let mut chunk = line.repeat(LINES_PER_CHUNK);
    // The line number as ASCII digits, counted up in place: cheaper than formatting each one.
    let mut number = [b'0'; DIGITS];
    let mut remaining = bytes;
    while remaining > 0 {
        for start in (digits_at..chunk.len()).step_by(LINE_LEN) {
            increment(&mut number);
            chunk[start..start + DIGITS].copy_from_slice(&number);
        }
        let len = usize::try_from(remaining).map_or(chunk.len(), |r| r.min(chunk.len()));
        if len < chunk.len() {
            chunk[len - 1] = b'\n';
        }
        out.write_all(&chunk[..len])?;
        remaining -= len as u64;
    }
    out.flush()
}

/// Adds one to a decimal number written in ASCII digits, wrapping to zeros after all nines.
fn increment(digits: &mut [u8]) {
    for digit in digits.iter_mut().rev() {
        if *digit == b'9' {
            *digit = b'0';
        } else {
            *digit += 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(label: &str, bytes: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_lines(&mut out, label, bytes).unwrap();
        out
    }

    #[test]
    fn writes_exactly_the_bytes_asked() {
        for bytes in [1, 99, 100, 101, 65_500, 65_501, 1 << 20] {
            let out = lines("stdout before", bytes);
            assert_eq!(out.len() as u64, bytes);
            assert_eq!(out.last(), Some(&b'\n'));
        }
        assert!(lines("stdout before", 0).is_empty());
    }

    #[test]
    fn lines_are_numbered_and_labelled() {
        let out = String::from_utf8(lines("stderr after", 250_000)).unwrap();
        let all: Vec<&str> = out.lines().collect();
        assert_eq!(all.len(), 2_500);
        for (i, line) in all.iter().enumerate() {
            assert_eq!(line.len(), LINE_LEN - 1);
            let expected = format!("flood stderr after line {:010} x", i + 1);
            assert!(line.starts_with(&expected), "{line}");
        }
    }

    #[test]
    fn increments_with_carry() {
        let mut digits = *b"0099";
        increment(&mut digits);
        assert_eq!(&digits, b"0100");
        let mut digits = *b"99";
        increment(&mut digits);
        assert_eq!(&digits, b"00");
    }
}
