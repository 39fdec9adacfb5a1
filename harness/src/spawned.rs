//! [`Spawned`]: a server process, its process group and the threads that watch it, owned as one
//! value from the moment the OS returns the child.
//!
//! Every step after the spawn can fail (a watcher thread that cannot start, a kept server's files
//! that cannot be opened, readiness, checks). Because the child is wrapped the instant it exists,
//! each of those failures is an ordinary `?`: dropping the `Spawned` kills the whole group and
//! reaps the leader, so no error path can leave a process behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::keep::KeptOutput;
use crate::logs::Stream;
use crate::monitor::{DRAIN_LIMIT, Monitor};
use crate::process::{self, Child, Command, Group};
use crate::{Error, Exit, Failure, Ready};

/// How long a SIGKILLed leader gets to be reported gone before the harness gives up on it.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// What a spawn needs to know besides the command.
#[derive(Debug)]
pub(crate) struct Launch {
    pub(crate) name: String,
    pub(crate) command: String,
    pub(crate) instance_id: String,
    pub(crate) echo: bool,
    /// Where a kept server (`HARNESS_KEEP`) writes its output; `None`: pipes, and cleanup.
    pub(crate) kept: Option<KeptOutput>,
    /// The readiness rule for stdout, and for stderr when it reads stderr.
    pub(crate) ready: Ready,
    /// A test hook: fail right after the spawn, as a later step would (see
    /// [`Server::fail_after_spawn`](crate::Server::fail_after_spawn)).
    pub(crate) fail_after_spawn: bool,
    /// Where every line also goes ([`Server::log_file`](crate::Server::log_file)).
    pub(crate) log: Option<std::fs::File>,
}

/// A spawned server: child, group and monitor in one value whose `Drop` kills and reaps the group.
#[derive(Debug)]
pub(crate) struct Spawned {
    name: String,
    command: String,
    instance_id: String,
    pid: u32,
    started: Instant,
    /// `None` once reaped.
    child: Option<Child>,
    group: Group,
    monitor: Arc<Monitor>,
    kept: Option<KeptOutput>,
    /// Set once the group was signalled to die: a kept server that failed is not kept.
    killed: AtomicBool,
    /// The pipes' inodes, to name whoever still holds them (Linux).
    pipes: Vec<u64>,
    /// Whether the exit-watching thread runs; without it the exit is reaped directly.
    watching: bool,
    /// Set once the output's end was waited for (or leaks were reported): `Drop` does not wait
    /// or report again.
    drain_settled: AtomicBool,
    /// Where it listens, for the keep message.
    pub(crate) url: Option<String>,
}

impl Spawned {
    /// Spawns `cmd` (already [configured](process::configure)) and starts watching it.
    pub(crate) async fn start(cmd: Command, mut launch: Launch) -> Result<Self, Error> {
        let spawn_error = |source| Error::Spawn {
            command: launch.command.clone(),
            source,
        };
        let started = Instant::now();
        let keep = launch.kept.is_some();
        let child = process::spawn(cmd).await.map_err(spawn_error)?;
        let pid = child.id();
        let group = Group::adopt(&child, keep);
        let mut this = Self {
            name: launch.name.clone(),
            command: launch.command.clone(),
            instance_id: launch.instance_id.clone(),
            pid,
            started,
            child: Some(child),
            group,
            monitor: Monitor::new(launch.name.clone(), launch.echo, launch.log.take()),
            kept: launch.kept.clone(),
            killed: AtomicBool::new(false),
            pipes: Vec::new(),
            watching: false,
            drain_settled: AtomicBool::new(false),
            url: None,
        };
        // From here on `this` owns the group: an error below kills it (a kept server too: it is
        // only kept once it started) and dropping `this` reaps it.
        if let Err(e) = this.watch(&launch) {
            this.kill_group();
            return Err(spawn_error(e));
        }
        if launch.fail_after_spawn {
            this.wait_for_first_line().await;
            this.kill_group();
            return Err(spawn_error(std::io::Error::other(
                "failed on purpose after the spawn (Server::fail_after_spawn)",
            )));
        }
        Ok(this)
    }

