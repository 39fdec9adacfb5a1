//! Unix process groups, the parent-death signal, and exit statuses.

use std::borrow::Cow;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::ExitStatus;

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

use super::{Child, Command, watchdog};

/// Prepares `cmd` to lead a new process group, tied to this process's life unless `keep`: the
/// parent-death signal (Linux) and the child's own registration with the watchdog, both before it
/// execs. Spawn it with [`spawn`], then [`Group::adopt`] it.
pub fn configure(cmd: &mut Command, keep: bool) {
    cmd.group = true;
    if keep {
        return;
    }
    cmd.parent_death = cfg!(target_os = "linux");
    cmd.register = true;
}

/// Ties `cmd` to this process's life without giving it a process group of its own: on Linux it
/// gets `PR_SET_PDEATHSIG = SIGKILL`; elsewhere nothing (there is no parent-death signal). Used by
/// the `harness run` CLI for a test command that must stay in the terminal's foreground group.
pub fn tie_to_parent(cmd: &mut Command) {
    cmd.parent_death = cfg!(target_os = "linux");
}

/// How children are started; see the [module docs](super).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// `clone(CLONE_VM | CLONE_VFORK)` on the spawner thread (Linux; the default there).
    Clone,
    /// The same on the calling thread: only to measure what the spawner thread costs.
    CloneDirect,
    /// `std::process::Command` with `pre_exec`, which makes std `fork()` (the default elsewhere).
    Fork,
    /// `std::process::Command` without `pre_exec` (std uses `posix_spawn`), registered from the
    /// parent after the spawn: a window, and no parent-death signal. Only for comparison.
    PosixSpawn,
}

fn method() -> Method {
    static METHOD: std::sync::OnceLock<Method> = std::sync::OnceLock::new();
    *METHOD.get_or_init(|| {
        let default = if cfg!(target_os = "linux") {
            Method::Clone
        } else {
            Method::Fork
        };
        let chosen = match std::env::var("HARNESS_SPAWN_METHOD").as_deref() {
            Ok("clone") if cfg!(target_os = "linux") => Method::Clone,
            Ok("clone-direct") if cfg!(target_os = "linux") => Method::CloneDirect,
            Ok("fork") => Method::Fork,
            Ok("posix_spawn") => Method::PosixSpawn,
            _ => default,
        };
        if chosen != default {
            tracing::warn!("harness: HARNESS_SPAWN_METHOD={chosen:?}, for measurements only");
        }
        chosen
    })
}

/// Starts `cmd` now, on this thread, by `method`.
fn spawn_now(mut cmd: Command, method: Method) -> io::Result<Child> {
    #[cfg(target_os = "linux")]
    if matches!(method, Method::Clone | Method::CloneDirect) {
        return super::linux::spawn(&mut cmd);
    }
    let mut std_cmd = cmd.take_std();
    if cmd.group {
        std_cmd.process_group(0);
    }
    let in_child = method != Method::PosixSpawn;
    #[cfg(target_os = "linux")]
    if cmd.parent_death && in_child {
        arm_parent_death_signal(&mut std_cmd);
    }
    let registering = cmd.register && in_child && watchdog::register_in_child(&mut std_cmd);
    let spawned = std_cmd.spawn();
    if registering {
        watchdog::after_spawn(&spawned);
    }
    let child = spawned?;
    let registered = registering || (cmd.register && !in_child && watchdog::register(child.id()));
    Ok(Child::from_std(child, registered))
}

#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "pre_exec is the only way to run prctl in a child std forks"
)]
fn arm_parent_death_signal(cmd: &mut std::process::Command) {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs between fork and exec and only makes two raw syscalls through
    // rustix (prctl, getppid), which are async-signal-safe, and builds its error from an errno
    // (no allocation).
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            // The parent may have died between fork and prctl; then the signal never comes.
            if rustix::process::getppid() != Some(parent) {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// A process group led by a spawned server.
#[derive(Debug)]
pub struct Group {
    pgid: Pid,
    watched: bool,
}

impl Group {
    /// Takes charge of the group `child` leads; unless `keep`, the child registered it with the
    /// watchdog itself (see [`configure`]).
    pub fn adopt(child: &Child, keep: bool) -> Self {
        let pgid = Pid::from_raw(child.id() as i32).expect("a child pid is positive");
        let watched = !keep && child.registered;
        Self { pgid, watched }
    }

    /// The group id, which is also the leader's pid.
    pub(crate) fn id(&self) -> u32 {
        self.pgid.as_raw_nonzero().get() as u32
    }

    /// Asks every process of the group to stop (SIGTERM).
    pub fn terminate(&self) {
        let _ = rustix::process::kill_process_group(self.pgid, Signal::TERM);
    }

    /// Sends SIGINT to every process of the group, as a terminal's Ctrl-C would.
    pub fn interrupt(&self) {
        let _ = rustix::process::kill_process_group(self.pgid, Signal::INT);
    }

    /// Kills every process of the group (SIGKILL). Safe to call until the leader is reaped.
    pub fn kill(&self) {
        let _ = rustix::process::kill_process_group(self.pgid, Signal::KILL);
    }

    /// Forgets the group once it is killed and its leader reaped.
    pub fn release(&mut self) {
        if std::mem::take(&mut self.watched) {
            watchdog::unregister(self.id());
        }
    }
}

/// Blocks until `pid` exits, **without reaping it**, so its pid and group id stay reserved.
/// A wait that fails, or ends without a status, is an error, never a made-up status.
pub fn wait_exit(pid: u32) -> io::Result<ExitStatus> {
    exit_status(pid, WaitIdOptions::empty())?.ok_or_else(|| {
        io::Error::other(format!(
            "waitid for pid {pid} returned without an exit status"
        ))
    })
}

/// The exit status of `pid` if it has exited, without blocking and without reaping it.
pub(crate) fn try_exit(pid: u32) -> io::Result<Option<ExitStatus>> {
    exit_status(pid, WaitIdOptions::NOHANG)
}

fn exit_status(pid: u32, options: WaitIdOptions) -> io::Result<Option<ExitStatus>> {
    let pid = Pid::from_raw(pid as i32).ok_or_else(|| io::Error::other("pid 0"))?;
    loop {
        match rustix::process::waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | options,
        ) {
            Ok(Some(status)) => {
                let raw = if let Some(code) = status.exit_status() {
                    (code & 0xff) << 8
                } else if let Some(signal) = status.terminating_signal() {
                    signal | if status.dumped() { 0x80 } else { 0 }
                } else {
                    return Ok(None);
                };
                return Ok(Some(ExitStatus::from_raw(raw)));
            }
            Ok(None) => return Ok(None),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The name of signal `sig` (`SIGKILL`, `SIGRTMIN+3`), or `None` for a number that is not one.
pub(crate) fn signal_name(sig: i32) -> Option<Cow<'static, str>> {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::SIGSTKFLT => "SIGSTKFLT",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::SIGPWR => "SIGPWR",
        libc::SIGSYS => "SIGSYS",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        _ => return realtime_name(sig),
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        _ => return None,
    };
    Some(Cow::Borrowed(name))
}

/// `SIGRTMIN`, `SIGRTMIN+n`, `SIGRTMAX` (the names `kill -l` uses for real-time signals).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn realtime_name(sig: i32) -> Option<Cow<'static, str>> {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    Some(match sig {
        s if s == min => Cow::Borrowed("SIGRTMIN"),
        s if s == max => Cow::Borrowed("SIGRTMAX"),
        s if s > min && s < max => Cow::Owned(format!("SIGRTMIN+{}", s - min)),
        _ => return None,
    })
}

