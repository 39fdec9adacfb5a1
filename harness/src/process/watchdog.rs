//! The watchdog: a tiny `/bin/sh` process that kills our servers' process groups when we die.
//!
//! `Drop` cannot run when the test process is killed (SIGKILL, `panic = "abort"`,
//! `std::process::exit`, a nextest timeout), and the parent-death signal reaches only the direct
//! child. So the first spawn also starts a shell, in a process group of its own (a Ctrl-C to the
//! terminal's foreground group must not reach it) and ignoring the usual termination signals, whose
//! stdin is a pipe from this process. `+PGID` is written when a server starts and `-PGID` once its
//! group is killed and reaped, and `dPATH` for a folder to delete at the end (browser profiles). The
//! kernel closes the pipe whenever this process ends, however it ends; the shell reads end-of-file,
//! sends SIGKILL to every group still registered, then deletes the folders.
//!
//! A server registers **itself**, between fork and exec ([`register_in_child`]): registering from
//! this process after the spawn returned would leave a window in which a SIGKILL of this process
//! kills the server (parent-death signal) but leaks whatever it had forked already. The child holds
//! a copy of the pipe until its exec, so the watchdog cannot see end-of-file before the
//! registration is in.

use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;

const SCRIPT: &str = r#"trap '' INT TERM HUP QUIT PIPE
groups=' '
dirs=''
while IFS= read -r line; do
  case $line in
    +*) groups="$groups${line#+} " ;;
    -*) id=${line#-}
        case $groups in *" $id "*) groups="${groups%% $id *} ${groups#* $id }" ;; esac ;;
    d*) dirs="$dirs${line#d}
" ;;
  esac
done
for group in $groups; do kill -s KILL -- "-$group" 2>/dev/null; done
printf '%s' "$dirs" | while IFS= read -r dir; do
  [ -n "$dir" ] || continue
  # A process killed a moment ago may still be writing there: try again, briefly.
  tries=0
  until rm -rf -- "$dir" 2>/dev/null || [ "$tries" -ge 20 ]; do tries=$((tries + 1)); sleep 0.1; done
done
"#;

/// The watchdog's stdin. No lock: every message is one short line written with one `write`, and
/// the kernel writes up to `PIPE_BUF` (at least 512) bytes to a pipe atomically, so lines from
/// concurrent writers never interleave.
static PIPE: OnceLock<Option<ChildStdin>> = OnceLock::new();

fn pipe() -> Option<&'static ChildStdin> {
    PIPE.get_or_init(|| match start() {
        Ok(stdin) => Some(stdin),
        Err(e) => {
            tracing::warn!(
                "harness: could not start the watchdog (/bin/sh): {e}; servers may outlive a killed test process"
            );
            None
        }
    })
    .as_ref()
}

fn start() -> std::io::Result<ChildStdin> {
    let mut child = Command::new("/bin/sh")
        .args(["-c", SCRIPT, "harness-watchdog"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    // The child is never waited for: it outlives this process by design, and then init reaps it.
    Ok(child.stdin.take().expect("stdin was piped"))
}

fn send(message: &str) -> bool {
    let Some(mut stdin) = pipe() else {
        return false;
    };
    debug_assert!(message.len() <= 512, "a watchdog line must stay atomic");
    stdin.write_all(message.as_bytes()).is_ok()
}

/// Where children report the pid they registered, so that a spawn that fails after the
/// registration (its exec failed) can be unregistered: its pid is free for reuse at once.
/// Spawns are serialized (see [`super::spawn`]), so what is in it belongs to the last spawn.
struct Reports {
    reader: PipeReader,
    writer: PipeWriter,
}

fn reports() -> Option<&'static Reports> {
    static REPORTS: OnceLock<Option<Reports>> = OnceLock::new();
    REPORTS
        .get_or_init(|| {
            let (reader, writer) = std::io::pipe().ok()?;
            Some(Reports { reader, writer })
        })
        .as_ref()
}

/// The watchdog pipe's descriptor, for a child that writes its own `+PID` line (the Linux
/// spawner); `None` when there is no watchdog. It lives in a static, is never closed, and is
/// close-on-exec, so the server itself does not inherit it.
#[cfg_attr(
    not(target_os = "linux"),
    expect(dead_code, reason = "the Linux spawner")
)]
pub(super) fn raw_fd() -> Option<RawFd> {
    Some(pipe()?.as_raw_fd())
}

