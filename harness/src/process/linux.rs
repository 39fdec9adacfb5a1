//! Linux: starting a child with `clone(CLONE_VM | CLONE_VFORK)`, as glibc's `posix_spawn` does,
//! but with the harness's own steps between clone and exec.
//!
//! Everything that allocates, takes a lock or can fail for a reason other than a system call is
//! done **before** the clone, in the parent: the program paths to try (the `PATH` search), `argv`,
//! `envp`, the working directory as C strings, the stdio descriptors, and a stack for the child.
//! The child shares this process's memory (`CLONE_VM`) and the parent thread is suspended until
//! the child execs or exits (`CLONE_VFORK`), so no page tables are copied: that is what makes this
//! as fast as a raw `posix_spawn`, where std's `fork()` (forced by any `pre_exec`) was ~1.5×.
//!
//! What runs in the child, in order, and why it is safe there: only the libc wrappers of single
//! system calls listed by POSIX as async-signal-safe (`sigaction`, `setpgid`, `prctl`, `getppid`,
//! `getpid`, `write`, `dup2`, `fcntl`, `chdir`, `sigprocmask`, `execve`, `_exit`), reads of the
//! prepared data, writes into this stack frame and atomic stores into the shared [`Outcome`]. No
//! allocation, no lock, no reachable panic (no `unwrap`; the only indexing is `pid_line`'s,
//! bounded by the digits of an `i32`), no Rust `std` I/O.
//! All signals are blocked in the parent thread around the clone, so no signal handler of this
//! process can run on the child's stack with the shared memory; the child resets every handled
//! signal to `SIG_DFL` before it unblocks them, as glibc does.
//!
//! 1. `SIGPIPE` → `SIG_IGN`, so the watchdog write below cannot kill the child (a signal
//!    generated while ignored is discarded, not left pending).
//! 2. `setpgid(0, 0)` when the child leads its own group.
//! 3. `prctl(PR_SET_PDEATHSIG, SIGKILL)` and `getppid()` against the parent's pid: the parent may
//!    have died before the prctl, and then the signal would never come.
//! 4. `+PID\n` to the watchdog, one `write` (atomic: shorter than `PIPE_BUF`), so the group is
//!    registered before any code of the server runs. Recorded in [`Outcome::registered`].
//! 5. `dup2` of the prepared descriptors onto 0, 1, 2 (all others are close-on-exec).
//! 6. `chdir`.
//! 7. Every signal with a handler → `SIG_DFL`, `SIGPIPE` → `SIG_DFL` (as std does), then an empty
//!    signal mask (as std does).
//! 8. `execve` of each prepared path in turn (`ENOENT`/`ENOTDIR`/`EACCES`: the next one, as
//!    `execvp` does).
//!
//! A failing step stores which step and its `errno` in the [`Outcome`] and calls `_exit(127)`.
//! The parent, resumed, unregisters the group if the child had registered it, reaps the child
//! and returns the error: a failed spawn leaves no process and no registration behind.

use std::ffi::{CString, OsStr, OsString, c_int, c_void};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::ExitStatusExt;
use std::process::{ChildStderr, ChildStdin, ChildStdout, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use super::{Child, Command, Inner, Stdio, watchdog};

mod child;

use child::child_main;

/// The child's stack: its frame is small, but stay generous (libc wrappers, stack probes).
const STACK: usize = 256 * 1024;
/// An inaccessible region below the stack.
const GUARD: usize = 64 * 1024;

/// What the child reports back through the shared memory.
struct Outcome {
    /// The step that failed (see [`Step`]), 0 when none did.
    step: AtomicI32,
    errno: AtomicI32,
    registered: AtomicBool,
}

/// The steps that can fail, for the error message.
#[derive(Clone, Copy)]
#[repr(i32)]
enum Step {
    Group = 1,
    ParentDeath = 2,
    ParentGone = 3,
    Stdio = 4,
    Chdir = 5,
    Exec = 6,
}

/// Everything the child reads, prepared in the parent.
struct Plan {
    /// Paths to `execve`, in order (several when `PATH` is searched).
    paths: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    cwd: Option<CString>,
    /// Descriptors to put on 0, 1, 2 (`-1`: inherit).
    stdio: [RawFd; 3],
    group: bool,
    /// The parent's pid, when the parent-death signal is armed.
    parent: Option<libc::pid_t>,
    /// The watchdog's pipe, when the child registers itself.
    watchdog: Option<RawFd>,
    /// `SIGRTMAX`, read in the parent (glibc computes it).
    last_signal: c_int,
    outcome: Outcome,
}

/// The parent's ends of the pipes and the descriptors the child gets, closed after the clone.
#[derive(Default)]
struct Ends {
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    /// The child's ends; dropped (closed in this process) once the child has exec'd.
    theirs: Vec<OwnedFd>,
}

/// Starts `cmd` and returns the running child. See the module docs.
pub(super) fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let watchdog = if cmd.register {
        watchdog::raw_fd()
    } else {
        None
    };
    spawn_with(cmd, watchdog, watchdog::unregister)
}

