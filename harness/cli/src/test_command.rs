//! The test command of `harness run`: started so that it cannot outlive `harness`.
//!
//! Where it runs is a trade-off between terminal access and death-proof cleanup:
//!
//! - **Usually** (stdin is not a terminal, or `harness` is not in the terminal's foreground: CI,
//!   scripts, test runners, where a timeout's SIGKILL is realistic) it leads a process group of its
//!   own, exactly like a server: `PR_SET_PDEATHSIG` on Linux and the watchdog kill the whole group,
//!   grandchildren included, even if `harness` is SIGKILLed. SIGINT and SIGTERM are forwarded to the
//!   whole group, as a terminal's Ctrl-C would reach it. When the command exits, whatever it left
//!   running in its group is killed.
//! - **Interactively** (stdin is the terminal and `harness` is in its foreground process group) it
//!   stays in `harness`'s group, so it can read the terminal (a background group would be stopped by
//!   SIGTTIN) and gets Ctrl-C straight from the terminal (so `harness` does not send SIGINT again;
//!   it forwards SIGTERM to it). Only the command itself has the parent-death signal; if the
//!   terminal closes, its SIGHUP reaches the rest.

use std::ffi::OsString;
use std::io;
use std::process::ExitStatus;

use harness::Exit;

use tokio::sync::oneshot;

use super::signals::Stop;
use harness::__cli::process::{self, Child, Command, Group};

/// A running test command.
#[derive(Debug)]
pub(crate) struct TestCommand {
    child: Child,
    /// `Some` when the command leads its own process group.
    group: Option<Group>,
    exit: oneshot::Receiver<io::Result<ExitStatus>>,
    status: Option<Exit>,
    finished: bool,
}

impl TestCommand {
    /// Starts `argv` with the extra environment `env`; stdin, stdout and stderr are inherited.
    pub(crate) async fn spawn(argv: &[OsString], env: &[(String, String)]) -> io::Result<Self> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::other("empty test command"))?;
        let mut cmd = Command::new(program);
        cmd.args(args).envs(env.iter().map(|(k, v)| (k, v)));
        let own_group = !in_terminal_foreground();
        if own_group {
            process::configure(&mut cmd, false);
        } else {
            process::tie_to_parent(&mut cmd);
        }
        let child = process::spawn(cmd).await?;
        let group = own_group.then(|| Group::adopt(&child, false));
        let pid = child.id();
        let (tx, exit) = oneshot::channel();
        // Waits without reaping, so the pid (and group id) cannot be reused while we may signal it.
        let waiter = std::thread::Builder::new()
            .name("harness-test-wait".into())
            .spawn(move || {
                let _ = tx.send(process::wait_exit(pid));
            });
        let this = Self {
            child,
            group,
            exit,
            status: None,
            finished: false,
        };
        if let Err(e) = waiter {
            this.kill();
            return Err(e);
        }
        Ok(this)
    }

    /// Passes a stop request on to the command (see the module docs for who gets what).
    pub(crate) fn forward(&self, stop: Stop) {
        match (&self.group, stop) {
            (Some(group), Stop::Interrupt) => group.interrupt(),
            (Some(group), Stop::Terminate) => group.terminate(),
            // The terminal sent SIGINT to our whole foreground group, the command included.
            (None, Stop::Interrupt) => {}
            (None, Stop::Terminate) => self.signal_leader(Stop::Terminate),
        }
    }

    /// Kills the command (its whole group when it has one) at once.
    pub(crate) fn kill(&self) {
        match &self.group {
            Some(group) => group.kill(),
            None =>
            {
                #[cfg(unix)]
                if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
        }
    }

    #[cfg_attr(not(unix), expect(unused_variables, reason = "no signals on Windows"))]
    fn signal_leader(&self, stop: Stop) {
        #[cfg(unix)]
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let signal = match stop {
                Stop::Interrupt => rustix::process::Signal::INT,
                Stop::Terminate => rustix::process::Signal::TERM,
            };
            let _ = rustix::process::kill_process(pid, signal);
        }
    }

    /// Waits until the command exits. Cancel-safe: call it again after a `select!` let go.
    ///
    /// A wait that fails is [`Exit::Unknown`], never a success: the reaping wait tried next fails
    /// too when someone else reaped the command (the kernel, with SIGCHLD ignored).
    pub(crate) async fn exited(&mut self) -> Exit {
        if let Some(status) = &self.status {
            return status.clone();
        }
        let status = match (&mut self.exit).await {
            Ok(Ok(status)) => Exit::from(status),
            Ok(Err(error)) => self.reaping_wait(&format!("waiting for it failed: {error}")),
            Err(_) => self.reaping_wait("its waiting thread ended without a word"),
        };
        self.status = Some(status.clone());
        status
    }

    fn reaping_wait(&mut self, first: &str) -> Exit {
        match self.child.try_wait() {
            Ok(Some(status)) => Exit::from(status),
            Ok(None) => Exit::Unknown {
                why: format!("{first}, and it has not exited"),
            },
            Err(error) => Exit::Unknown {
                why: format!("{first}; reaping it failed too: {error}"),
            },
        }
    }

    /// After [`exited`](Self::exited): kills what the command left in its group, reaps it.
    pub(crate) fn finish(mut self) {
        self.reap();
    }

    fn reap(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        // Kill, unregister from the watchdog, then reap: once reaped the id may be reused. The
        // kill also bounds the reaping wait when the exit was never seen.
        self.kill();
        if let Some(group) = &mut self.group {
            group.release();
        }
        let _ = self.child.wait();
    }
}

impl Drop for TestCommand {
    fn drop(&mut self) {
        if !self.finished {
            self.kill();
            self.reap();
        }
    }
}

/// Whether stdin is a terminal whose foreground process group is ours.
fn in_terminal_foreground() -> bool {
    use std::io::IsTerminal;
    if !io::stdin().is_terminal() {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        harness::__cli::in_foreground_group().unwrap_or(true)
    }
    #[cfg(not(target_os = "linux"))]
    cfg!(unix)
}
