//! The child, between clone and exec: what runs there and why it is safe is in the docs of
//! [`super`], the Linux spawn.

use std::ffi::{c_int, c_void};
use std::sync::atomic::Ordering;

use super::super::watchdog;
use super::{Plan, Step};

/// The child, between clone and exec. See the module docs for what it does and why it is safe.
#[expect(
    unsafe_code,
    reason = "raw async-signal-safe system calls between clone and exec"
)]
pub(super) extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `Plan` the parent keeps alive (it is suspended until we exec or exit).
    let plan = unsafe { &*arg.cast::<Plan>() };
    let fail = |step: Step, errno: c_int| -> ! {
        plan.outcome.errno.store(errno, Ordering::Release);
        plan.outcome.step.store(step as i32, Ordering::Release);
        // SAFETY: `_exit` ends this child at once, running nothing of this process.
        unsafe { libc::_exit(127) }
    };
    // SAFETY: each call is one async-signal-safe system call on prepared, valid arguments.
    unsafe {
        let errno = || *libc::__errno_location();
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_IGN;
        libc::sigaction(libc::SIGPIPE, &action, std::ptr::null_mut());

        if plan.group && libc::setpgid(0, 0) != 0 {
            fail(Step::Group, errno());
        }
        if let Some(parent) = plan.parent {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                fail(Step::ParentDeath, errno());
            }
            if libc::getppid() != parent {
                fail(Step::ParentGone, libc::ESRCH);
            }
        }
        if let Some(watchdog) = plan.watchdog {
            let mut buf = [0u8; 24];
            let line = watchdog::pid_line(&mut buf, libc::getpid());
            let written = loop {
                let n = libc::write(watchdog, line.as_ptr().cast(), line.len());
                if n < 0 && errno() == libc::EINTR {
                    continue;
                }
                break n;
            };
            if written == line.len() as isize {
                plan.outcome.registered.store(true, Ordering::Release);
            }
        }
        for (target, &fd) in plan.stdio.iter().enumerate() {
            if fd < 0 {
                continue;
            }
            // Sources are above 2 (see `above_stdio`), so dup2 always copies and clears CLOEXEC.
            if libc::dup2(fd, target as c_int) < 0 {
                fail(Step::Stdio, errno());
            }
        }
        if let Some(cwd) = &plan.cwd
            && libc::chdir(cwd.as_ptr()) != 0
        {
            fail(Step::Chdir, errno());
        }
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        for signal in 1..=plan.last_signal {
            if signal == libc::SIGKILL || signal == libc::SIGSTOP {
                continue;
            }
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut current) != 0 {
                continue; // glibc's own signals (32, 33) are refused: they are not ours to reset.
            }
            let handled = current.sa_sigaction != libc::SIG_IGN;
            if (signal == libc::SIGPIPE || handled) && current.sa_sigaction != libc::SIG_DFL {
                libc::sigaction(signal, &default, std::ptr::null_mut());
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());

        let mut first_error = 0;
        for path in &plan.paths {
            libc::execve(path.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
            let e = errno();
            match e {
                libc::ENOENT | libc::ENOTDIR => {}
                libc::EACCES => {
                    if first_error == 0 {
                        first_error = e;
                    }
                }
                _ => fail(Step::Exec, e),
            }
        }
        fail(
            Step::Exec,
            if first_error == 0 {
                libc::ENOENT
            } else {
                first_error
            },
        )
    }
}
