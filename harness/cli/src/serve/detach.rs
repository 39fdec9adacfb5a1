//! `harness serve --detach`: start a background `harness serve` and return once it is ready, for
//! callers that must exit while the servers live on (a nextest setup script).
//!
//! The background serve is this program run again (no `fork` in a multi-threaded program), which
//! leaves the invoker's session first thing ([`leave_session`]). Its stdout is a pipe that
//! carries the JSON line to the invoker; its stderr goes to `--log-dir`'s `serve.log`, else to a
//! temporary file that is deleted once it is ready. So it never holds the invoker's stdout or
//! stderr, whose end a runner like nextest waits for. The owner to watch (`--parent-pid`) is
//! pinned by the invoker, at its start, and handed down as an inherited pidfd.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::prepare::Prepared;
use crate::args::ServeArgs;
use crate::exit;
use crate::lifetime::Owner;

/// Time the background serve gets past `--ready-timeout` to start up itself and to say it is
/// ready (its servers' starts are bounded by `--ready-timeout` already).
const MARGIN: Duration = Duration::from_secs(5);

/// Lines of the background serve's stderr shown when it failed.
const TAIL: usize = 40;

/// Makes this process, the background half, the leader of a session of its own: no terminal, no
/// process group shared with the invoker, so nothing meant for them reaches it.
pub(crate) fn leave_session() {
    #[cfg(unix)]
    if let Err(error) = rustix::process::setsid() {
        say!(
            "harness: warning: the background serve could not start a session of its own: {error}"
        );
    }
}

/// Starts the background serve and relays its JSON line; returns the invoker's exit status.
pub(crate) async fn detach(args: &ServeArgs, prepared: Prepared) -> ExitCode {
    // Before the background serve exists: a stop request while waiting stops it too (nobody
    // would own it otherwise).
    let mut signals = match crate::signals::Signals::install() {
        Ok(signals) => signals,
        Err(error) => return crate::internal_error("install signal handlers", &error),
    };
    let owner = prepared.lifetime.owner;
    let (stderr_path, temporary) = match &prepared.log_dir {
        Some(dir) => (dir.join("serve.log"), false),
        None => (temporary_path(), true),
    };
    // Emptied first, like the servers' logs: this run's own.
    let stderr = match std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&stderr_path)
    {
        Ok(file) => file,
        Err(error) => {
            let what = format!("create {}", stderr_path.display());
            return crate::internal_error(&what, &error);
        }
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => return crate::internal_error("find the harness executable", &error),
    };
    #[cfg(target_os = "linux")]
    if let Some(owner) = &owner
        && let Err(error) = rustix::io::fcntl_setfd(&owner.fd, rustix::io::FdFlags::empty())
    {
        return crate::internal_error("hand the owner's pidfd down", &std::io::Error::from(error));
    }
    let mut command = tokio::process::Command::new(exe);
    command
        .args(child_args(std::env::args_os().skip(1), owner.as_ref()))
        .stdin(if args.stdin_eof {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(stderr);
    let spawned = command.spawn();
    // The background serve has its own copy of the pidfd now (or never will).
    drop(owner);
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => return crate::internal_error("start the background serve", &error),
    };

    let deadline = tokio::time::Instant::now() + args.stack.ready_timeout + MARGIN;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let announced = tokio::time::timeout_at(deadline, async {
        loop {
            match lines.next_line().await {
                Ok(Some(line)) if line.starts_with('{') => return Some(line),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    });
    let announced = tokio::select! {
        announced = announced => announced,
        stop = signals.next() => {
            // SIGKILL: its servers die with it (parent-death signal and watchdog).
            let _ = child.start_kill();
            say!("harness: {}: killed the background serve before it was ready", stop.name());
            if temporary {
                let _ = std::fs::remove_file(&stderr_path);
            }
            return exit::after_signal(stop.number());
        }
    };
    let code = match announced {
        Ok(Some(line)) => {
            say_out!("{line}");
            if temporary {
                let _ = std::fs::remove_file(&stderr_path);
            }
            return ExitCode::SUCCESS;
        }
        // It closed its stdout without the line: it is exiting.
        Ok(None) => match tokio::time::timeout_at(deadline, child.wait()).await {
            Ok(Ok(status)) => {
                let code = exit::code_of(&harness::Exit::from(status));
                say!("harness: error: the background serve exited ({status}) before it was ready");
                if code == 0 { exit::NOT_READY } else { code }
            }
            _ => {
                let _ = child.start_kill();
                say!(
                    "harness: error: the background serve closed its stdout before it was ready; killed it"
                );
                exit::NOT_READY
            }
        },
        Err(_) => {
            // SIGKILL: its servers die with it (parent-death signal and watchdog).
            let _ = child.start_kill();
            say!(
                "harness: error: the background serve was not ready within {:?} (--ready-timeout plus {MARGIN:?}); killed it",
                args.stack.ready_timeout
            );
            exit::NOT_READY
        }
    };
    print_tail(&stderr_path);
    if temporary {
        let _ = std::fs::remove_file(&stderr_path);
    }
    ExitCode::from(code)
}

/// This command line for the background half: without `--detach` and `--parent-pid`, with
/// `--detached-child` and the inherited owner.
fn child_args(given: impl Iterator<Item = OsString>, owner: Option<&Owner>) -> Vec<OsString> {
    let mut args = Vec::new();
    let mut skip_value = false;
    for arg in given {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if arg == "--detach" {
            continue;
        }
        if arg == "--parent-pid" {
            skip_value = true;
            continue;
        }
        if arg.to_string_lossy().starts_with("--parent-pid=") {
            continue;
        }
        args.push(arg);
    }
    args.push("--detached-child".into());
    #[cfg(target_os = "linux")]
    if let Some(owner) = owner {
        use std::os::fd::AsRawFd;
        args.push("--parent-pidfd".into());
        args.push(format!("{},{}", owner.fd.as_raw_fd(), owner.pid).into());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = owner;
    args
}

/// A fresh file name in the temporary folder for the background serve's stderr.
fn temporary_path() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("harness-serve-{}-{nanos}.log", std::process::id()))
}

/// Prints the last [`TAIL`] lines of the background serve's stderr.
fn print_tail(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(TAIL);
    say!(
        "harness: the background serve's stderr ({}) ends with:\n{}",
        path.display(),
        lines[start..].join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_child_gets_no_detach_and_no_parent_pid() {
        let given = [
            "serve",
            "--detach",
            "--parent-pid",
            "parent",
            "--server",
            "web=app",
            "--parent-pid=12",
            "--stdin-eof",
        ];
        let args = child_args(given.iter().map(OsString::from), None);
        assert_eq!(
            args,
            [
                "serve",
                "--server",
                "web=app",
                "--stdin-eof",
                "--detached-child"
            ]
            .map(OsString::from)
        );
    }
}
