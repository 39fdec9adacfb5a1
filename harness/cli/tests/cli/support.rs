//! Driving the built `harness` binary: bounded waits, output that explains itself, no leaks.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The environment variable that marks every process a test starts (inherited by all descendants).
pub(crate) const MARKER_KEY: &str = "HARNESS_CLI_TEST_MARKER";

/// How long any single `harness` invocation may take in these tests.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// A Python one-liner for test commands: `python3 -c GET NAME PATH` prints `port=<NAME_PORT>` and
/// the body of `GET $NAME_URL/PATH`, bypassing any HTTP proxy from the environment.
pub(crate) const GET: &str = "import os, sys, urllib.request as u
name, path = sys.argv[1], sys.argv[2]
print('port=' + os.environ[name + '_PORT'], flush=True)
opener = u.build_opener(u.ProxyHandler({}))
print(opener.open(os.environ[name + '_URL'] + path, timeout=10).read().decode(), flush=True)";

/// A Python one-liner: `python3 -c UNTIL_DEAD NAME` waits (at most 10 s) until process `$NAME_PID`
/// has finished exiting: a zombie (`harness` reaps it only when it stops) with no other thread
/// left, which is when its parent can see the exit. Exit 0 once it has, 1 if it never does. A
/// refused connection would not do: a server closes its socket before it exits.
pub(crate) const UNTIL_DEAD: &str = "import os, sys, time
pid = os.environ[sys.argv[1] + '_PID']
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        with open(f'/proc/{pid}/stat') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
        threads = len(os.listdir(f'/proc/{pid}/task'))
    except FileNotFoundError:
        sys.exit(0)
    if state in ('Z', 'X') and threads <= 1:
        sys.exit(0)
    time.sleep(0.02)
sys.exit(1)";

/// The `harness` binary under test.
pub(crate) fn harness_bin() -> &'static str {
    env!("CARGO_BIN_EXE_harness")
}

