//! [`Exit`]: how a process ended, as far as anyone saw it.
//!
//! A wait that fails (the child was reaped by someone else, e.g. with `SIGCHLD` ignored) is not
//! an exit code 0: it is [`Exit::Unknown`], and nothing downstream may read it as success.

use std::fmt;
use std::process::ExitStatus;

/// How a process ended.
///
/// ```
/// use harness::Exit;
/// let exit = Exit::Code(3);
/// assert!(!exit.success());
/// assert_eq!(exit.code(), Some(3));
/// assert_eq!(exit.to_string(), "exit code 3");
/// let unknown = Exit::Unknown { why: "the wait failed: ECHILD".into() };
/// assert!(!unknown.success(), "an exit nobody saw is never a success");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal {
        /// The signal number.
        signal: i32,
        /// Whether it dumped core.
        core_dumped: bool,
    },
    /// Nobody saw it end: the wait failed, or it was not observed before a deadline.
    Unknown {
        /// Why the exit could not be observed.
        why: String,
    },
}

impl Exit {
    /// Only an observed exit code 0 is a success.
    ///
    /// ```
    /// assert!(harness::Exit::Code(0).success());
    /// assert!(!harness::Exit::Signal { signal: 9, core_dumped: false }.success());
    /// ```
    pub fn success(&self) -> bool {
        matches!(self, Self::Code(0))
    }

    /// The exit code, if it exited with one.
    ///
    /// ```
    /// assert_eq!(harness::Exit::Code(2).code(), Some(2));
    /// ```
    pub fn code(&self) -> Option<i32> {
        match self {
            Self::Code(code) => Some(*code),
            _ => None,
        }
    }

    /// The signal that ended it, if one did.
    ///
    /// ```
    /// let exit = harness::Exit::Signal { signal: 15, core_dumped: false };
    /// assert_eq!(exit.signal(), Some(15));
    /// ```
    pub fn signal(&self) -> Option<i32> {
        match self {
            Self::Signal { signal, .. } => Some(*signal),
            _ => None,
        }
    }

    /// Whether the exit was seen at all.
    ///
    /// ```
    /// assert!(!harness::Exit::Unknown { why: "lost".into() }.is_known());
    /// ```
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown { .. })
    }
}

impl From<ExitStatus> for Exit {
    fn from(status: ExitStatus) -> Self {
        if let Some(code) = status.code() {
            return Self::Code(code);
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(signal) = status.signal() {
                return Self::Signal {
                    signal,
                    core_dumped: status.core_dumped(),
                };
            }
        }
        Self::Unknown {
            why: format!("unrecognized status {status}"),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(code) => write!(f, "exit code {code}"),
            Self::Signal {
                signal,
                core_dumped,
            } => {
                let core = if *core_dumped { ", core dumped" } else { "" };
                match crate::process::signal_name(*signal) {
                    Some(name) => write!(f, "signal {signal} ({name}{core})"),
                    None => write!(f, "signal {signal}{core}"),
                }
            }
            Self::Unknown { why } => write!(f, "exit unknown ({why})"),
        }
    }
}
