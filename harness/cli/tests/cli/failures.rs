//! Servers that fail: before they are ready (exit 3) and while the tests run (exit 4).

use std::time::{Duration, Instant};

use crate::support::{UNTIL_DEAD, fixtures_app, run};

#[test]
fn a_server_that_exits_before_ready_is_exit_3_with_its_stderr() {
    let web = format!("web={} --exit-before-handshake 7", fixtures_app());
    let out = run(&["run", "--server", &web, "--", "sh", "-c", "echo TESTS-RAN"]);
    assert_eq!(out.code(), Some(3), "{out}");
    assert!(
        out.stderr.contains("server `web` did not become ready"),
        "{out}"
    );
    assert!(out.stderr.contains("exit code 7"), "{out}");
    assert!(
        out.stderr
            .contains("fixtures-app: exiting with code 7 before the handshake"),
        "{out}"
    );
    assert!(!out.stdout.contains("TESTS-RAN"), "{out}");
}

#[test]
fn a_server_that_never_gets_ready_is_exit_3_at_the_timeout() {
    let web = format!("web={} --no-handshake", fixtures_app());
    let started = Instant::now();
    let out = run(&[
        "run",
        "--server",
        &web,
        "--ready-timeout",
        "1",
        "--",
        "sh",
        "-c",
        "echo TESTS-RAN",
    ]);
    assert_eq!(out.code(), Some(3), "{out}");
    assert!(started.elapsed() < Duration::from_secs(20), "{out}");
    assert!(out.stderr.contains("not ready within 1s"), "{out}");
    assert!(out.stderr.contains("still running"), "{out}");
    assert!(!out.stdout.contains("TESTS-RAN"), "{out}");
}

#[test]
fn one_failing_server_fails_the_start_of_all() {
    let good = format!("good={}", fixtures_app());
    let bad = format!("bad={} --exit-before-handshake 9", fixtures_app());
    let out = run(&["run", "--server", &good, "--server", &bad, "--", "true"]);
    assert_eq!(out.code(), Some(3), "{out}");
    assert!(out.stderr.contains("server `bad`"), "{out}");
    assert!(!out.stderr.contains("server `good`"), "{out}");
}

#[test]
fn a_server_dying_during_passing_tests_is_exit_4_and_named() {
    // stdin is /dev/null, so the server exits right after its handshake.
    let web = format!("web={} --exit-on-stdin-eof", fixtures_app());
    let out = run(&[
        "run", "--server", &web, "--", "python3", "-c", UNTIL_DEAD, "WEB",
    ]);
    assert_eq!(out.code(), Some(4), "{out}");
    assert!(
        out.stderr.contains("server `web`") && out.stderr.contains("died while the tests ran"),
        "{out}"
    );
    assert!(out.stderr.contains("exit code 0"), "{out}");
    assert!(
        out.stderr.contains("stdin closed"),
        "its last lines are shown: {out}"
    );
}

#[test]
fn a_failing_test_command_keeps_its_code_when_a_server_died() {
    let web = format!("web={} --exit-on-stdin-eof", fixtures_app());
    let script = "python3 -c \"$0\" WEB && exit 7";
    let out = run(&[
        "run", "--server", &web, "--", "sh", "-c", script, UNTIL_DEAD,
    ]);
    assert_eq!(out.code(), Some(7), "{out}");
    assert!(out.stderr.contains("server `web`"), "{out}");
}
