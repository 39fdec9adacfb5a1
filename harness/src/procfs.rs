//! Reading `/proc` (Linux), in one place: the process list, the one parser of `/proc/PID/stat`,
//! a process's open descriptors and command line, and its view of the TCP tables. What the
//! contents mean (a leak, a listener) is for `leaks` and `listening` to decide. The tests'
//! `test-support` crate reads processes through it too (`harness::__cli::process_is_live`).

use std::io;
use std::path::PathBuf;

/// The fields of `/proc/PID/stat` the harness uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stat {
    pub(crate) pid: u32,
    /// The command name, as the kernel keeps it (at most 15 bytes).
    pub(crate) comm: String,
    /// `R`, `S`, `D`, `Z` (zombie), `X` (dead), ...
    pub(crate) state: char,
    pub(crate) pgrp: u32,
    /// The foreground process group of the process's controlling terminal; `-1` without one.
    pub(crate) tpgid: i32,
}

impl Stat {
    /// Whether the process is still running: not a zombie awaiting its reap, not dead.
    pub(crate) fn is_live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

/// Parses a `/proc/PID/stat` line: `pid (comm) state ppid pgrp session tty_nr tpgid ...`. The command name is in
/// parentheses and may itself contain spaces and parentheses, so the fields after it are found
/// from the last `)`.
pub(crate) fn parse_stat(line: &str) -> Option<Stat> {
    let (head, rest) = line.rsplit_once(')')?;
    let (pid, comm) = head.split_once(" (")?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    let _session = fields.next()?;
    let _tty_nr = fields.next()?;
    let tpgid = fields.next()?.parse().ok()?;
    Some(Stat {
        pid: pid.trim().parse().ok()?,
        comm: comm.to_owned(),
        state,
        pgrp,
        tpgid,
    })
}

/// Whether process `pid` is running: it exists and is not a zombie awaiting its reap.
pub(crate) fn is_live(pid: u32) -> bool {
    stat(pid).is_some_and(|stat| stat.is_live())
}

/// The stat of process `pid`; `None` once it is gone (or `/proc` cannot be read).
pub(crate) fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process's stat. `Err` when `/proc` cannot be listed; a process that exits while being
/// listed is left out.
pub(crate) fn processes() -> io::Result<impl Iterator<Item = Stat>> {
    Ok(std::fs::read_dir("/proc")?
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat))
}

/// The processes of process group `pgid` (zombies included). `None` when `/proc` cannot be listed.
pub(crate) fn group_members(pgid: u32) -> Option<Vec<u32>> {
    Some(
        processes()
            .ok()?
            .filter(|p| p.pgrp == pgid)
            .map(|p| p.pid)
            .collect(),
    )
}

/// What process `pid`'s descriptors point to (`socket:[123]`, `pipe:[456]`, a path). `Err`
/// `NotFound` once it is gone; `PermissionDenied` for another user's process.
pub(crate) fn fd_targets(pid: u32) -> io::Result<impl Iterator<Item = PathBuf>> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok()))
}

/// Process `pid`'s command line, its arguments joined by spaces; `None` if gone or empty (a
/// kernel thread, a zombie).
pub(crate) fn cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let command = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    (!command.is_empty()).then_some(command)
}

/// `/proc/<pid>/net/<table>` (`tcp`, `tcp6`): the TCP sockets of `pid`'s network namespace. `pid`
/// is `"self"` or a number.
pub(crate) fn net_table(pid: impl std::fmt::Display, table: &str) -> io::Result<String> {
    std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_whose_command_has_spaces_and_parentheses() {
        let stat =
            parse_stat("4242 (we) ird (name)) S 1 4240 4239 0 -1 4194560 100 0 0 0").unwrap();
        assert_eq!(
            stat,
            Stat {
                pid: 4242,
                comm: "we) ird (name)".into(),
                state: 'S',
                pgrp: 4240,
                tpgid: -1,
            }
        );
        assert!(stat.is_live());
        let zombie = parse_stat("7 (sh) Z 1 7 7 0 -1 0").unwrap();
        assert!(!zombie.is_live());
        assert!(parse_stat("7 (sh)").is_none());
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn agrees_with_the_kernel_about_this_process() {
        let me = stat(std::process::id()).expect("our own stat");
        assert_eq!(me.pid, std::process::id());
        assert!(me.is_live());
        assert_eq!(
            me.pgrp,
            rustix::process::getpgrp().as_raw_pid().cast_unsigned()
        );
        assert!(group_members(me.pgrp).unwrap().contains(&me.pid));
        assert!(processes().unwrap().any(|p| p.pid == me.pid));
        assert!(cmdline(me.pid).is_some());
        assert!(fd_targets(me.pid).unwrap().next().is_some());
        assert!(net_table("self", "tcp").unwrap().starts_with("  sl"));
    }
}
