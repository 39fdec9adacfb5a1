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
//!   Each server registers its group itself, between clone and exec, so while the watchdog runs no
//!   server runs unregistered.
//!   A descendant that moves itself to another process group or session (`setsid`) escapes both.
//! - **macOS and other Unix**: the watchdog alone (there is no parent-death signal).
//! - **Windows**: a job object with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`; the kernel closes the job
//!   handle when the test process dies, which ends every process in the job.
//!
//! A server's group stays reserved while the harness holds it: the leader is only reaped after the
//! group was killed, so its number can never be reused by an unrelated group in between.

//!
//! **How a child is started (Linux).** Servers are not started with `std::process::Command`: a
//! `pre_exec` closure (which the parent-death signal and the self-registration need) forces std to
//! `fork()`, which copies the page tables of the whole test process and made a spawn ~1.5× a raw
//! one. Instead [`linux`] does what glibc's `posix_spawn` does internally, `clone(CLONE_VM |
//! CLONE_VFORK)` on a stack of its own, and runs only raw, async-signal-safe system calls in the
//! child before `execve` (see its docs for the list and why each is safe). `HARNESS_SPAWN_METHOD`
//! (read once; `clone`, `clone-direct`, `fork`, `posix_spawn`) selects another method for the
//! bench's side-by-side comparison only: `posix_spawn` registers with the watchdog from the parent,
//! which leaves a window, and `clone-direct` skips the spawner thread (the parent-death signal then
//! follows the calling thread); neither is meant for real use.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ChildStderr, ChildStdin, ChildStdout, ExitStatus};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;
#[cfg(unix)]
mod watchdog;

pub use os::{Group, configure, spawn, tie_to_parent, wait_exit};
pub(crate) use os::{signal_name, try_exit};

/// What a child's stdin, stdout or stderr is connected to.
#[derive(Debug)]
pub(crate) enum Stdio {
    /// The same as this process's.
    Inherit,
    /// `/dev/null` (`NUL` on Windows).
    Null,
    /// A new pipe; this process gets the other end in [`Child`].
    Piped,
    /// An open file.
    File(File),
}

impl Stdio {
    /// See [`Stdio::Null`].
    pub(crate) fn null() -> Self {
        Self::Null
    }

    /// See [`Stdio::Piped`].
    pub(crate) fn piped() -> Self {
        Self::Piped
    }

    fn into_std(self) -> std::process::Stdio {
        match self {
            Self::Inherit => std::process::Stdio::inherit(),
            Self::Null => std::process::Stdio::null(),
            Self::Piped => std::process::Stdio::piped(),
            Self::File(file) => file.into(),
        }
    }
}

impl From<File> for Stdio {
    fn from(file: File) -> Self {
        Self::File(file)
    }
}

/// A command to start: the subset of `std::process::Command` the harness uses, with the same
/// method names, plus what [`configure`] and [`tie_to_parent`] set. Unlike std's, what it holds
/// can be read back, which the Linux spawner needs to start the child itself.
#[derive(Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    /// Changes to this process's environment, in order: `None` removes the variable.
    env: Vec<(OsString, Option<OsString>)>,
    current_dir: Option<PathBuf>,
    stdio: [Stdio; 3],
    /// Lead a new process group (Unix).
    #[cfg_attr(windows, expect(dead_code, reason = "Unix only"))]
    group: bool,
    /// `PR_SET_PDEATHSIG = SIGKILL` (Linux).
    #[cfg_attr(not(target_os = "linux"), expect(dead_code, reason = "Linux only"))]
    parent_death: bool,
    /// Register the group with the watchdog before exec (Unix).
    #[cfg_attr(windows, expect(dead_code, reason = "Unix only"))]
    register: bool,
}

