//! Chromium and chromedriver for the demo: found where the library looks for them, or installed
//! with apt-get when this process may (as root, or with passwordless sudo), or else the commands to
//! run by hand.
//!
//! The install never waits on a person: apt-get gets no stdin, `-y`, `DEBIAN_FRONTEND=noninteractive`
//! and [`APT_TIMEOUT`] per command. It runs once: if the browser is still missing afterwards, the
//! demo says so and stops.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::process::Command;

use super::progress;
use harness::Browser;

/// How long one apt-get command may run.
const APT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a command asked to stop gets before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Replaces the `apt-get` program, for tests (`HARNESS_APT_GET=/bin/false`).
const APT_GET_ENV: &str = "HARNESS_APT_GET";
/// The Debian packages of the browser and its driver.
const PACKAGES: [&str; 2] = ["chromium", "chromium-driver"];
/// Lines of apt-get's output shown when it fails.
const TAIL: usize = 15;

/// Why the browser is not there, and what a person can do about it.
#[derive(Debug, thiserror::Error)]
pub(super) enum InstallError {
    /// Missing, and this process may not install it.
    #[error(
        "the demo needs Chromium and chromedriver: {missing}\n{}",
        by_hand(false)
    )]
    Missing {
        /// What the library did not find.
        missing: String,
    },
    /// An apt-get command failed or took too long.
    #[error(
        "the demo needs Chromium and chromedriver ({missing}), and installing them failed: `{}` {}{}\n{}",
        failure.command, failure.reason, failure.tail, by_hand(true)
    )]
    Failed {
        /// What the library did not find.
        missing: String,
        /// How apt-get failed.
        failure: AptFailure,
    },
    /// apt-get succeeded, but the browser or driver is still not found.
    #[error(
        "Chromium and chromedriver were installed, but are still not found: {missing}\n{}",
        by_hand(true)
    )]
    StillMissing {
        /// What the library did not find.
        missing: String,
    },
}

/// An apt-get command that failed.
#[derive(Debug)]
pub(super) struct AptFailure {
    /// The command, as printed.
    command: String,
    /// How it failed, like `exited with exit status: 100`.
    reason: String,
    /// Its last lines of output as an indented block after a newline, or nothing.
    tail: String,
}

/// The commands a person runs instead, and the alternative of pointing at existing binaries.
fn by_hand(tried: bool) -> String {
    let sudo = if is_root() { "" } else { "sudo " };
    let packages = PACKAGES.join(" ");
    let first = if tried {
        "Check the output above, or install"
    } else {
        "Install"
    };
    format!(
        "{first} them by hand, then run the demo again:\n    {sudo}apt-get update\n    {sudo}apt-get install {packages}\n\
         or set CHROMEDRIVER and CHROME_BIN to a chromedriver and a matching Chrome or Chromium."
    )
}

/// Makes sure Chrome (or Chromium) and chromedriver are found, installing them if allowed.
pub(super) async fn ensure_chrome() -> Result<(), InstallError> {
    let Some(missing) = missing() else {
        return Ok(());
    };
    let Some(privilege) = privilege().await else {
        return Err(InstallError::Missing { missing });
    };
    say!("harness demo: Chromium or chromedriver is missing; installing them with apt-get");
    let update = ["update"];
    let install = ["install", "-y", PACKAGES[0], PACKAGES[1]];
    for args in [&update[..], &install[..]] {
        apt_get(privilege, args)
            .await
            .map_err(|failure| InstallError::Failed {
                missing: missing.clone(),
                failure,
            })?;
    }
    match self::missing() {
        None => Ok(()),
        Some(missing) => Err(InstallError::StillMissing { missing }),
    }
}

