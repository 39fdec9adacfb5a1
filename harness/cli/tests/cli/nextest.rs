//! The nextest setup script of this workspace (`.config/nextest.toml`): one warm stack for the
//! run, and nothing of it left once nextest is gone, whether the run ended, was interrupted with
//! Ctrl-C (SIGINT), or nextest was SIGKILLed. nextest has no teardown hook: the stack watches
//! nextest's pid.
//!
//! Each case runs the real `cargo nextest run` on one test of the e2e suite, with a marker variable
//! that every process of the run inherits (nextest, the setup script, `harness serve`, its
//! endpoint, drivers, browsers and fixtures-app), and then counts the marked processes.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::procs::{marked, wait_until};
use crate::support::unique;

/// How long a case may take: a first build of the CLI in the setup script, and cold browsers.
const RUN_LIMIT: Duration = Duration::from_secs(240);
/// The browser test the runs use: slow enough to be interrupted while it runs.
const SLOW_TEST: &str = "test(=pages::slow_page_is_waited_for)";

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// `cargo nextest run -p e2e -E FILTER` with `marker` in its environment, in its own process
/// group (so the test can signal nextest as a terminal would, without signalling itself).
fn nextest(marker: &str, filter: &str) -> Child {
    nextest_with(marker, filter, &[])
}

/// [`nextest`] with extra variables.
fn nextest_with(marker: &str, filter: &str, vars: &[(&str, String)]) -> Child {
    let (key, value) = marker.split_once('=').expect("KEY=VALUE");
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.envs(vars.iter().map(|(k, v)| (k, v)));
    cmd.args([
        "nextest",
        "run",
        "--no-fail-fast",
        "-p",
        "e2e",
        "-E",
        filter,
    ])
    .current_dir(workspace_root())
    .env(key, value)
    .env_remove("HARNESS_NEXTEST_STACK")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn()
        .expect("cargo nextest runs (install it: `cargo install cargo-nextest`)")
}

/// Waits for `child` to exit, at most `limit`; kills it on the way out otherwise.
fn finish(mut child: Child, limit: Duration) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for nextest") {
            let out = child.wait_with_output().expect("nextest's output");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return (status, text);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("cargo nextest did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The marked processes named like a part of the stack, once a browser of the run is up.
fn wait_for_stack(marker: &str, run: &mut Child) -> Vec<(u32, String)> {
    let mut ended = None;
    let up = wait_until(RUN_LIMIT, || {
        // A run that ended first (no cargo-nextest, a failed setup) has nothing left to wait for.
        ended = run.try_wait().expect("wait for nextest");
        ended.is_some()
            || marked(marker)
                .iter()
                .any(|(_, name)| name.starts_with("chrom") || name.starts_with("firefox"))
    });
    let seen = marked(marker);
    if let Some(status) = ended {
        let mut out = String::new();
        if let Some(mut stderr) = run.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut out);
        }
        panic!("cargo nextest ended ({status}) before a browser of the run came up: {out}");
    }
    assert!(up, "no browser of the run came up: {seen:?}");
    seen
}

/// Asserts that no process of the stack is left within 2 s of nextest's end, and no process of
/// the run at all soon after. A test process nextest started is its own: orphaned by a SIGKILL of
/// nextest, it finishes its test (seconds) and exits, so it gets the longer bound.
fn assert_nothing_left(marker: &str, what: &str) {
    let stack = || -> Vec<(u32, String)> {
        marked(marker)
            .into_iter()
            .filter(|(_, name)| !name.starts_with("e2e-"))
            .collect()
    };
    let gone = wait_until(Duration::from_secs(2), || stack().is_empty());
    assert!(gone, "{what}: left running: {:?}", stack());
    let all_gone = wait_until(Duration::from_secs(30), || marked(marker).is_empty());
    assert!(all_gone, "{what}: left running: {:?}", marked(marker));
}

#[test]
fn a_nextest_run_shares_one_stack_and_leaves_nothing() {
    let marker = format!("HARNESS_NEXTEST_MARK={}", unique());
    // The driver, behind a wrapper that counts its starts: the tests lease from the stack's one
    // driver, never start their own.
    let browser = harness::Browser::from_env().expect("HARNESS_BROWSER names a browser");
    let dir = tempfile::tempdir().unwrap();
    let starts = crate::support::DriverStarts::new(browser, dir.path());
    let three_tests = "test(=pages::navigation_and_page_title) | test(=pages::whoami_is_this_suites_own_server) | test(=login::wrong_password_is_refused)";
    let run = nextest_with(
        &marker,
        three_tests,
        &[
            (starts.var, starts.wrapper.display().to_string()),
            ("HARNESS_NEXTEST_POOL", "1".to_owned()),
        ],
    );
    let (status, out) = finish(run, RUN_LIMIT);
    assert!(status.success(), "the run passed: {out}");
    assert!(out.contains("harness-stack"), "the setup script ran: {out}");
    assert_eq!(
        starts.count(),
        1,
        "three test processes, one driver (the stack's pool of one): {out}"
    );
    assert_nothing_left(&marker, "after the run ended");
}

#[test]
fn interrupting_nextest_leaves_nothing() {
    let marker = format!("HARNESS_NEXTEST_MARK={}", unique());
    let mut run = nextest(&marker, SLOW_TEST);
    let seen = wait_for_stack(&marker, &mut run);
    let group = rustix::process::Pid::from_raw(run.id() as i32).expect("a pid");
    rustix::process::kill_process_group(group, rustix::process::Signal::INT)
        .expect("SIGINT to nextest's group, as Ctrl-C sends it");
    let (status, out) = finish(run, Duration::from_secs(60));
    assert!(!status.success(), "an interrupted run is no pass: {out}");
    assert_nothing_left(&marker, &format!("after Ctrl-C (had {seen:?})"));
}

#[test]
fn sigkilling_nextest_leaves_nothing() {
    let marker = format!("HARNESS_NEXTEST_MARK={}", unique());
    let mut run = nextest(&marker, SLOW_TEST);
    let seen = wait_for_stack(&marker, &mut run);
    // cargo runs cargo-nextest as a child: SIGKILL that one, the process the stack watches.
    let nextest_pid = seen
        .iter()
        .find(|(_, name)| name.starts_with("cargo-nextest"))
        .map(|(pid, _)| *pid)
        .unwrap_or_else(|| panic!("cargo-nextest is among {seen:?}"));
    let pid = rustix::process::Pid::from_raw(nextest_pid as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::KILL)
        .expect("SIGKILL cargo-nextest");
    // nextest's own test processes are its children and die by their own tie to it; the stack
    // was detached from nextest's group and must notice on its own.
    let (_status, _out) = finish(run, Duration::from_secs(60));
    assert_nothing_left(
        &marker,
        &format!("after SIGKILL of cargo-nextest (had {seen:?})"),
    );
}
