//! Processes that cannot outlive the test: the operating-system half of [`Server`](crate::Server).
//!
//! Every server is started as the leader of a new process group (Unix) or inside a job object
//! (Windows), so the whole tree it starts can be signalled at once. What is guaranteed:
//!
//! - **Linux**: the server gets `PR_SET_PDEATHSIG = SIGKILL`, armed from one spawner thread that lives
//!   as long as the process (the signal fires when the *thread* that forked exits, so tokio's
//!   short-lived blocking threads would be wrong), and the arming race is closed by re-checking the
//!   parent pid after `prctl`. A watchdog process (`/bin/sh`, in a process group of its own) holds a
//!   pipe from the test process; when the test process dies by any means, the pipe closes and the
//!   watchdog sends `SIGKILL` to every registered process group, which reaches grandchildren too.
//!   Each server registers its group itself, between fork and exec, so while the watchdog runs no
//!   server runs unregistered.
//!   A descendant that moves itself to another process group or session (`setsid`) escapes both.
//! - **macOS and other Unix**: the watchdog alone (there is no parent-death signal).
//! - **Windows**: a job object with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`; the kernel closes the job
//!   handle when the test process dies, which ends every process in the job.
//!
//! A server's group stays reserved while the harness holds it: the leader is only reaped after the
//! group was killed, so its number can never be reused by an unrelated group in between.

#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;
#[cfg(unix)]
mod watchdog;

#[cfg(feature = "cli")]
pub(crate) use os::tie_to_parent;
pub(crate) use os::{Group, configure, signal_name, spawn, try_exit, wait_exit};

/// Deletes `dir` when this process ends, however it ends (Unix: the watchdog does it). Returns
/// whether that is arranged.
#[cfg_attr(
    not(feature = "browser"),
    expect(dead_code, reason = "used for browser profiles")
)]
pub(crate) fn remove_on_exit(dir: &std::path::Path) -> bool {
    #[cfg(unix)]
    return watchdog::remove_on_exit(dir);
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}
