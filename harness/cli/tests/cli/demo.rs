//! `harness demo`: four servers and four Chrome sessions checked in a table; a clear, fast failure
//! when the browser is missing and cannot be installed.

use std::time::{Duration, Instant};

use crate::support::{MARKER_KEY, Output, Running, harness, processes_marked, unique, wait_until};

/// Four cold Chrome starts on a loaded two-core machine.
const DEMO_LIMIT: Duration = Duration::from_secs(180);

#[test]
fn demo_checks_four_instances_and_leaves_nothing_running() {
    let marker = unique();
    let mut cmd = harness(&["demo"]);
    cmd.env(MARKER_KEY, &marker)
        .env_remove("CHROMEDRIVER")
        .env_remove("CHROME_BIN")
        .env_remove("HARNESS_HEADFUL");
    let out = Running::start(cmd).wait(DEMO_LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    let rows: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("http://127.0.0.1:"))
        .collect();
    assert_eq!(rows.len(), 4, "{out}");
    for (i, row) in rows.iter().enumerate() {
        assert!(row.starts_with(&format!("{} ", i + 1)), "{row}\n{out}");
        assert!(row.contains("3/3 passed"), "{row}\n{out}");
    }
    assert!(out.stdout.contains("all 12 checks passed"), "{out}");
    assert!(
        wait_until(Duration::from_secs(10), || processes_marked(&marker)
            .is_empty()),
        "left running: {:?}\n{out}",
        processes_marked(&marker)
    );
}

/// Runs the demo with no chromedriver to be found and `apt-get` replaced by `apt_get`.
fn demo_without_chromedriver(apt_get: &str) -> (crate::support::Output, Duration) {
    let mut cmd = harness(&["demo"]);
    cmd.env("CHROMEDRIVER", "/nonexistent/chromedriver")
        .env("CHROME_BIN", "/nonexistent/chromium")
        .env("HARNESS_APT_GET", apt_get);
    let started = Instant::now();
    let out = Running::start(cmd).wait(Duration::from_secs(60));
    (out, started.elapsed())
}

/// Exit 1, well before the 60 s limit, with the install command in the message.
fn failed_fast_naming_the_install(out: &Output, elapsed: Duration) {
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}\n{out}");
    assert!(
        out.stderr
            .contains("apt-get install chromium chromium-driver"),
        "{out}"
    );
}

#[test]
fn demo_fails_fast_naming_the_commands_when_the_browser_cannot_be_installed() {
    let (out, elapsed) = demo_without_chromedriver("/bin/false");
    failed_fast_naming_the_install(&out, elapsed);
    assert!(
        out.stderr
            .contains("/nonexistent/chromedriver (no such file)"),
        "{out}"
    );
    assert!(out.stdout.is_empty(), "no table: {out}");
}

#[test]
fn demo_checks_again_after_installing_and_stops_if_still_missing() {
    // `apt-get` "succeeds" but installs nothing, and $CHROMEDRIVER still points nowhere.
    let (out, elapsed) = demo_without_chromedriver("/bin/true");
    failed_fast_naming_the_install(&out, elapsed);
    let privileged = out.stderr.contains("$ ");
    if privileged {
        assert!(
            out.stderr.contains("install -y chromium chromium-driver"),
            "{out}"
        );
        assert!(out.stderr.contains("still not found"), "{out}");
    }
}
