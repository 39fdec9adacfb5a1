//! Errors, each carrying what a person needs to act on it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::handshake::HandshakeError;
use crate::logs::{Logs, Stream};

mod kind;

pub use kind::ErrorKind;

/// How many lines of each stream an error shows.
///
/// ```
/// use harness::{Logs, Stream, TAIL_LINES};
/// assert_eq!(TAIL_LINES, 20);
/// let tail = Logs::default().tail(Stream::Stderr, TAIL_LINES); // what an error shows
/// ```
pub const TAIL_LINES: usize = 20;

/// Everything that can go wrong starting or stopping a server.
///
/// Input errors (the first group) are found before anything is started and are one line long.
/// Failures after start carry a [`Failure`] that shows the command, pid, elapsed time, exit status
/// and the last lines of stdout and stderr. `Debug` prints the same as `Display`, so `unwrap()` and
/// `?` in a test show the whole story. [`Error::kind`] says which of these causes it was.
///
/// ```no_run
/// # async fn f() -> Result<(), harness::Error> {
/// let server = harness::Server::cargo_bin("fixtures-app")?;
/// match server.args(["--exit-before-handshake", "3"]).spawn().await {
///     Err(harness::Error::Exited(failure)) => {
///         assert_eq!(failure.status.as_ref().and_then(|s| s.code()), Some(3));
///         assert!(failure.logs.stderr().any(|l| l.contains("before the handshake")));
///     }
///     other => panic!("expected an early exit, got {other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The program is an empty string.
    #[error("server program is empty; pass the path or name of an executable")]
    EmptyProgram,
    /// The program was not found.
    #[error("program `{program}` not found; looked in {looked}")]
    ProgramNotFound {
        /// The program as given.
        program: String,
        /// Where the harness looked.
        looked: String,
    },
    /// A cargo-built binary was not found next to the test executable.
    #[error("binary `{name}` not found at {}; build it first with `{build}`{}", path.display(), available_hint(available))]
    CargoBinNotFound {
        /// The binary's name.
        name: String,
        /// The path tried.
        path: PathBuf,
        /// The command that builds it.
        build: String,
        /// Binaries that are there.
        available: Vec<String>,
    },
    /// `current_dir` is not a directory.
    #[error("current_dir {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// A zero ready timeout.
    #[error("ready timeout is zero; give the server some time, e.g. Duration::from_secs(30)")]
    ZeroTimeout,
    /// A ready timeout or grace period longer than a year.
    #[error("timeout {timeout:?} is too long; give at most a year, e.g. Duration::from_secs(30)")]
    TimeoutTooLong {
        /// The longer of the two as given.
        timeout: Duration,
    },
    /// A readiness regex that does not compile.
    #[error("readiness regex {regex:?} does not compile")]
    BadRegex {
        /// The regex as given.
        regex: String,
        /// Why.
        #[source]
        source: regex::Error,
    },
    /// A readiness regex without a `url` or `port` group.
    #[error(
        "readiness regex {regex:?} has no named group `url` or `port`; write e.g. `port (?P<port>\\d+)`"
    )]
    RegexWithoutGroup {
        /// The regex as given.
        regex: String,
    },
    /// A feature this platform does not have.
    #[error("{what} is not supported on this platform")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
    },
    /// A health-check or identity path that cannot be joined to a URL.
    #[error("check path {path:?} is not a valid URL path")]
    BadPath {
        /// The path as given.
        path: String,
    },
    /// A server another process started (named by `NAME_URL` and friends in the environment) cannot
    /// be attached to as described.
    #[error("cannot attach to the server in ${var} = {value:?}: {reason}")]
    BadAttach {
        /// The environment variable.
        var: String,
        /// Its value.
        value: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// The host to bind ([`Server::host`](crate::Server::host), `HARNESS_HOST`) cannot be used.
    #[error("host {host}: {reason}")]
    BadHost {
        /// The address, as given.
        host: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// The OS refused to start the process.
    #[error("failed to spawn `{command}`")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server exited before it was ready.
    #[error("server exited before it was ready\n{0}")]
    Exited(Box<Failure>),
    /// The server did not get ready in time.
    #[error(
        "server was not ready within {timeout:?} and is still running (it has now been killed){}\n{failure}",
        seen_notes(seen)
    )]
    Timeout {
        /// The ready timeout.
        timeout: Duration,
        /// Lines that almost counted, and what to do about them: a `Ready::line` capture that
        /// cannot be connected to (port 0), or a URL printed without a handshake.
        seen: Vec<String>,
        /// The context.
        failure: Box<Failure>,
    },
    /// The server printed a malformed handshake. The message says what is wrong with the line
    /// (so `to_string()` alone tells the story).
    #[error("server printed a malformed handshake: {problem}\n{failure}")]
    Handshake {
        /// The context.
        failure: Box<Failure>,
        /// What is wrong with the line.
        problem: HandshakeError,
    },
    /// A port read by a [`Ready::line`](crate::Ready::line) regex is not one the server listens
    /// on (a loose regex matched another number, such as the `127` of `127.0.0.1`).
    #[error(
        "server printed {line:?}, which the readiness regex read as port {port}, but nothing in the server's process group listens there before the ready timeout; make the regex match only the real port, e.g. `port (?P<port>\\d+)` or `127\\.0\\.0\\.1:(?P<port>\\d+)`\n{failure}"
    )]
    NotListening {
        /// The line the regex matched.
        line: String,
        /// The port it captured.
        port: u16,
        /// The context.
        failure: Box<Failure>,
    },
    /// The server was asked to bind a host (`HARNESS_HOST`) and announced loopback instead.
    #[error("{why}\n{failure}")]
    IgnoredHost {
        /// The line and what is wrong with it.
        why: String,
        /// The context.
        failure: Box<Failure>,
    },
    /// The health check did not answer 2xx in time.
    #[error("health check GET {url} did not answer 2xx ({last})\n{failure}")]
    Health {
        /// The URL checked.
        url: String,
        /// The last answer or error.
        last: String,
        /// The context.
        failure: Box<Failure>,
    },
    /// The identity check (e.g. `/whoami`) did not echo this instance's nonce: another server
    /// answered on this port, nothing answered, or the request hung.
    #[error(
        "identity check GET {url} did not return this server's instance id {expected:?}: {got}\n{failure}"
    )]
    Identity {
        /// The URL checked.
        url: String,
        /// The nonce the server was given.
        expected: String,
        /// What happened instead: what came back (shortened), or why nothing did.
        got: String,
        /// The context.
        failure: Box<Failure>,
    },
    /// `HARNESS_BROWSER` or `--browser` names a browser the harness does not know.
    #[cfg(feature = "browser")]
    #[error("unknown browser {given:?}; use chrome or firefox")]
    UnknownBrowser {
        /// The name given.
        given: String,
    },
    /// The WebDriver driver program was not found.
    #[cfg(feature = "browser")]
    #[error("{program} not found for {browser}; looked in {looked}; install it with `{}`", browser.install_hint())]
    DriverNotFound {
        /// The browser.
        browser: crate::Browser,
        /// The driver program's name.
        program: &'static str,
        /// Where the harness looked.
        looked: String,
    },
    /// The browser binary was not found.
    #[cfg(feature = "browser")]
    #[error("{browser} browser not found; looked in {looked}; install it with `{}`", browser.install_hint())]
    BrowserNotFound {
        /// The browser.
        browser: crate::Browser,
        /// Where the harness looked.
        looked: String,
    },
    /// `WEBDRIVER_URL` is not a usable URL.
    #[cfg(feature = "browser")]
    #[error(
        "WebDriver URL {url:?} is not usable: {reason}; expected e.g. http://127.0.0.1:4444/wd/hub"
    )]
    BadWebDriverUrl {
        /// The URL given.
        url: String,
        /// Why not.
        reason: String,
    },
    /// A temporary browser profile could not be created.
    #[cfg(feature = "browser")]
    #[error("failed to create a temporary browser profile")]
    Profile {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The WebDriver endpoint refused to open a session.
    #[cfg(feature = "browser")]
    #[error("failed to open a WebDriver session at {url}")]
    NewSession {
        /// The endpoint.
        url: String,
        /// Why.
        #[source]
        source: Box<fantoccini::error::NewSessionError>,
    },
    /// Opening a session took too long.
    #[cfg(feature = "browser")]
    #[error("opening a WebDriver session at {url} took longer than {timeout:?}")]
    SessionTimeout {
        /// The endpoint.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// A Selenium Grid the harness was asked to start cannot be: a missing jar, a node without a
    /// browser. Found before anything starts.
    #[cfg(feature = "browser")]
    #[error("Selenium Grid: {reason}")]
    BadGrid {
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A Selenium Grid node started but its hub never listed it as up.
    #[cfg(feature = "browser")]
    #[error("Selenium Grid node `{node}` did not join the hub at {hub} within {timeout:?}: {seen}")]
    GridNodeAbsent {
        /// The node's name.
        node: String,
        /// The hub's URL.
        hub: String,
        /// How long the harness waited.
        timeout: Duration,
        /// What the hub said last, and the node's log tail.
        seen: String,
    },
    /// Closing a session took too long; its driver was stopped anyway.
    #[cfg(feature = "browser")]
    #[error(
        "closing the WebDriver session took longer than {timeout:?}; its driver was stopped anyway"
    )]
    CloseTimeout {
        /// The limit.
        timeout: Duration,
    },
    /// A WebDriver command failed.
    #[cfg(feature = "browser")]
    #[error("failed to {action} over WebDriver")]
    WebDriver {
        /// What the harness was doing.
        action: &'static str,
        /// Why it failed.
        #[source]
        source: Box<fantoccini::error::CmdError>,
    },
    /// Waiting for the server to exit failed.
    #[error("failed to wait for server `{name}`")]
    Wait {
        /// The server's name.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\ncaused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl Error {
    #[cfg(feature = "browser")]
    pub(crate) fn webdriver(action: &'static str, source: fantoccini::error::CmdError) -> Self {
        Error::WebDriver {
            action,
            source: Box::new(source),
        }
    }

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

/// An error and its causes on one line: `error: cause: cause`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn seen_notes(seen: &[String]) -> String {
    seen.iter().map(|note| format!("\n  {note}")).collect()
}

fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!(" (binaries there: {})", available.join(", "))
    }
}

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
