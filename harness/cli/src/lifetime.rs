//! How long `harness serve` lives besides signals: until its owner process exits
//! (`--parent-pid`, a pidfd on Linux) or until its stdin reaches end of file (`--stdin-eof`).
//!
//! The owner is pinned when `serve` starts, before anything is started or announced: a pidfd
//! names one process, so an owner that dies at any later moment is seen, and its pid being reused
//! by another process changes nothing.

use super::usage::UsageError;

/// What ended the lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The owner process exited; its pid.
    Owner(u32),
    /// stdin reached end of file (or could no longer be read).
    StdinEof,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Owner(pid) => write!(f, "the owner process (pid {pid}) exited"),
            Ended::StdinEof => f.write_str("stdin reached end of file"),
        }
    }
}

/// The owner process, pinned by a pidfd.
#[derive(Debug)]
pub(crate) struct Owner {
    /// Its pid, for messages.
    pub(crate) pid: u32,
    /// The pidfd: readable once the process has exited.
    #[cfg(target_os = "linux")]
    pub(crate) fd: std::os::fd::OwnedFd,
}

impl Owner {
    /// Pins the process `given` names: a pid, or `parent` for the process that started this one.
    pub(crate) fn open(given: &str) -> Result<Self, UsageError> {
        let bad = |why: String| UsageError::BadParent {
            given: given.to_owned(),
            why,
        };
        let pid = if given == "parent" {
            match parent_pid() {
                None => {
                    return Err(bad(
                        "this process has no parent it can see (it runs in another pid namespace); give a pid".into(),
                    ));
                }
                // Reparented already: whoever started serve is gone, and init never exits.
                Some(1) => {
                    return Err(bad(
                        "the parent is pid 1 (the process that started serve has already exited, or init started it); give a pid".into(),
                    ));
                }
                Some(pid) => pid,
            }
        } else {
            match given.parse::<u32>() {
                Ok(pid) if pid > 0 && i32::try_from(pid).is_ok() => pid,
                _ => {
                    return Err(bad(
                        "expected a process id (a positive number) or `parent`".into()
                    ));
                }
            }
        };
        Self::open_pid(pid).map_err(bad)
    }

    #[cfg(target_os = "linux")]
    fn open_pid(pid: u32) -> Result<Self, String> {
        use rustix::process::{Pid, PidfdFlags, pidfd_open};
        let raw = i32::try_from(pid).map_err(|_| format!("{pid} is not a process id"))?;
        let target = Pid::from_raw(raw).ok_or_else(|| format!("{pid} is not a process id"))?;
        match pidfd_open(target, PidfdFlags::empty()) {
            Ok(fd) => Ok(Self { pid, fd }),
            Err(rustix::io::Errno::SRCH) => Err(format!(
                "no process has pid {pid}; give the pid of the process whose exit should stop serve (or `parent`)"
            )),
            Err(rustix::io::Errno::NOSYS) => Err(
                "this kernel has no pidfd_open (Linux 5.3 or newer); use --stdin-eof instead"
                    .into(),
            ),
            Err(error) => Err(format!("cannot watch pid {pid}: {error}")),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn open_pid(_pid: u32) -> Result<Self, String> {
        Err("watching a process needs Linux (a pidfd); use --stdin-eof instead".into())
    }

    /// The owner a `--detach` invoker handed down: its pidfd, inherited as descriptor `fd`, and its
    /// pid, given as `FD,PID`. The descriptor is made close-on-exec again, so no server inherits it.
    #[cfg(target_os = "linux")]
    pub(crate) fn inherited(given: &str) -> Result<Self, UsageError> {
        use std::os::fd::{BorrowedFd, OwnedFd};
        let bad = || UsageError::BadParent {
            given: given.to_owned(),
            why: "an internal --parent-pidfd of `harness serve --detach` is malformed".into(),
        };
        let (fd, pid) = given.split_once(',').ok_or_else(bad)?;
        let fd: i32 = fd.parse().map_err(|_| bad())?;
        let pid: u32 = pid.parse().map_err(|_| bad())?;
        if fd < 3 {
            return Err(bad());
        }
        #[expect(
            unsafe_code,
            reason = "an inherited descriptor can only be taken by number"
        )]
        // SAFETY: checked open just below before being owned; the invoker passed this number for
        // exactly this descriptor, and nothing else in this process uses it.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        rustix::io::fcntl_setfd(borrowed, rustix::io::FdFlags::CLOEXEC).map_err(|_| bad())?;
        #[expect(
            unsafe_code,
            reason = "an inherited descriptor can only be taken by number"
        )]
        // SAFETY: the descriptor is open (fcntl succeeded) and owned by nobody else here.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(Self { pid, fd })
    }

    /// Waits until the owner exits.
    #[cfg(target_os = "linux")]
    async fn exited(&self) -> std::io::Result<()> {
        use std::os::fd::AsFd;
        // A pidfd polls readable once its process has exited.
        #[expect(
            unsafe_code,
            reason = "tokio registers a descriptor only on this promise"
        )]
        // SAFETY: the descriptor is borrowed from `self.fd`, which stays open (and the same
        // descriptor) for longer than this `AsyncFd`, dropped at the end of this function.
        let fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(
                self.fd.as_fd(),
                tokio::io::Interest::READABLE,
            )
        }?;
        let _ready = fd.readable().await?;
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    async fn exited(&self) -> std::io::Result<()> {
        std::future::pending().await
    }
}

