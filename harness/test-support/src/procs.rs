//! Counting processes the way the OS sees them, from `/proc` (Linux), and owner processes for the
//! tests that prove nothing outlives a killed owner.

use std::time::{Duration, Instant};

/// Whether a process is alive: it exists and is not a zombie (a zombie is dead, awaiting a reap).
///
/// ```
/// assert!(test_support::procs::alive(std::process::id()));
/// ```
pub fn alive(pid: u32) -> bool {
    harness::__cli::process_is_live(pid)
}

/// Whether a process has finished exiting: reaped, or a zombie whose other threads are gone too.
/// Only then can its parent collect its status: a multi-threaded process's leader shows as a zombie
/// while its other threads are still exiting, and `waitid` does not report it yet.
///
/// ```
/// let mut child = std::process::Command::new("true").spawn().unwrap();
/// child.wait().unwrap();
/// assert!(test_support::procs::exited(child.id()));
/// ```
pub fn exited(pid: u32) -> bool {
    if alive(pid) {
        return false;
    }
    match std::fs::read_dir(format!("/proc/{pid}/task")) {
        Ok(tasks) => tasks.count() <= 1,
        Err(_) => true,
    }
}

/// Waits until `cond` holds, checking every 10 ms, at most `limit`. Returns whether it held.
///
/// ```
/// use std::time::Duration;
/// assert!(test_support::procs::wait_until(Duration::from_secs(1), || true));
/// assert!(!test_support::procs::wait_until(Duration::from_millis(20), || false));
/// ```
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The live processes whose environment holds `key_value` (`KEY=VALUE`), with their command names.
/// A marker variable set on a test's child is inherited by every descendant, so this counts the
/// whole tree, whatever process group or parent each one ended up with.
///
/// ```
/// let mut child = std::process::Command::new("sleep").arg("30").env("MARK", "doc-marked").spawn().unwrap();
/// let listed = || test_support::procs::marked("MARK=doc-marked").iter().any(|(pid, _)| *pid == child.id());
/// let found = test_support::procs::wait_until(std::time::Duration::from_secs(10), listed);
/// child.kill().unwrap();
/// child.wait().unwrap();
/// assert!(found);
/// ```
pub fn marked(key_value: &str) -> Vec<(u32, String)> {
    let needle = key_value.as_bytes();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|kv| kv == needle) && alive(pid) {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            found.push((pid, name.trim().to_owned()));
        }
    }
    found
}

/// The pids of [`marked`].
///
/// ```
/// assert!(test_support::procs::processes_with("NO_SUCH_MARKER=anywhere").is_empty());
/// ```
pub fn processes_with(key_value: &str) -> Vec<u32> {
    marked(key_value).into_iter().map(|(pid, _)| pid).collect()
}

/// The line an owner test prints once it has started everything it is to be killed with.
///
/// ```
/// println!("{} 4242", test_support::procs::OWNER_READY);
/// ```
pub const OWNER_READY: &str = "OWNER READY";

/// Re-runs this test binary's ignored test `test` (exact path) in a child process with `envs`
/// added to its environment, and waits at most `limit` for it to print [`OWNER_READY`].
/// The owner inherits the marker, and so does everything it starts. Returns the owner and its
/// ready line. Panics, after killing it, if it is not ready in time.
///
/// ```no_run
/// // In a test binary with an ignored test `owner` that prints OWNER_READY, then waits.
/// let (mut owner, line) = test_support::procs::spawn_owner(
///     "owner",
///     &[("MARK", "1")],
///     std::time::Duration::from_secs(10),
/// );
/// assert!(line.starts_with(test_support::procs::OWNER_READY));
/// owner.kill().unwrap();
/// ```
pub fn spawn_owner(
    test: &str,
    envs: &[(&str, &str)],
    limit: Duration,
) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut owner = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--ignored", "--nocapture"])
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the owner process");
    let stdout = owner.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with(OWNER_READY) {
                let _ = tx.send(line);
            }
        }
    });
    match rx.recv_timeout(limit) {
        Ok(line) => (owner, line),
        Err(_) => {
            let _ = owner.kill();
            let _ = owner.wait();
            panic!("the owner process `{test}` did not print {OWNER_READY:?} within {limit:?}");
        }
    }
}
