//! `harness serve`'s lifetime besides signals: its owner (`--parent-pid`), its stdin
//! (`--stdin-eof`), `--detach` for callers that must exit first, and what it leaves for them
//! (`--env-file`, `--log-dir`: see [`serve_files`](crate::serve_files) too).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{
    LIMIT, MARKER_KEY, Running, fixtures_app, harness, harness_bin, processes_marked, scratch_dir,
    unique, wait_until, with_suite_setup,
};

/// A process to own a `serve`: `sleep 600`, unmarked, killed and reaped on drop.
struct Owner(Child);

impl Owner {
    fn start() -> Self {
        Self(
            Command::new("sleep")
                .arg("600")
                .spawn()
                .expect("spawn sleep"),
        )
    }

    fn pid(&self) -> String {
        self.0.id().to_string()
    }

    /// SIGKILL, and reaped: its pidfd reports the exit.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Asserts that nothing marked `marker` is alive 2 s from now at the latest.
fn all_gone_within_2_seconds(marker: &str, what: &str) {
    let gone = wait_until(Duration::from_secs(2), || {
        processes_marked(marker).is_empty()
    });
    assert!(
        gone,
        "{what}: still alive 2 s later: {:?}",
        processes_marked(marker)
    );
}

use crate::serve_files::env_file;

#[test]
fn serve_and_its_servers_die_with_a_sigkilled_owner() {
    let marker = format!("owner-{}", unique());
    let mut owner = Owner::start();
    let web = format!("web={}", fixtures_app());
    let web2 = format!("web2={} --spawn-grandchild", fixtures_app());
    let pid = owner.pid();
    let mut cmd = harness(&[
        "serve",
        "--parent-pid",
        &pid,
        "--server",
        &web,
        "--server",
        &web2,
    ]);
    cmd.env(MARKER_KEY, &marker);
    let serve = Running::start(cmd);
    serve.line(LIMIT, |l| l.starts_with('{'));
    // serve, 2 servers, a grandchild (and the watchdog).
    assert!(
        processes_marked(&marker).len() >= 4,
        "{:?}",
        processes_marked(&marker)
    );

    owner.kill();
    all_gone_within_2_seconds(&marker, "after the owner's SIGKILL");
    let out = serve.wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "the owner process (pid {pid}) exited: stopping the servers"
        )),
        "{out}"
    );
}

#[test]
fn parent_is_the_process_that_started_serve() {
    let marker = format!("parent-{}", unique());
    let web = format!("web={}", fixtures_app());
    // The shell stays (it has more to do after serve), so it is serve's parent.
    let mut cmd = with_suite_setup(Command::new("sh"));
    cmd.args([
        "-c",
        r#""$0" serve --parent-pid parent --server "$1"; exit 0"#,
        harness_bin(),
        &web,
    ])
    .env(MARKER_KEY, &marker);
    let mut shell = Running::start(cmd);
    shell.line(LIMIT, |l| l.starts_with('{'));
    shell.kill();
    all_gone_within_2_seconds(&marker, "after the parent shell's SIGKILL");
}

#[test]
fn stdin_eof_stops_serve() {
    let marker = format!("stdin-{}", unique());
    let mut writer = Command::new("sleep")
        .arg("600")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let web = format!("web={}", fixtures_app());
    let mut cmd = harness(&["serve", "--stdin-eof", "--server", &web]);
    cmd.env(MARKER_KEY, &marker)
        .stdin(Stdio::from(writer.stdout.take().unwrap()));
    let serve = Running::start(cmd);
    let line = serve.line(LIMIT, |l| l.starts_with('{'));
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = json["servers"]["web"]["url"].as_str().unwrap();
    assert_eq!(
        test_support::http::get_ok(&format!("{url}hello")),
        "Hello World"
    );

    // The only writer goes away: end of file.
    let _ = writer.kill();
    let _ = writer.wait();
    let out = serve.wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        out.stderr
            .contains("stdin reached end of file: stopping the servers"),
        "{out}"
    );
    assert!(
        out.stderr.contains("SIGTERM received"),
        "stopped gracefully: {out}"
    );
    all_gone_within_2_seconds(&marker, "after serve exited");
}