/// What is missing of Chrome and chromedriver, as the library says it, or `None` if both are found.
fn missing() -> Option<String> {
    let browser = Browser::Chrome;
    let problems: Vec<String> = [
        harness::__cli::find_driver(browser).err(),
        harness::__cli::find_binary(browser).err(),
    ]
    .into_iter()
    .flatten()
    .map(|e| e.to_string())
    .collect();
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// How apt-get may be run.
#[derive(Debug, Clone, Copy)]
enum Privilege {
    /// This process is root.
    Root,
    /// `sudo -n` works without a password.
    Sudo,
}

/// Whether, and how, this process may run apt-get. Linux only: apt-get is Debian's.
async fn privilege() -> Option<Privilege> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    if is_root() {
        return Some(Privilege::Root);
    }
    let probe = Command::new("sudo")
        .args(["-n", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    match tokio::time::timeout(Duration::from_secs(10), probe).await {
        Ok(Ok(status)) if status.success() => Some(Privilege::Sudo),
        _ => None,
    }
}

fn is_root() -> bool {
    #[cfg(unix)]
    return rustix::process::geteuid().is_root();
    #[cfg(not(unix))]
    false
}

/// Runs apt-get with `args`, printing the command and showing a spinner with its latest output
/// line.
async fn apt_get(privilege: Privilege, args: &[&str]) -> Result<(), AptFailure> {
    let program = std::env::var_os(APT_GET_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| OsString::from("apt-get"));
    let mut words: Vec<OsString> = Vec::new();
    if let Privilege::Sudo = privilege {
        // sudo drops most of the environment; `env` sets the variable on the far side.
        words.extend(["sudo", "-n", "env"].map(OsString::from));
    }
    words.push("DEBIAN_FRONTEND=noninteractive".into());
    words.push(program);
    words.extend(args.iter().map(OsString::from));
    let shown = words
        .iter()
        .map(|w| w.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let failed = |reason: String, tail: &Tail| AptFailure {
        command: shown.clone(),
        reason,
        tail: tail.render(),
    };
    say!("$ {shown}");

    // `env` runs the program with the variable set, with or without sudo in front.
    let (program, rest) = match privilege {
        Privilege::Root => ("env", &words[..]),
        Privilege::Sudo => ("sudo", &words[1..]),
    };
    let (reader, writer) =
        std::io::pipe().map_err(|e| failed(format!("could not start: {e}"), &Tail::default()))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| failed(format!("could not start: {e}"), &Tail::default()))?;
    let mut command = Command::new(program);
    command
        .args(rest)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .kill_on_drop(true);
    let spawned = command.spawn();
    // Our copies of the pipe's write end must go, or the reader never sees its end.
    drop(command);
    let mut child =
        spawned.map_err(|e| failed(format!("could not start: {e}"), &Tail::default()))?;

    let spinner = progress::quiet_spinner(shown.clone());
    let tail = Tail::default();
    let lines = tail.clone();
    let bar = spinner.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            bar.set_message(line.chars().take(100).collect::<String>());
            lines.push(line);
        }
    });
    let waited = tokio::time::timeout(APT_TIMEOUT, child.wait()).await;
    spinner.finish_and_clear();
    match waited {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(failed(format!("exited with {status}"), &tail)),
        Ok(Err(e)) => Err(failed(format!("could not be waited for: {e}"), &tail)),
        Err(_) => {
            stop(&mut child).await;
            Err(failed(
                format!(
                    "did not finish within {} s and was stopped",
                    APT_TIMEOUT.as_secs()
                ),
                &tail,
            ))
        }
    }
}

/// SIGTERM first (sudo passes it on; apt-get cleans up), SIGKILL after [`STOP_GRACE`].
async fn stop(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child
        .id()
        .and_then(|id| rustix::process::Pid::from_raw(id as i32))
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.kill().await;
}

/// The last lines of a command's output, shared with the thread that reads them.
#[derive(Debug, Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    /// Only `VecDeque` operations and string formatting run under the lock, none of which
    /// panics, so it is never poisoned.
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.0
            .lock()
            .expect("no panic happens under the tail's lock")
    }

    fn push(&self, line: String) {
        let mut lines = self.lock();
        lines.push_back(line);
        if lines.len() > TAIL {
            lines.pop_front();
        }
    }

    /// The lines as an indented block after a newline, or nothing.
    fn render(&self) -> String {
        let lines = self.lock();
        lines.iter().map(|l| format!("\n    | {l}")).collect()
    }
}
