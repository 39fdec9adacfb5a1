//! What went wrong, by cause: the category a caller matches on.

use super::Error;

/// The cause of an [`Error`], for callers that act on what went wrong rather than on each variant.
///
/// New categories may be added, so a `match` needs a `_` arm.
///
/// ```no_run
/// # async fn f() {
/// use harness::ErrorKind;
/// let server = harness::Server::cargo_bin("fixtures-app").unwrap();
/// match server.args(["--exit-before-handshake", "3"]).spawn().await {
///     Ok(_) => panic!("the server should have exited"),
///     Err(e) => match e.kind() {
///         ErrorKind::BadInput => panic!("fix the test: {e}"),
///         ErrorKind::NotStarted => eprintln!("the server failed to start:\n{e}"),
///         ErrorKind::Driver | ErrorKind::Io => panic!("environment problem: {e}"),
///         _ => panic!("{e}"),
///     },
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input, found before anything was started: an empty or missing program, a bad timeout,
    /// regex, path or WebDriver URL, an unknown browser, a missing driver or browser, an
    /// unsupported platform. Fix the call or install what is named.
    BadInput,
    /// The server was started but did not become ready: it exited, timed out, printed a bad
    /// handshake, did not listen where it said, or failed its health or identity check. The error
    /// carries a [`Failure`](crate::Failure) with its output.
    NotStarted,
    /// A WebDriver driver or session failed: opening (a Selenium Grid's refusal included),
    /// closing or a command.
    Driver,
    /// The operating system failed the harness: spawning, waiting, or making a browser profile.
    Io,
}

impl Error {
    /// The cause of this error, by category.
    ///
    /// ```
    /// use harness::{Error, ErrorKind};
    /// assert_eq!(Error::ZeroTimeout.kind(), ErrorKind::BadInput);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        // Exhaustive on purpose: a new variant does not compile until it is classified.
        match self {
            Error::EmptyProgram
            | Error::ProgramNotFound { .. }
            | Error::CargoBinNotFound { .. }
            | Error::NotADirectory(_)
            | Error::ZeroTimeout
            | Error::TimeoutTooLong { .. }
            | Error::BadRegex { .. }
            | Error::RegexWithoutGroup { .. }
            | Error::Unsupported { .. }
            | Error::BadPath { .. }
            | Error::BadAttach { .. }
            | Error::BadHost { .. } => ErrorKind::BadInput,
            #[cfg(feature = "browser")]
            Error::UnknownBrowser { .. }
            | Error::DriverNotFound { .. }
            | Error::BrowserNotFound { .. }
            | Error::BadWebDriverUrl { .. }
            | Error::BadGrid { .. }
            | Error::BadSessionTimeout { .. } => ErrorKind::BadInput,
            Error::Exited(_)
            | Error::Timeout { .. }
            | Error::Handshake { .. }
            | Error::NotListening { .. }
            | Error::IgnoredHost { .. }
            | Error::Health { .. }
            | Error::Identity { .. } => ErrorKind::NotStarted,
            #[cfg(feature = "browser")]
            Error::GridNodeAbsent { .. } => ErrorKind::NotStarted,
            #[cfg(feature = "browser")]
            Error::NewSession { .. }
            | Error::SessionTimeout { .. }
            | Error::GridNoNode { .. }
            | Error::GridQueueTimeout { .. }
            | Error::CloseTimeout { .. }
            | Error::WebDriver { .. } => ErrorKind::Driver,
            Error::Spawn { .. } | Error::Wait { .. } => ErrorKind::Io,
            #[cfg(feature = "browser")]
            Error::Profile { .. } => ErrorKind::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::ErrorKind;
    use crate::{Error, Failure, Logs};

    fn failure() -> Box<Failure> {
        Box::new(Failure {
            name: "web".into(),
            command: "web".into(),
            pid: 1,
            elapsed: Duration::ZERO,
            status: None,
            logs: Logs::default(),
        })
    }

    #[test]
    fn every_category_is_reachable() {
        let io = || std::io::Error::other("boom");
        let cases = [
            (Error::EmptyProgram, ErrorKind::BadInput),
            (Error::BadPath { path: "x".into() }, ErrorKind::BadInput),
            (Error::Exited(failure()), ErrorKind::NotStarted),
            (
                Error::Timeout {
                    timeout: Duration::from_secs(1),
                    seen: Vec::new(),
                    failure: failure(),
                },
                ErrorKind::NotStarted,
            ),
            (
                Error::Spawn {
                    command: "web".into(),
                    source: io(),
                },
                ErrorKind::Io,
            ),
            (
                Error::Wait {
                    name: "web".into(),
                    source: io(),
                },
                ErrorKind::Io,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
        }
    }

    #[cfg(feature = "browser")]
    #[test]
    fn browser_errors_are_classified() {
        let unknown = Error::UnknownBrowser {
            given: "lynx".into(),
        };
        assert_eq!(unknown.kind(), ErrorKind::BadInput);
        let close = Error::CloseTimeout {
            timeout: Duration::from_secs(1),
        };
        assert_eq!(close.kind(), ErrorKind::Driver);
        let session = Error::SessionTimeout {
            url: "http://127.0.0.1:4444".into(),
            timeout: Duration::from_secs(1),
            capabilities: r#"{"browserName":"chrome"}"#.into(),
            offered: None,
        };
        assert_eq!(session.kind(), ErrorKind::Driver);
        let grid = Error::GridQueueTimeout {
            url: "http://127.0.0.1:4444".into(),
            capabilities: r#"{"browserName":"chrome"}"#.into(),
            message: "New session request timed out".into(),
        };
        assert_eq!(grid.kind(), ErrorKind::Driver);
        let bad = Error::BadSessionTimeout {
            given: "0ns".into(),
            reason: "zero".into(),
        };
        assert_eq!(bad.kind(), ErrorKind::BadInput);
        let profile = Error::Profile {
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(profile.kind(), ErrorKind::Io);
    }
}
