//! Signals to `harness` and its death: nothing it started survives.

use std::time::Duration;

use crate::support::{
    LIMIT, MARKER_KEY, Running, fixtures_app, harness, processes_marked, unique, wait_until,
};

#[test]
fn sigkill_of_harness_leaves_no_descendant_within_2_seconds() {
    let marker = format!("sigkill-{}", unique());
    let web = format!("web={}", fixtures_app());
    let web2 = format!("web2={} --spawn-grandchild", fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--server",
        &web,
        "--server",
        &web2,
        "--",
        "sh",
        "-c",
        "echo READY; sleep 600",
    ]);
    cmd.env(MARKER_KEY, &marker);
    let mut run = Running::start(cmd);
    run.line(LIMIT, |l| l == "READY");
    let before = processes_marked(&marker);
    // harness, 2 servers, a grandchild, the test shell and its sleep (and the watchdog).
    assert!(before.len() >= 6, "{before:?}");

    run.kill(); // SIGKILL: harness runs no cleanup of its own.
    let gone = wait_until(Duration::from_secs(2), || {
        processes_marked(&marker).is_empty()
    });
    assert!(
        gone,
        "still alive 2 s after SIGKILL: {:?}",
        processes_marked(&marker)
    );
}

#[test]
fn sigint_is_forwarded_to_the_tests_then_servers_stop() {
    let marker = format!("sigint-{}", unique());
    let web = format!("web={}", fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--logs",
        "--server",
        &web,
        "--",
        "sh",
        "-c",
        r#"trap "echo GOT-INT; exit 9" INT; echo READY; while :; do sleep 0.1; done"#,
    ]);
    cmd.env(MARKER_KEY, &marker);
    let run = Running::start(cmd);
    run.line(LIMIT, |l| l == "READY");
    run.signal("INT");
    let out = run.wait(Duration::from_secs(30));
    // The command's own status (9) does not count: an interrupted run is 128+SIGINT.
    assert_eq!(out.code(), Some(130), "{out}");
    assert!(out.stdout.contains("GOT-INT"), "{out}");
    assert!(
        out.stderr.contains("SIGTERM received"),
        "the server was stopped with SIGTERM: {out}"
    );
    // Only the watchdog may still be on its way out.
    assert!(
        wait_until(Duration::from_secs(2), || processes_marked(&marker)
            .is_empty()),
        "left behind: {:?}\n{out}",
        processes_marked(&marker)
    );
}

#[test]
fn a_second_signal_kills_everything_at_once() {
    let marker = format!("second-{}", unique());
    let web = format!("web={} --ignore-sigterm", fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--grace",
        "60",
        "--server",
        &web,
        "--",
        "sh",
        "-c",
        r#"trap "" TERM; echo READY; while :; do sleep 0.1; done"#,
    ]);
    cmd.env(MARKER_KEY, &marker);
    let run = Running::start(cmd);
    run.line(LIMIT, |l| l == "READY");
    run.signal("TERM");
    run.err_line(LIMIT, |l| l.contains("passing it on to the test command"));
    // The test command ignores SIGTERM; the second signal must not wait for it or the grace.
    run.signal("TERM");
    let out = run.wait(Duration::from_secs(20));
    assert_eq!(out.code(), Some(143), "{out}");
    assert!(out.stderr.contains("killing everything now"), "{out}");
    assert!(
        wait_until(Duration::from_secs(2), || processes_marked(&marker)
            .is_empty()),
        "left behind: {:?}\n{out}",
        processes_marked(&marker)
    );
}
