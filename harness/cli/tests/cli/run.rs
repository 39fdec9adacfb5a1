//! `harness run` against working servers: variables, readiness rules, logs.

use crate::support::{GET, fixtures_app, run};

#[test]
fn the_test_command_reaches_a_handshake_server_through_its_variables() {
    let web = format!("web-app={}", fixtures_app());
    let out = run(&[
        "run", "--server", &web, "--", "python3", "-c", GET, "WEB_APP", "hello",
    ]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("Hello World"), "{out}");
    assert!(out.stdout.contains("port="), "{out}");
}

#[test]
fn a_python_http_server_is_ready_on_its_regex() {
    // Python block-buffers stdout into a pipe; the library sets PYTHONUNBUFFERED=1.
    let out = run(&[
        "run",
        "--server",
        "py=python3 -m http.server 0 --bind 127.0.0.1",
        "--ready",
        r"py=port (?P<port>\d+)",
        "--ready-timeout",
        "20",
        "--",
        "python3",
        "-c",
        GET,
        "PY",
        "",
    ]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("Directory listing"), "{out}");
}

#[test]
fn url_ends_with_a_slash_and_health_checks_pass() {
    let web = format!("web={}", fixtures_app());
    let out = run(&[
        "run",
        "--server",
        &web,
        "--health",
        "web=/health",
        "--grace",
        "0.5",
        "--",
        "sh",
        "-c",
        r#"case "$WEB_URL" in http://127.0.0.1:"$WEB_PORT"/) echo URL-OK ;; *) exit 1 ;; esac
        grep -q fixtures-app "/proc/$WEB_PID/cmdline" && echo PID-OK"#,
    ]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("URL-OK"), "{out}");
    assert!(
        out.stdout.contains("PID-OK"),
        "WEB_PID is the server: {out}"
    );
}

#[test]
fn logs_stream_with_a_prefix_only_when_asked() {
    let web = format!("web={}", fixtures_app());
    let quiet = run(&["run", "--server", &web, "--", "true"]);
    assert_eq!(quiet.code(), Some(0), "{quiet}");
    assert!(!quiet.stderr.contains("[web]"), "{quiet}");
    assert!(!quiet.stderr.contains("last lines"), "{quiet}");

    // The test command names the server; its handshake line must come back on stderr, whole,
    // behind `[web] `: the echo copies the server's lines, it does not just mark them.
    let loud = run(&[
        "run",
        "--logs",
        "--server",
        &web,
        "--",
        "sh",
        "-c",
        "echo \"$WEB_PID $WEB_URL\"",
    ]);
    assert_eq!(loud.code(), Some(0), "{loud}");
    let (pid, url) = loud
        .stdout
        .trim()
        .split_once(' ')
        .unwrap_or_else(|| panic!("WEB_PID and WEB_URL: {loud}"));
    let handshake = format!(
        r#"{{"harness":1,"pid":{pid},"listening":{{"http":"{}"}}}}"#,
        url.trim_end_matches('/')
    );
    assert!(
        loud.stderr
            .lines()
            .any(|line| line == format!("[web] {handshake}")),
        "the server's handshake line, echoed exactly as `[web] {handshake}`: {loud}"
    );
}

#[test]
fn a_failing_test_command_shows_the_last_server_lines() {
    let web = format!("web={}", fixtures_app());
    let out = run(&["run", "--server", &web, "--", "false"]);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stderr.contains("last lines of server `web`"), "{out}");
    assert!(
        out.stderr.contains(r#""harness":1"#),
        "the handshake line is shown: {out}"
    );
}
