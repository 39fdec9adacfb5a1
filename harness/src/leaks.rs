//! Processes a stopped server left behind, found in `/proc` (Linux), so they are reported rather
//! than silently outliving the test: members of its group that survived SIGKILL, and processes
//! that escaped the group (`setsid`) but still hold its output pipes.

use std::fmt;
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

#[cfg(target_os = "linux")]
/// How long SIGKILLed members of a group get to be gone before they count as leaked: a SIGKILL
/// is delivered asynchronously, and a dead member stays a zombie until its parent reaps it.
const SETTLE: Duration = Duration::from_millis(250);

/// A process that outlived its server.
#[cfg_attr(not(target_os = "linux"), expect(dead_code, reason = "needs /proc"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leaked {
    pub(crate) pid: u32,
    pub(crate) command: String,
}

impl fmt::Display for Leaked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} ({})", self.pid, self.command)
    }
}

#[cfg(target_os = "linux")]
/// Live (not zombie) members of process group `pgid` other than `leader`, once they had
/// [`SETTLE`] to die.
pub(crate) fn group_survivors(pgid: u32, leader: u32) -> Vec<Leaked> {
    let until = Instant::now() + SETTLE;
    loop {
        let alive: Vec<Leaked> = processes()
            .filter(|p| p.pgrp == pgid && p.pid != leader && p.is_live())
            .map(leaked)
            .collect();
        if alive.is_empty() || Instant::now() >= until {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(target_os = "linux")]
/// Processes other than this one that hold a descriptor to one of the pipes `inodes`.
pub(crate) fn pipe_holders(inodes: &[u64]) -> Vec<Leaked> {
    let me = std::process::id();
    let wanted: Vec<String> = inodes.iter().map(|i| format!("pipe:[{i}]")).collect();
    processes()
        .filter(|p| p.pid != me)
        .filter(|p| {
            let Ok(mut targets) = crate::procfs::fd_targets(p.pid) else {
                return false;
            };
            targets.any(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
        })
        .map(leaked)
        .collect()
}

#[cfg(target_os = "linux")]
/// The inode of the pipe behind `fd`, which names it in `/proc/<pid>/fd`.
pub(crate) fn pipe_inode(fd: impl std::os::fd::AsFd) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let file = std::fs::File::from(fd.as_fd().try_clone_to_owned().ok()?);
    file.metadata().ok().map(|m| m.ino())
}

#[cfg(target_os = "linux")]
fn leaked(stat: crate::procfs::Stat) -> Leaked {
    Leaked {
        command: crate::procfs::cmdline(stat.pid).unwrap_or(stat.comm),
        pid: stat.pid,
    }
}

#[cfg(target_os = "linux")]
fn processes() -> impl Iterator<Item = crate::procfs::Stat> {
    crate::procfs::processes().into_iter().flatten()
}

/// Prints the leak warning, as nextest prints LEAK: on stderr, never failing.
#[cfg_attr(not(target_os = "linux"), expect(dead_code, reason = "needs /proc"))]
pub(crate) fn warn(server: &str, what: &str, leaked: &[Leaked]) {
    use std::io::Write;
    let list = leaked
        .iter()
        .map(Leaked::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        std::io::stderr().lock(),
        "harness: LEAK: server `{server}` {what}: {list}"
    );
}

/// The leak warning when the holders cannot be named (no `/proc`, or they are gone by now).
pub(crate) fn warn_unnamed(server: &str, waited: Duration) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr().lock(),
        "harness: LEAK: server `{server}` stopped, but its output pipes stayed open for {waited:?}: a process that escaped its process group still holds them"
    );
}
