//! A server another process started and owns (`harness serve`, a nextest setup script), found
//! through the variables that process exported: `NAME_URL`, and `NAME_PID`, `NAME_INSTANCE_ID`,
//! `NAME_LOG` when it gave them. Attaching starts nothing and stopping stops nothing.

use std::path::PathBuf;
use std::time::Duration;

use crate::Exit;
use crate::logs::{Logs, Stream};

/// What the harness knows of a server it attached to.
#[derive(Debug)]
pub(crate) struct Attached {
    pub(crate) name: String,
    /// Its process id (`NAME_PID`), when exported.
    pub(crate) pid: Option<u32>,
    /// The nonce it was started with (`NAME_INSTANCE_ID`), when exported.
    pub(crate) instance_id: String,
    /// Where its owner writes its output (`NAME_LOG`), when exported.
    pub(crate) log: Option<PathBuf>,
    /// `attached to NAME_URL (pid P)`: there is no command line of ours to show.
    pub(crate) command: String,
}

/// How often [`Attached::exited`] looks whether the process is still there.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// The most of the log file read for [`Attached::logs`]: the bounds the harness keeps anyway.
const READ_AT_MOST: u64 = crate::logs::MAX_BYTES as u64;

impl Attached {
    /// The last lines of its log file, as stderr lines (the file holds both streams, combined).
    /// Empty without a log file; an unreadable one gives one line saying why.
    pub(crate) fn logs(&self) -> Logs {
        let Some(path) = &self.log else {
            return Logs::default();
        };
        match read_tail(path) {
            Ok(text) => Logs::from_lines(Stream::Stderr, text.lines()),
            Err(e) => Logs::from_lines(
                Stream::Stderr,
                [format!("harness: cannot read {}: {e}", path.display()).as_str()],
            ),
        }
    }

    /// [`Exit::Unknown`] once the process is gone (its exit status belongs to the process that
    /// started it), `None` while it runs or when there is no pid to look at.
    pub(crate) fn try_exit(&self) -> Option<Exit> {
        let pid = self.pid?;
        (!is_live(pid)).then(|| self.gone(pid))
    }

    /// Waits until the process is gone. Without a pid it cannot be watched, so this never
    /// returns: bound it with a timeout.
    pub(crate) async fn exited(&self) -> Exit {
        loop {
            if let Some(exit) = self.try_exit() {
                return exit;
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }

    /// What stopping an attached server does: nothing; it belongs to its owner.
    pub(crate) fn stop(&self) -> Exit {
        match self.try_exit() {
            Some(exit) => exit,
            None => Exit::Unknown {
                why: format!(
                    "{} was attached to, not started, so it was left running for its owner",
                    self.name
                ),
            },
        }
    }

    fn gone(&self, pid: u32) -> Exit {
        Exit::Unknown {
            why: format!(
                "attached server {} (pid {pid}) is gone; its exit status went to the process that started it",
                self.name
            ),
        }
    }
}

/// The last [`READ_AT_MOST`] bytes of `path`, from a line start.
fn read_tail(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let skip = len.saturating_sub(READ_AT_MOST);
    file.seek(SeekFrom::Start(skip))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if skip > 0 {
        let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
        text.drain(..first_line_end);
    }
    Ok(text)
}

#[cfg(target_os = "linux")]
fn is_live(pid: u32) -> bool {
    crate::procfs::is_live(pid)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn is_live(pid: u32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else {
        return false;
    };
    rustix::process::test_kill_process(pid).is_ok()
}

#[cfg(not(unix))]
fn is_live(_pid: u32) -> bool {
    true
}

/// The prefix of a server's variables: its name upper-cased with `-` turned into `_` (`web-api`
/// gives `WEB_API_URL`), `None` for a name that cannot be part of a variable name. The one rule
/// for both sides: `harness run|serve` exports them, [`SharedServer`](crate::SharedServer) reads
/// them.
pub(crate) fn env_prefix(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then(|| name.to_ascii_uppercase().replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_upper_case_with_underscores() {
        assert_eq!(env_prefix("web-api").as_deref(), Some("WEB_API"));
        assert_eq!(
            env_prefix("fixtures_app2").as_deref(),
            Some("FIXTURES_APP2")
        );
        for bad in ["", "a b", "web.app", "wéb"] {
            assert_eq!(env_prefix(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_log_tail_starts_at_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let line = "x".repeat(99);
        let text: String = (0..(READ_AT_MOST / 100 + 50))
            .map(|i| format!("{i:08}{line}\n"))
            .collect();
        std::fs::write(&path, &text).unwrap();
        let tail = read_tail(&path).unwrap();
        assert!(tail.len() as u64 <= READ_AT_MOST);
        let first = tail.lines().next().unwrap();
        assert_eq!(first.len(), 107, "a whole line: {first:?}");
        assert!(text.ends_with(&tail));
    }
}