/// [`spawn`], with the child registering on `watchdog` and a failed child unregistered through
/// `unregister` (tests pass a pipe of their own).
fn spawn_with(
    cmd: &mut Command,
    watchdog: Option<RawFd>,
    unregister: impl FnOnce(u32),
) -> io::Result<Child> {
    let env = cmd.environment();
    let paths = exec_paths(&cmd.program, &env)?;
    let argv_owned: Vec<CString> = std::iter::once(cmd.program.clone())
        .chain(cmd.args.iter().cloned())
        .map(c_string)
        .collect::<io::Result<_>>()?;
    let env_owned: Vec<CString> = env
        .into_iter()
        .map(|(k, v)| {
            let mut entry = k.into_vec();
            entry.push(b'=');
            entry.extend(v.into_vec());
            c_string(OsString::from_vec(entry))
        })
        .collect::<io::Result<_>>()?;
    let cwd = cmd
        .current_dir
        .as_ref()
        .map(|d| c_string(d.clone().into_os_string()))
        .transpose()?;

    let mut ends = Ends::default();
    let mut stdio = [-1; 3];
    let [stdin, stdout, stderr] = std::mem::replace(
        &mut cmd.stdio,
        [Stdio::Inherit, Stdio::Inherit, Stdio::Inherit],
    );
    for (target, spec) in [stdin, stdout, stderr].into_iter().enumerate() {
        let theirs: OwnedFd = match spec {
            Stdio::Inherit => continue,
            Stdio::Null => {
                let null = if target == 0 {
                    File::open("/dev/null")?
                } else {
                    OpenOptions::new().write(true).open("/dev/null")?
                };
                null.into()
            }
            Stdio::File(file) => file.into(),
            Stdio::Piped => {
                let (reader, writer) = io::pipe()?;
                match target {
                    0 => {
                        ends.stdin = Some(ChildStdin::from(OwnedFd::from(writer)));
                        reader.into()
                    }
                    1 => {
                        ends.stdout = Some(ChildStdout::from(OwnedFd::from(reader)));
                        writer.into()
                    }
                    _ => {
                        ends.stderr = Some(ChildStderr::from(OwnedFd::from(reader)));
                        writer.into()
                    }
                }
            }
        };
        // Keep every source above 2, so that no dup2 onto 0..2 overwrites a later source.
        let theirs = above_stdio(theirs)?;
        stdio[target] = theirs.as_raw_fd();
        ends.theirs.push(theirs);
    }

    let mut argv: Vec<*const libc::c_char> = argv_owned.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env_owned.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let plan = Plan {
        paths,
        argv,
        envp,
        cwd,
        stdio,
        group: cmd.group,
        parent: cmd
            .parent_death
            .then(|| rustix::process::getpid().as_raw_nonzero().get()),
        watchdog,
        last_signal: libc::SIGRTMAX(),
        outcome: Outcome {
            step: AtomicI32::new(0),
            errno: AtomicI32::new(0),
            registered: AtomicBool::new(false),
        },
    };

    let pid = clone_and_exec(&plan)?;
    // The child has exec'd or exited: its copies are its own now, ours can go.
    drop(ends.theirs);
    let registered = plan.outcome.registered.load(Ordering::Acquire);
    let step = plan.outcome.step.load(Ordering::Acquire);
    if step != 0 {
        let errno = plan.outcome.errno.load(Ordering::Acquire);
        // The child exited with 127. Unregister first, then reap: once reaped its id is free.
        if registered {
            unregister(pid as u32);
        }
        let _ = reap(pid as u32);
        return Err(step_error(step, errno, cmd));
    }
    Ok(Child {
        pid: pid as u32,
        registered,
        stdin: ends.stdin,
        stdout: ends.stdout,
        stderr: ends.stderr,
        inner: Inner::Raw(None),
    })
}