/// Registers `pgid` from this process, after the spawn: only for the `posix_spawn` comparison
/// method, which has a window (see [`super`]). Returns whether the watchdog took it.
pub(super) fn register(pgid: u32) -> bool {
    send(&format!("+{pgid}\n"))
}

/// Has the child std spawns from `cmd` register its process group (its own pid: the caller set
/// `process_group(0)`) with the watchdog, before it execs. Returns whether it will. (The Linux
/// spawner writes the line itself, see `linux.rs`, and needs no report pipe: it learns through
/// shared memory whether the child registered.)
#[expect(
    unsafe_code,
    reason = "pre_exec is the only way to run code between fork and exec"
)]
pub(super) fn register_in_child(cmd: &mut Command) -> bool {
    let (Some(watchdog), Some(reports)) = (pipe(), reports()) else {
        return false;
    };
    let watchdog: RawFd = watchdog.as_raw_fd();
    let report: RawFd = reports.writer.as_raw_fd();
    // SAFETY: the closure runs between fork and exec and makes only async-signal-safe calls
    // (getpid, sigaction, write), allocating nothing. Both descriptors live in statics, never
    // closed, and are close-on-exec, so the server itself does not inherit them.
    unsafe {
        cmd.pre_exec(move || {
            let mut line = [0u8; 24];
            let line = pid_line(&mut line, rustix::process::getpid().as_raw_nonzero().get());
            let (watchdog, report) = (
                BorrowedFd::borrow_raw(watchdog),
                BorrowedFd::borrow_raw(report),
            );
            // A dead watchdog must not kill the child with SIGPIPE: ignore it for this one write,
            // then put back whatever std chose for the server.
            let mut ignore: libc::sigaction = std::mem::zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            let mut before: libc::sigaction = std::mem::zeroed();
            let ignoring = libc::sigaction(libc::SIGPIPE, &ignore, &mut before) == 0;
            let _ = rustix::io::write(watchdog, line);
            if ignoring {
                libc::sigaction(libc::SIGPIPE, &before, std::ptr::null_mut());
            }
            let _ = rustix::io::write(report, &line[1..]);
            Ok(())
        });
    }
    true
}

/// Writes `+PID\n` into `buf`, without allocating or panicking (an `i32` has at most 10 digits),
/// and returns it. Called between fork (or clone) and exec.
pub(super) fn pid_line(buf: &mut [u8; 24], pid: i32) -> &[u8] {
    let mut digits = [0u8; 12];
    let mut n = pid.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[0] = b'+';
    for (i, digit) in digits[..len].iter().rev().enumerate() {
        buf[1 + i] = *digit;
    }
    buf[1 + len] = b'\n';
    &buf[..len + 2]
}

/// Called right after every spawn, in the same serialized section: every pid reported but the
/// spawned child's own is unregistered. That is a child that registered itself and then failed to
/// exec (std reaped it already, so for a moment the watchdog held a free id), or one left over
/// from an earlier spawn that could not be checked.
pub(super) fn after_spawn(spawned: &io::Result<Child>) {
    let Some(reports) = reports() else { return };
    let waiting = rustix::io::ioctl_fionread(&reports.reader).unwrap_or(0);
    if waiting == 0 {
        return;
    }
    let mut text = vec![0u8; waiting as usize];
    if (&reports.reader).read_exact(&mut text).is_err() {
        return;
    }
    let ours = spawned.as_ref().ok().map(Child::id);
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|line| line.parse::<u32>().ok())
        .filter(|pid| Some(*pid) != ours)
        .for_each(unregister);
}

/// Forgets a process group that is gone.
pub(super) fn unregister(pgid: u32) {
    send(&format!("-{pgid}\n"));
}

/// Asks for `dir` to be deleted when this process ends; returns whether the watchdog took it.
pub(super) fn remove_on_exit(dir: &std::path::Path) -> bool {
    match dir.to_str() {
        Some(path) if !path.contains('\n') => send(&format!("d{path}\n")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::pid_line;

    #[test]
    fn pid_line_is_plus_decimal_newline() {
        let mut buf = [0u8; 24];
        assert_eq!(pid_line(&mut buf, 1), b"+1\n");
        assert_eq!(pid_line(&mut buf, 40_960), b"+40960\n");
        assert_eq!(pid_line(&mut buf, i32::MAX), b"+2147483647\n");
    }
}
