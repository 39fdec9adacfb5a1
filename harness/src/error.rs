//! Errors, each carrying what a person needs to act on it.

use std::path::PathBuf;
use std::time::Duration;

use crate::handshake::HandshakeError;

mod failure;
mod kind;
mod text;

pub use failure::Failure;
pub use kind::ErrorKind;
pub(crate) use text::chain;
#[cfg(feature = "browser")]
use text::offers;
use text::{available_hint, seen_notes};

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
    /// No session opened within the driver's session timeout
    /// ([`Driver::session_timeout`](crate::Driver::session_timeout), `HARNESS_SESSION_TIMEOUT`).
    #[cfg(feature = "browser")]
    #[error(
        "no session from the {} at {url} within {timeout:?} for {capabilities}{}; set \
         HARNESS_SESSION_TIMEOUT (or Driver::session_timeout) for a longer wait",
        if offered.is_some() { "Selenium Grid" } else { "WebDriver endpoint" },
        offers(offered)
    )]
    SessionTimeout {
        /// The endpoint, without user name or password.
        url: String,
        /// The limit.
        timeout: Duration,
        /// The capabilities asked for, as compact JSON.
        capabilities: String,
        /// When the endpoint is a Selenium Grid: what each of its nodes offers, from its
        /// `/status` (e.g. `chrome (UP, http://198.18.3.2:5555)`). `None`: not a Grid, or its
        /// status could not be read within 2 s.
        offered: Option<Vec<String>>,
    },
    /// A Selenium Grid refused the session at once: no node supports the capabilities (the Grid
    /// runs with `reject-unsupported-caps`).
    #[cfg(feature = "browser")]
    #[error(
        "the Selenium Grid at {url} has no node that supports {capabilities}{}; ask for a \
         browser its nodes offer (HARNESS_BROWSER) or add a node that has it",
        offers(offered)
    )]
    GridNoNode {
        /// The Grid, without user name or password.
        url: String,
        /// The capabilities asked for, as compact JSON.
        capabilities: String,
        /// What each of its nodes offers, as in [`Error::SessionTimeout`]'s `offered`.
        offered: Option<Vec<String>>,
    },
    /// A Selenium Grid gave up on the session: the request waited in its new-session queue
    /// until the Grid's `session-request-timeout`, no node being free for it.
    #[cfg(feature = "browser")]
    #[error(
        "the Selenium Grid at {url} gave up on the request for {capabilities} in its new-session \
         queue ({message:?}): no node was free for it in time; add nodes, or raise the Grid's \
         --session-request-timeout"
    )]
    GridQueueTimeout {
        /// The Grid, without user name or password.
        url: String,
        /// The capabilities asked for, as compact JSON.
        capabilities: String,
        /// The Grid's message, first line.
        message: String,
    },
    /// A session timeout that cannot be used: zero, or `HARNESS_SESSION_TIMEOUT` not a number
    /// of seconds. (One longer than a year is [`Error::TimeoutTooLong`].)
    #[cfg(feature = "browser")]
    #[error("session timeout {given}: {reason}")]
    BadSessionTimeout {
        /// The timeout as given.
        given: String,
        /// What is wrong, and what to do.
        reason: String,
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

impl Error {
    #[cfg(feature = "browser")]
    pub(crate) fn webdriver(action: &'static str, source: fantoccini::error::CmdError) -> Self {
        Error::WebDriver {
            action,
            source: Box::new(source),
        }
    }
}