#[test]
fn detach_returns_once_ready_holding_no_caller_pipe_and_dies_with_the_owner() {
    let marker = format!("detach-{}", unique());
    let dir = scratch_dir("detach");
    let env_path = dir.join("env");
    let mut owner = Owner::start();
    let web = format!("web={} --spawn-grandchild", fixtures_app());
    let pid = owner.pid();
    let mut cmd = harness(&[
        "serve",
        "--detach",
        "--parent-pid",
        &pid,
        "--server",
        &web,
        "--env-file",
        env_path.to_str().unwrap(),
        "--log-dir",
        dir.to_str().unwrap(),
    ]);
    cmd.env(MARKER_KEY, &marker);
    // `wait` fails unless both of its pipes close: nothing may keep them open.
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("the JSON line");
    let url = json["servers"]["web"]["url"].as_str().unwrap();
    assert_eq!(
        test_support::http::get_ok(&format!("{url}hello")),
        "Hello World"
    );
    assert_eq!(env_file(&env_path)["WEB_URL"], url);
    assert!(
        dir.join("serve.log").is_file(),
        "the background serve's stderr"
    );
    // The background serve, the server, its grandchild (and the watchdog) live on.
    assert!(
        processes_marked(&marker).len() >= 3,
        "{:?}",
        processes_marked(&marker)
    );

    owner.kill();
    all_gone_within_2_seconds(&marker, "after the owner's SIGKILL");
    let serve_log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    assert!(
        serve_log.contains(&format!("the owner process (pid {pid}) exited")),
        "{serve_log}"
    );
}

#[test]
fn detach_parent_is_the_invokers_parent() {
    let marker = format!("detach-parent-{}", unique());
    let web = format!("web={}", fixtures_app());
    // The shell becomes `sleep` with the same pid: the parent the invoker saw stays alive.
    let mut cmd = with_suite_setup(Command::new("sh"));
    cmd.args([
        "-c",
        r#""$0" serve --detach --parent-pid parent --server "$1" && echo DETACHED && exec sleep 600"#,
        harness_bin(),
        &web,
    ])
    .env(MARKER_KEY, &marker);
    let mut shell = Running::start(cmd);
    let line = shell.line(LIMIT, |l| l.starts_with('{'));
    shell.line(LIMIT, |l| l == "DETACHED");
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = json["servers"]["web"]["url"].as_str().unwrap();
    assert_eq!(
        test_support::http::get_ok(&format!("{url}hello")),
        "Hello World"
    );

    shell.kill();
    all_gone_within_2_seconds(&marker, "after the invoker's parent's SIGKILL");
}

#[test]
fn a_detached_serve_that_fails_says_why_with_its_status() {
    let marker = format!("detach-fail-{}", unique());
    let owner = Owner::start();
    let pid = owner.pid();
    let bad = "bad=sh -c 'echo broken-on-purpose >&2; exit 7'";
    let mut cmd = harness(&["serve", "--detach", "--parent-pid", &pid, "--server", bad]);
    cmd.env(MARKER_KEY, &marker);
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(3), "not ready: {out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("the background serve exited"), "{out}");
    assert!(
        out.stderr.contains("broken-on-purpose"),
        "its stderr tail: {out}"
    );
    all_gone_within_2_seconds(&marker, "after the failure");
}

#[test]
fn a_stop_request_while_detaching_kills_the_background_serve() {
    let marker = format!("detach-stop-{}", unique());
    let owner = Owner::start();
    let pid = owner.pid();
    let never_ready = "slow=sh -c 'exec sleep 60'";
    let mut cmd = harness(&[
        "serve",
        "--detach",
        "--parent-pid",
        &pid,
        "--ready-timeout",
        "60",
        "--server",
        never_ready,
    ]);
    cmd.env(MARKER_KEY, &marker);
    let invoker = Running::start(cmd);
    let started = wait_until(LIMIT, || {
        processes_marked(&marker)
            .iter()
            .any(|(_, name)| name == "sleep")
    });
    assert!(
        started,
        "the server never started: {:?}",
        processes_marked(&marker)
    );
    invoker.signal("TERM");
    let out = invoker.wait(LIMIT);
    assert_eq!(out.code(), Some(143), "{out}");
    assert!(
        out.stderr
            .contains("killed the background serve before it was ready"),
        "{out}"
    );
    all_gone_within_2_seconds(&marker, "after the invoker's SIGTERM");
}