/// Says once, on stderr, when this process ignores SIGCHLD (a launcher that ignores it passes
/// that on through exec): the kernel then reaps children itself, so no exit can be observed
/// (they are reported as unknown) and a group id may be reused while the harness still holds it.
/// The library does not change the disposition behind its user's back; the CLI resets it.
#[expect(
    unsafe_code,
    reason = "sigaction is the only way to read a signal's disposition"
)]
fn warn_if_sigchld_ignored() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        // SAFETY: a null `act` only reads the current disposition into `old`, which is a valid,
        // zeroed `sigaction`.
        let ignored = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        };
        if ignored {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "harness: warning: SIGCHLD is ignored in this process (inherited from its launcher), so the kernel reaps servers itself: their exits cannot be observed and are reported as unknown; start the tests with SIGCHLD at its default"
            );
        }
    });
}

/// Spawns `cmd`. On Linux every spawn happens on one thread that lives as long as the process,
/// because the parent-death signal fires when the *thread* that forked exits, not the process.
pub async fn spawn(cmd: Command) -> io::Result<Child> {
    warn_if_sigchld_ignored();
    let method = method();
    #[cfg(target_os = "linux")]
    {
        if method == Method::CloneDirect {
            return spawn_now(cmd, method);
        }
        use std::sync::mpsc;
        type Job = (Command, tokio::sync::oneshot::Sender<io::Result<Unclaimed>>);
        // `Sender` is `Sync`: callers on any thread send through the one static, no lock.
        static SPAWNER: std::sync::OnceLock<mpsc::Sender<Job>> = std::sync::OnceLock::new();
        let spawner = SPAWNER.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("harness-spawner".into())
                .spawn(move || {
                    for (cmd, reply) in rx {
                        let spawned = spawn_now(cmd, method);
                        // If the caller is gone, the reply is dropped, and with it the child.
                        let _ = reply.send(spawned.map(|child| Unclaimed(Some(child))));
                    }
                })
                .expect("failed to start the harness spawner thread");
            tx
        });
        let (reply, result) = tokio::sync::oneshot::channel();
        spawner
            .send((cmd, reply))
            .map_err(|_| io::Error::other("the harness spawner thread is gone"))?;
        let spawned = result
            .await
            .map_err(|_| io::Error::other("the harness spawner thread is gone"))?;
        Ok(spawned?.claim())
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Serialized, as on Linux, for the watchdog's report pipe.
        // It guards no data, so a poisoned lock (a panicking spawn) is as good as a free one.
        static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        spawn_now(cmd, method)
    }
}

/// A child on its way from the spawner thread to the caller. If the caller's future is dropped
/// before it claims the child (a `timeout` or `select!` around `spawn`), nobody else knows the
/// process: dropping this kills its group and reaps it instead of leaking it.
#[cfg(target_os = "linux")]
struct Unclaimed(Option<Child>);

#[cfg(target_os = "linux")]
impl Unclaimed {
    fn claim(mut self) -> Child {
        self.0.take().expect("claimed once")
    }
}

#[cfg(target_os = "linux")]
impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let Some(mut orphan) = self.0.take() {
            if let Some(pgid) = Pid::from_raw(orphan.id() as i32) {
                let _ = rustix::process::kill_process_group(pgid, Signal::KILL);
            }
            // It may have registered itself; unregister before the reap frees its id.
            if orphan.registered {
                watchdog::unregister(orphan.id());
            }
            let _ = orphan.wait();
        }
    }
}

#[cfg(test)]
#[path = "unix/tests.rs"] // this file is module `os` by #[path], so name its child's file
mod tests;
