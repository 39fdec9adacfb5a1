//! The exit statuses of the `harness` command.
//!
//! | status | meaning |
//! |---|---|
//! | TEST_COMMAND's | `run`: the test command's own exit code (0 only when it was seen exiting 0) |
//! | 128+N | `run`: the test command died of signal N; either command: `harness` was stopped by signal N (130 SIGINT, 143 SIGTERM), whatever the test command returned |
//! | 1 | `harness` itself failed (e.g. could not start its runtime) |
//! | 2 | bad input, found before anything started |
//! | 3 | a server or the driver did not become ready |
//! | 4 | a server died while the tests ran (and they passed), or while `serve` ran |
//! | 5 | the test command's exit could not be observed (the wait for it failed) |
//! | 126 | the test command was found but could not be started |

use std::process::ExitCode;

use harness::Exit;

/// A usage error: nothing was started.
pub(crate) const USAGE: u8 = 2;
/// A server (or the browser driver) did not become ready.
pub(crate) const NOT_READY: u8 = 3;
/// A server died while the tests ran (and the tests passed), or while `serve` ran.
pub(crate) const SERVER_DIED: u8 = 4;
/// Nobody saw how the test command ended: never a success.
pub(crate) const EXIT_UNKNOWN: u8 = 5;
/// The test command was found but could not be started (as a shell says for a command it cannot
/// execute).
pub(crate) const CANNOT_EXECUTE: u8 = 126;

/// The status a shell would report for `exit`: the exit code, or 128+N after signal N, and
/// [`EXIT_UNKNOWN`] when the exit was not seen. 0 only for an observed exit code 0.
pub(crate) fn code_of(exit: &Exit) -> u8 {
    match exit {
        // Exit codes are 0..=255 on Unix; Windows codes are wider, so keep "non-zero" non-zero.
        Exit::Code(code) => u8::try_from(*code).unwrap_or(1),
        Exit::Signal { signal, .. } => u8::try_from(128 + signal).unwrap_or(255),
        Exit::Unknown { .. } => EXIT_UNKNOWN,
        // `Exit` is `#[non_exhaustive]` across the package boundary: an exit of a kind this
        // binary does not know is not a success it can report.
        _ => EXIT_UNKNOWN,
    }
}

/// The status `harness` exits with after it was stopped by signal `number`.
pub(crate) fn after_signal(number: i32) -> ExitCode {
    ExitCode::from(u8::try_from(128 + number).unwrap_or(255))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_become_128_plus_n() {
        assert_eq!(code_of(&Exit::Code(5)), 5);
        assert_eq!(code_of(&Exit::Code(0)), 0);
        let signal = |signal| Exit::Signal {
            signal,
            core_dumped: false,
        };
        assert_eq!(code_of(&signal(15)), 143);
        assert_eq!(code_of(&signal(9)), 137);
    }

    #[test]
    fn an_unseen_exit_is_never_zero() {
        let unknown = Exit::Unknown {
            why: "ECHILD".into(),
        };
        assert_eq!(code_of(&unknown), EXIT_UNKNOWN);
        assert_ne!(EXIT_UNKNOWN, 0);
        assert_eq!(code_of(&Exit::Code(256)), 1, "wide codes stay non-zero");
    }
}
