//! The endpoint and everything it started end with it: SIGKILL, SIGTERM, a dead driver; a missing
//! driver fails before anything starts.

use super::*;

#[test]
fn sigkill_of_the_endpoint_leaves_no_driver_or_browser_within_2_seconds() {
    let marker = format!("wd-sigkill-{}", unique());
    let (mut run, _url) = start_marked(&marker, &["--pool", "2"]);
    // The endpoint announces once one session is warm; the other warms up behind it.
    let both = wait_until(LIMIT, || browser_mains(&marker).len() == 2);
    let before = processes_marked(&marker);
    assert!(both, "two warm browsers: {before:?}");
    run.kill();
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
fn sigterm_stops_the_endpoint_and_everything_it_started() {
    let marker = format!("wd-sigterm-{}", unique());
    let (run, url) = start_marked(&marker, &["--pool", "1"]);
    let status = test_support::http::get_ok(url.join("status").unwrap().as_str());
    assert!(status.contains("\"ready\":true"), "{status}");
    run.signal("TERM");
    // `wait` also checks that nothing kept harness's output open.
    let out = run.wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        wait_until(Duration::from_secs(2), || processes_marked(&marker)
            .is_empty()),
        "left behind: {:?}",
        processes_marked(&marker)
    );
}

/// Chrome only: its sessions share one chromedriver (Firefox's geckodrivers are one per session,
/// replaced with it).
#[test]
fn the_endpoint_exits_4_when_its_chromedriver_dies_and_leaves_nothing() {
    let marker = format!("wd-driver-{}", unique());
    let mut cmd = harness(&["webdriver", "--browser", "chrome", "--pool", "1"]);
    cmd.env(MARKER_KEY, &marker);
    let run = Running::start(cmd);
    run.line(LIMIT, |l| l.contains("\"harness\":1"));
    let drivers: Vec<u32> = processes_marked(&marker)
        .into_iter()
        .filter(|(_, name)| name == "chromedriver")
        .map(|(pid, _)| pid)
        .collect();
    assert_eq!(drivers.len(), 1, "{:?}", processes_marked(&marker));
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &drivers[0].to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = run.wait(LIMIT);
    assert_eq!(out.code(), Some(4), "{out}");
    assert!(out.stderr.contains("died"), "{out}");
    assert!(
        wait_until(Duration::from_secs(2), || processes_marked(&marker)
            .is_empty()),
        "left behind: {:?}",
        processes_marked(&marker)
    );
}

#[test]
fn a_missing_driver_fails_before_anything_starts_naming_the_install_command() {
    let mut cmd = harness(&["webdriver", "--browser", "chrome"]);
    cmd.env("CHROMEDRIVER", "/nonexistent/chromedriver");
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(2), "{out}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "one line: {out}");
    assert!(out.stderr.contains("/nonexistent/chromedriver"), "{out}");
    assert!(out.stderr.contains("apt-get install"), "{out}");
    assert!(out.stdout.is_empty(), "no handshake: {out}");
}