impl Command {
    /// A command running `program`, with stdin, stdout and stderr inherited.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            current_dir: None,
            stdio: [Stdio::Inherit, Stdio::Inherit, Stdio::Inherit],
            group: false,
            parent_death: false,
            register: false,
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable.
    pub(crate) fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.env_change(key.as_ref(), Some(value.as_ref()))
    }

    /// Sets (`Some`) or removes (`None`) an environment variable: one change, in order.
    pub(crate) fn env_change(&mut self, key: &OsStr, value: Option<&OsStr>) -> &mut Self {
        self.env.push((key.to_owned(), value.map(OsStr::to_owned)));
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (key, value) in vars {
            self.env(key, value);
        }
        self
    }

    /// The child's working directory.
    pub(crate) fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// The child's stdin.
    pub(crate) fn stdin(&mut self, stdio: impl Into<Stdio>) -> &mut Self {
        self.stdio[0] = stdio.into();
        self
    }

    /// The child's stdout.
    pub(crate) fn stdout(&mut self, stdio: impl Into<Stdio>) -> &mut Self {
        self.stdio[1] = stdio.into();
        self
    }

    /// The child's stderr.
    pub(crate) fn stderr(&mut self, stdio: impl Into<Stdio>) -> &mut Self {
        self.stdio[2] = stdio.into();
        self
    }

    /// The child's environment: this process's with the changes applied. The one place the
    /// changes are applied, for both spawners.
    fn environment(&self) -> Vec<(OsString, OsString)> {
        let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        for (key, value) in &self.env {
            vars.retain(|(k, _)| k != key);
            if let Some(value) = value {
                vars.push((key.clone(), value.clone()));
            }
        }
        vars
    }

    /// The same command for `std::process::Command` (stdio taken out of `self`); the caller adds
    /// the group and the registration.
    fn take_std(&mut self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(&self.args).env_clear().envs(self.environment());
        if let Some(dir) = &self.current_dir {
            cmd.current_dir(dir);
        }
        let [stdin, stdout, stderr] = std::mem::replace(
            &mut self.stdio,
            [Stdio::Inherit, Stdio::Inherit, Stdio::Inherit],
        );
        cmd.stdin(stdin.into_std())
            .stdout(stdout.into_std())
            .stderr(stderr.into_std());
        cmd
    }
}

/// A started child: std's `Child` API as far as the harness uses it (`id`, the three pipes,
/// `wait`). Dropping it neither kills nor reaps the process, as with std.
#[derive(Debug)]
pub struct Child {
    pid: u32,
    /// Whether the child registered its group with the watchdog before it could run.
    #[cfg_attr(windows, expect(dead_code, reason = "Unix only"))]
    registered: bool,
    /// This process's end of the child's stdin, when piped.
    #[expect(
        dead_code,
        reason = "as std's; no caller pipes stdin yet, but the end must stay open"
    )]
    pub(crate) stdin: Option<ChildStdin>,
    /// This process's end of the child's stdout, when piped.
    pub(crate) stdout: Option<ChildStdout>,
    /// This process's end of the child's stderr, when piped.
    pub(crate) stderr: Option<ChildStderr>,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// Started by `std::process::Command`.
    Std(std::process::Child),
    /// Started by the Linux spawner; `Some` once reaped.
    #[cfg(target_os = "linux")]
    Raw(Option<ExitStatus>),
}

impl Child {
    fn from_std(mut child: std::process::Child, registered: bool) -> Self {
        Self {
            pid: child.id(),
            registered,
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: child.stderr.take(),
            inner: Inner::Std(child),
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Reaps the child if it has exited, without blocking.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.inner {
            Inner::Std(child) => child.try_wait(),
            #[cfg(target_os = "linux")]
            Inner::Raw(Some(status)) => Ok(Some(*status)),
            #[cfg(target_os = "linux")]
            Inner::Raw(_) => match try_exit(self.pid)? {
                Some(_) => self.wait().map(Some),
                None => Ok(None),
            },
        }
    }

    /// Waits for the child to exit and reaps it. Once reaped, its id is free for reuse.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        match &mut self.inner {
            Inner::Std(child) => child.wait(),
            #[cfg(target_os = "linux")]
            Inner::Raw(Some(status)) => Ok(*status),
            #[cfg(target_os = "linux")]
            Inner::Raw(reaped) => {
                let status = linux::reap(self.pid)?;
                *reaped = Some(status);
                Ok(status)
            }
        }
    }
}

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