/// This process's parent, as the kernel has it now.
fn parent_pid() -> Option<u32> {
    #[cfg(unix)]
    {
        rustix::process::getppid().map(|pid| pid.as_raw_nonzero().get().cast_unsigned())
    }
    #[cfg(not(unix))]
    None
}

/// Everything besides signals that ends `serve`.
#[derive(Debug, Default)]
pub(crate) struct Lifetime {
    /// The owner to outlive no longer.
    pub(crate) owner: Option<Owner>,
    /// Set with `--stdin-eof`: a thread reads stdin and says when it ends.
    stdin: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Lifetime {
    /// A lifetime that ends with `owner` (if any); stdin is not watched until
    /// [`watch_stdin`](Self::watch_stdin).
    pub(crate) fn new(owner: Option<Owner>) -> Self {
        Self { owner, stdin: None }
    }

    /// With `--stdin-eof`, starts the thread that reads (and discards) stdin until it ends. A plain
    /// thread, not a runtime task, so that a stdin still open never delays the runtime's shutdown.
    pub(crate) fn watch_stdin(&mut self) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("harness-stdin".into())
            .spawn(move || {
                use std::io::Read;
                let mut stdin = std::io::stdin().lock();
                let mut buf = [0u8; 4096];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send(());
            })?;
        self.stdin = Some(rx);
        Ok(())
    }

    /// Waits until the owner exits or stdin ends; never returns when neither is watched.
    pub(crate) async fn ended(&mut self) -> Ended {
        let Self { owner, stdin } = self;
        let owner = async {
            match owner {
                Some(owner) => match owner.exited().await {
                    Ok(()) => Ended::Owner(owner.pid),
                    Err(error) => {
                        say!(
                            "harness: warning: cannot watch the owner process (pid {}): {error}; serving until a signal",
                            owner.pid
                        );
                        std::future::pending().await
                    }
                },
                None => std::future::pending().await,
            }
        };
        let stdin = async {
            match stdin.as_mut() {
                // A dropped sender (the thread died) also means stdin can no longer be read.
                Some(rx) => {
                    let _ = rx.await;
                    Ended::StdinEof
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ended = owner => ended,
            ended = stdin => ended,
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn an_owner_that_exits_ends_the_lifetime() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut lifetime = Lifetime::new(Some(Owner::open(&pid.to_string()).unwrap()));
        child.kill().unwrap();
        child.wait().unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(10), lifetime.ended())
            .await
            .expect("the exit is seen");
        assert_eq!(ended, Ended::Owner(pid));
        assert_eq!(
            ended.to_string(),
            format!("the owner process (pid {pid}) exited")
        );
    }

    #[test]
    fn parent_is_this_process_s_parent() {
        let owner = Owner::open("parent").unwrap();
        assert_eq!(Some(owner.pid), parent_pid());
        assert_eq!(Some(owner.pid), Some(std::os::unix::process::parent_id()));
    }

    #[test]
    fn pids_that_name_no_process_are_refused() {
        for given in ["0", "-1", "4294967295", "parent2", ""] {
            let error = Owner::open(given).unwrap_err().to_string();
            assert!(error.contains("expected a process id"), "{given}: {error}");
        }
        let error = Owner::open("2147483647").unwrap_err().to_string();
        assert!(error.contains("no process has pid 2147483647"), "{error}");
    }
}
