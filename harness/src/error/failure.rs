//! [`Failure`]: what happened to a server that failed after it was started.

use std::fmt;
use std::time::Duration;

use super::{Error, TAIL_LINES};
use crate::logs::{Logs, Stream};

/// What happened to a server that failed after it was started.
///
/// ```
/// use std::time::Duration;
/// let failure = harness::Failure {
///     name: "web".into(), command: "fixtures-app".into(), pid: 4242,
///     elapsed: Duration::from_millis(120), status: None, logs: harness::Logs::default(),
/// };
/// assert!(failure.to_string().contains("still running when the harness gave up"));
/// ```
#[derive(Debug, Clone)]
pub struct Failure {
    /// The server's name.
    pub name: String,
    /// The command line.
    pub command: String,
    /// Its process id.
    pub pid: u32,
    /// Time from spawn to the failure.
    pub elapsed: Duration,
    /// How it exited, if it had exited before the harness gave up (`None`: still running then).
    pub status: Option<crate::Exit>,
    /// Its kept output.
    pub logs: Logs,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  server: {}", self.name)?;
        writeln!(f, "  command: {}", self.command)?;
        writeln!(f, "  pid: {}", self.pid)?;
        writeln!(f, "  elapsed: {:.3}s", self.elapsed.as_secs_f64())?;
        match &self.status {
            Some(status) => writeln!(f, "  status: {status}")?,
            None => writeln!(f, "  status: still running when the harness gave up")?,
        }
        writeln!(f, "{}", self.logs.tail(Stream::Stdout, TAIL_LINES))?;
        write!(f, "{}", self.logs.tail(Stream::Stderr, TAIL_LINES))
    }
}

impl Error {
    /// The failure context, for errors that happened after the server started.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let server = harness::Server::cargo_bin("fixtures-app")?;
    /// let err = server.args(["--exit-before-handshake", "3"]).spawn().await.unwrap_err();
    /// let failure = err.failure().expect("the server had started");
    /// println!("{} (pid {}) failed after {:?}", failure.name, failure.pid, failure.elapsed);
    /// assert!(harness::Error::ZeroTimeout.failure().is_none());
    /// # Ok(()) }
    /// ```
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Error::Exited(f) => Some(f),
            Error::Timeout { failure, .. }
            | Error::Handshake { failure, .. }
            | Error::NotListening { failure, .. }
            | Error::IgnoredHost { failure, .. }
            | Error::Health { failure, .. }
            | Error::Identity { failure, .. } => Some(failure),
            _ => None,
        }
    }
}