fn c_string(s: OsString) -> io::Result<CString> {
    CString::new(s.into_vec()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "nul byte found in provided data",
        )
    })
}

/// Moves `fd` to a number above 2 if it is one of 0, 1, 2 (this process had them closed).
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    Ok(rustix::io::fcntl_dupfd_cloexec(&fd, 3)?)
}

/// The paths `execve` should try: the program itself when it names a path, else every `PATH`
/// entry (the child's `PATH`, else the system default), as `execvp` does.
fn exec_paths(program: &OsStr, env: &[(OsString, OsString)]) -> io::Result<Vec<CString>> {
    let bytes = program.as_bytes();
    if bytes.contains(&b'/') {
        return Ok(vec![c_string(program.to_owned())?]);
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_bytes().to_vec())
        .unwrap_or_else(|| b"/bin:/usr/bin".to_vec());
    path.split(|b| *b == b':')
        .map(|dir| {
            let mut full = if dir.is_empty() {
                b".".to_vec()
            } else {
                dir.to_vec()
            };
            full.push(b'/');
            full.extend_from_slice(bytes);
            c_string(OsString::from_vec(full))
        })
        .collect()
}

/// Clones the child that runs [`child_main`] and returns its pid once it has exec'd or exited.
#[expect(
    unsafe_code,
    reason = "clone(CLONE_VM | CLONE_VFORK) with a stack of its own, signals blocked around it"
)]
fn clone_and_exec(plan: &Plan) -> io::Result<libc::pid_t> {
    // SAFETY: an anonymous private mapping, unmapped below; its lowest 64 KiB (a multiple of
    // every page size Linux uses) are a guard against overflow.
    let page = GUARD;
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK + page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `stack` is our mapping of `STACK + page` bytes. Should it fail, the child runs
    // without the guard, as it would on a thread stack without one.
    unsafe { libc::mprotect(stack, page, libc::PROT_NONE) };
    // SAFETY: plain signal-mask calls on our own sets; `clone` runs `child_main` on the new stack
    // (its top, 16-byte aligned since the mapping is page-aligned) with `plan`, which outlives it:
    // CLONE_VFORK suspends this thread until the child has exec'd or exited. All signals stay
    // blocked in this thread meanwhile, so the child starts with all of them blocked and no
    // handler of ours can run in it before it reset them (see the module docs).
    let (pid, clone_error) = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let top = stack.cast::<u8>().add(STACK + page).cast::<c_void>();
        let pid = libc::clone(
            child_main,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            std::ptr::from_ref(plan).cast_mut().cast::<c_void>(),
        );
        let clone_error = (pid < 0).then(io::Error::last_os_error);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        libc::munmap(stack, STACK + page);
        (pid, clone_error)
    };
    match clone_error {
        Some(e) => Err(e),
        None => Ok(pid),
    }
}

/// The error for a spawn whose child failed at `step` with `errno`.
fn step_error(step: i32, errno: i32, cmd: &Command) -> io::Error {
    let os = io::Error::from_raw_os_error(errno);
    let what = match step {
        s if s == Step::Group as i32 => "setpgid".to_string(),
        s if s == Step::ParentDeath as i32 => "prctl(PR_SET_PDEATHSIG)".to_string(),
        s if s == Step::ParentGone as i32 => {
            return io::Error::other("the test process exited while spawning");
        }
        s if s == Step::Stdio as i32 => "dup2 of stdio".to_string(),
        s if s == Step::Chdir as i32 => match &cmd.current_dir {
            Some(dir) => format!("chdir to {}", dir.display()),
            None => "chdir".to_string(),
        },
        // As std: the bare OS error of the exec, so `ErrorKind::NotFound` and friends keep working.
        _ => return os,
    };
    io::Error::new(os.kind(), format!("{what} failed in the child: {os}"))
}

/// Waits for `pid` to exit and reaps it.
pub(super) fn reap(pid: u32) -> io::Result<ExitStatus> {
    let pid = rustix::process::Pid::from_raw(pid as i32)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pid 0"))?;
    loop {
        match rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty()) {
            Ok(Some((_, status))) => return Ok(ExitStatus::from_raw(status.as_raw())),
            Ok(None) => return Err(io::Error::other("waitpid returned no status")),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests;