    /// For the test hook: the server got as far as printing a line (bounded), so that whatever
    /// it forks first exists when the hook fails.
    async fn wait_for_first_line(&self) {
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.monitor.logs().stdout().next().is_none() && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn watch(&mut self, launch: &Launch) -> std::io::Result<()> {
        let stderr_rule = launch.ready.reads_stderr().then(|| launch.ready.clone());
        let stdout_rule = Some(launch.ready.clone());
        match &self.kept {
            Some(paths) => {
                let (stdout, stderr) = paths.follow(&self.monitor)?;
                self.monitor.drain(stdout, Stream::Stdout, stdout_rule)?;
                self.monitor.drain(stderr, Stream::Stderr, stderr_rule)?;
            }
            None => {
                let child = self.child.as_mut().expect("not reaped yet");
                let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
                let (Some(stdout), Some(stderr)) = (stdout, stderr) else {
                    return Err(std::io::Error::other("stdout and stderr were not piped"));
                };
                #[cfg(target_os = "linux")]
                {
                    self.pipes = [
                        crate::leaks::pipe_inode(&stdout),
                        crate::leaks::pipe_inode(&stderr),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                }
                self.monitor.drain(stdout, Stream::Stdout, stdout_rule)?;
                self.monitor.drain(stderr, Stream::Stderr, stderr_rule)?;
            }
        }
        self.monitor.watch_exit(self.pid)?;
        self.watching = true;
        Ok(())
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn command(&self) -> &str {
        &self.command
    }

    pub(crate) fn instance_id(&self) -> &str {
        &self.instance_id
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    pub(crate) fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// The exit, asking the OS now (see [`Monitor::check_exit`]).
    pub(crate) fn try_exit(&self) -> Option<Exit> {
        if self.child.is_none() {
            return self.monitor.exit_status();
        }
        self.monitor.check_exit(self.pid)
    }

    /// SIGTERM to the group.
    pub(crate) fn terminate(&self) {
        if self.child.is_some() {
            self.group.terminate();
        }
    }

    /// SIGKILL to the group, without reaping: the leader stays a zombie, so the group id stays
    /// reserved. Safe to call until [`kill_and_reap`](Self::kill_and_reap).
    pub(crate) fn kill_group(&self) {
        if self.child.is_some() {
            self.killed.store(true, Ordering::Relaxed);
            self.group.kill();
        }
    }

    /// Kills the group at once, then reads its output to the end (bounded), and says what
    /// happened. `exit` is what was seen before the kill (`None`: it was still running), so that
    /// our own SIGKILL is no part of the story.
    pub(crate) async fn fail(&self, exit: Option<Exit>) -> Failure {
        self.kill_group();
        self.check_drained().await;
        self.failure(exit)
    }

    /// The context of a failure, with the output read so far.
    pub(crate) fn failure(&self, exit: Option<Exit>) -> Failure {
        Failure {
            name: self.name.clone(),
            command: self.command.clone(),
            pid: self.pid,
            elapsed: self.started.elapsed(),
            status: exit,
            logs: self.monitor.logs(),
        }
    }

    /// Kills the group, waits for the leader (at most [`KILL_WAIT`]), reports survivors, reaps
    /// the leader and forgets the group. `None`: the leader did not die. Idempotent.
    pub(crate) fn kill_and_reap(&mut self) -> Option<Exit> {
        let Some(mut child) = self.child.take() else {
            return self.monitor.exit_status();
        };
        self.killed.store(true, Ordering::Relaxed);
        self.group.kill();
        if !self.watching {
            // No thread waits for the exit: reap it here, bounded by the SIGKILL just sent.
            self.group.release();
            return Some(match child.wait() {
                Ok(status) => Exit::from(status),
                Err(e) => Exit::Unknown {
                    why: format!("waiting for pid {} failed: {e}", self.pid),
                },
            });
        }
        let exit = self.monitor.wait_exit_blocking(KILL_WAIT);
        if exit.is_none() {
            tracing::warn!(server = %self.name, pid = self.pid, "server did not die after SIGKILL");
            // Still unreaped: the group id stays reserved, and the watchdog keeps it.
            self.child = Some(child);
            return None;
        }
        #[cfg(target_os = "linux")]
        let survivors = crate::leaks::group_survivors(self.group.id(), self.pid);
        #[cfg(not(target_os = "linux"))]
        let survivors: Vec<()> = Vec::new();
        if survivors.is_empty() {
            // The leader stayed a zombie until now, so the group id could not be reused before
            // the kill above. Unregister first, then reap: once reaped, the id is free.
            self.group.release();
        } else {
            // The group still has members, so its id cannot be reused: the watchdog keeps it
            // and kills them when this process exits. They hold the pipes too: no second report.
            self.drain_settled.store(true, Ordering::Relaxed);
            #[cfg(target_os = "linux")]
            crate::leaks::warn(
                &self.name,
                "left processes in its group after SIGKILL (they die when this process exits)",
                &survivors,
            );
        }
        let _ = child.wait();
        exit
    }

    /// After the group is dead: waits (bounded) for the pipes to close, and reports whoever
    /// still holds them: a process that escaped the group.
    pub(crate) async fn check_drained(&self) {
        if self.drain_settled.swap(true, Ordering::Relaxed) || self.kept.is_some() {
            return;
        }
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        if !self.monitor.wait_drained(deadline).await {
            self.report_pipe_holders();
        }
    }

    fn check_drained_blocking(&self) {
        if self.drain_settled.swap(true, Ordering::Relaxed) || self.kept.is_some() {
            return;
        }
        if !self.monitor.wait_drained_blocking(DRAIN_LIMIT) {
            self.report_pipe_holders();
        }
    }

    fn report_pipe_holders(&self) {
        #[cfg(target_os = "linux")]
        {
            let holders = crate::leaks::pipe_holders(&self.pipes);
            if !holders.is_empty() {
                crate::leaks::warn(
                    &self.name,
                    "still has its output pipes held open after it stopped (escaped its process group)",
                    &holders,
                );
                return;
            }
        }
        crate::leaks::warn_unnamed(&self.name, DRAIN_LIMIT);
    }

    fn keep_message(&self) {
        use std::io::Write;
        let at = self.url.as_deref().unwrap_or("(not ready)");
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "harness: HARNESS_KEEP is set: leaving server `{}` running (pid {}) at {at}; stop it with: kill -TERM -- -{}",
            self.name,
            self.pid,
            self.group.id()
        );
        if let Some(kept) = &self.kept {
            let _ = writeln!(
                err,
                "harness: its output goes to {} and {}",
                kept.stdout.display(),
                kept.stderr.display()
            );
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        if self.kept.is_some() && !self.killed.load(Ordering::Relaxed) {
            self.keep_message();
            return;
        }
        if self.kill_and_reap().is_some() {
            self.check_drained_blocking();
        }
    }
}