/// fixtures-app, built next to this test binary by `cargo test --workspace`.
pub(crate) fn fixtures_app() -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut dir = exe.parent().expect("a parent directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("fixtures-app{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "fixtures-app not found at {}; run `cargo test --workspace` (or `cargo build -p fixtures-app`) first",
        path.display()
    );
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// A fresh directory for one test, under cargo's per-package scratch directory.
pub(crate) fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(format!("{test}-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A value unique to this test run and call.
pub(crate) fn unique() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A `harness` invocation, marked with `MARKER_KEY=marker`.
pub(crate) fn harness(args: &[&str]) -> Command {
    let mut cmd = Command::new(harness_bin());
    cmd.args(args);
    with_suite_setup(cmd)
}

/// `cmd` (which runs `harness`, perhaps through a wrapper) with what every run in this suite
/// gets: a fresh process marker, no log echo or keep switch from the outer environment, stdin
/// closed, stdout and stderr captured.
pub(crate) fn with_suite_setup(mut cmd: Command) -> Command {
    cmd.env(MARKER_KEY, unique())
        .env_remove("HARNESS_LOG")
        .env_remove("HARNESS_KEEP")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `harness` with `args` to the end (at most [`LIMIT`]).
pub(crate) fn run(args: &[&str]) -> Output {
    Running::start(harness(args)).wait(LIMIT)
}

/// What a finished `harness` did. `Debug` prints the same as `Display`.
pub(crate) struct Output {
    pub(crate) command: String,
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    /// The exit code (`None` if killed by a signal).
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(f, "status: {}", self.status)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A running `harness`, SIGKILLed and reaped on drop, its output collected by threads.
pub(crate) struct Running {
    command: String,
    child: Option<Child>,
    lines: Receiver<String>,
    err_lines: Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    closed: Receiver<()>,
}

impl Running {
    /// Spawns `cmd` (stdout and stderr must be piped).
    pub(crate) fn start(mut cmd: Command) -> Self {
        let command = format!("{cmd:?}");
        let mut child = cmd.spawn().expect("spawn harness");
        let (closed_tx, closed) = channel();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().expect("stdout piped");
        let err = child.stderr.take().expect("stderr piped");
        let lines = collect(out, Arc::clone(&stdout), closed_tx.clone());
        let err_lines = collect(err, Arc::clone(&stderr), closed_tx);
        Self {
            command,
            child: Some(child),
            lines,
            err_lines,
            stdout,
            stderr,
            closed,
        }
    }

    /// The process id of `harness`.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Waits (at most `limit`) for a stdout line satisfying `want` and returns it.
    pub(crate) fn line(&self, limit: Duration, want: impl Fn(&str) -> bool) -> String {
        self.wait_line(&self.lines, "stdout", limit, want)
    }

    /// Waits (at most `limit`) for a stderr line satisfying `want` and returns it.
    pub(crate) fn err_line(&self, limit: Duration, want: impl Fn(&str) -> bool) -> String {
        self.wait_line(&self.err_lines, "stderr", limit, want)
    }

    fn wait_line(
        &self,
        lines: &Receiver<String>,
        stream: &str,
        limit: Duration,
        want: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if want(&line) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no such {stream} line within {limit:?}\n{}",
                        self.snapshot()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("{stream} closed before such a line\n{}", self.snapshot())
                }
            }
        }
    }

    /// Sends `signal` (like `INT`, `TERM`) to `harness` alone.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("sh")
            .args(["-c", &format!("kill -{signal} {}", self.pid())])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGKILLs `harness` and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits (at most `limit`) for `harness` to exit and its output to end.
    pub(crate) fn wait(mut self, limit: Duration) -> Output {
        let deadline = Instant::now() + limit;
        let mut child = self.child.take().expect("running");
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("harness still running after {limit:?}\n{}", self.snapshot());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // Both pipes end once every process that inherited them is gone. An exit near the limit
        // still leaves the readers a moment to see the ends.
        for _ in 0..2 {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(5));
            if self.closed.recv_timeout(left).is_err() {
                panic!(
                    "harness exited ({status}) but its output stayed open (a leaked process?)\n{}",
                    self.snapshot()
                );
            }
        }
        Output {
            command: self.command.clone(),
            status,
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }

    fn snapshot(&self) -> String {
        format!(
            "command: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.stdout.lock().unwrap(),
            self.stderr.lock().unwrap()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads `pipe` on a thread, line by line, into `text` and the returned channel; says on
/// `closed` when the pipe ends.
fn collect(
    pipe: impl Read + Send + 'static,
    text: Arc<Mutex<String>>,
    closed: std::sync::mpsc::Sender<()>,
) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut pipe = BufReader::new(pipe);
        let mut raw = Vec::new();
        while pipe.read_until(b'\n', &mut raw).is_ok_and(|n| n > 0) {
            let line = String::from_utf8_lossy(&raw)
                .trim_end_matches('\n')
                .to_owned();
            raw.clear();
            text.lock().unwrap().push_str(&format!("{line}\n"));
            let _ = tx.send(line);
        }
        let _ = closed.send(());
    });
    rx
}

pub(crate) use crate::procs::{alive, wait_until};

/// The live processes whose environment has `MARKER_KEY=value`, with their names, from `/proc`.
pub(crate) fn processes_marked(value: &str) -> Vec<(u32, String)> {
    crate::procs::marked(&format!("{MARKER_KEY}={value}"))
}

/// `cmd` with no HTTP proxy for loopback: stock WebDriver clients (Selenium) honour the proxy
/// variables, and a CI machine's proxy cannot reach this machine's 127.0.0.1.
pub(crate) fn without_proxy(cmd: &mut Command) -> &mut Command {
    for proxy in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(proxy);
    }
    cmd.env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
}

/// The driver of `browser` behind a wrapper script in `dir` that counts its starts, for tests that
/// prove one driver serves a whole run. Set the returned variable (`CHROMEDRIVER` or
/// `GECKODRIVER`) to the wrapper; [`DriverStarts::count`] says how many times it ran.
pub(crate) struct DriverStarts {
    /// The variable that names the driver to the harness.
    pub(crate) var: &'static str,
    /// The wrapper to name in it.
    pub(crate) wrapper: PathBuf,
    starts: PathBuf,
}

impl DriverStarts {
    /// Writes the wrapper for `browser`'s installed driver into `dir`.
    pub(crate) fn new(browser: harness::Browser, dir: &std::path::Path) -> Self {
        let real = harness::__cli::find_driver(browser).expect("the driver is installed");
        let starts = dir.join("driver-starts");
        let wrapper = dir.join("driver");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho start >> '{}'\nexec '{}' \"$@\"\n",
                starts.display(),
                real.display()
            ),
        )
        .expect("write the driver wrapper");
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("make the wrapper executable");
        let var = match browser {
            harness::Browser::Chrome => "CHROMEDRIVER",
            harness::Browser::Firefox => "GECKODRIVER",
        };
        Self {
            var,
            wrapper,
            starts,
        }
    }

    /// How many times the driver was started so far.
    pub(crate) fn count(&self) -> usize {
        std::fs::read_to_string(&self.starts)
            .unwrap_or_default()
            .lines()
            .count()
    }
}
