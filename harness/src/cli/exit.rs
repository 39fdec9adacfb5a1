//! The exit statuses of the `harness` command.

use std::process::{ExitCode, ExitStatus};

/// A usage error: nothing was started.
pub(crate) const USAGE: u8 = 2;
/// A server (or the browser driver) did not become ready.
pub(crate) const NOT_READY: u8 = 3;
/// A server died while the tests ran (and the tests passed), or while `serve` ran.
pub(crate) const SERVER_DIED: u8 = 4;
/// The test command was found but could not be started (as a shell says for a command it cannot
/// execute).
pub(crate) const CANNOT_EXECUTE: u8 = 126;

/// The status a shell would report for `status`: the exit code, or 128+N after signal N.
pub(crate) fn code_of(status: &ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        // Exit codes are 0..=255 on Unix; Windows codes are wider, so keep "non-zero" non-zero.
        return u8::try_from(code).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from(128 + signal).unwrap_or(255);
        }
    }
    1
}

/// The status `harness` exits with after it was stopped by signal `number`.
pub(crate) fn after_signal(number: i32) -> ExitCode {
    ExitCode::from(u8::try_from(128 + number).unwrap_or(255))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn signals_become_128_plus_n() {
        assert_eq!(code_of(&ExitStatus::from_raw(5 << 8)), 5);
        assert_eq!(code_of(&ExitStatus::from_raw(15)), 143);
        assert_eq!(code_of(&ExitStatus::from_raw(9)), 137);
    }
}
