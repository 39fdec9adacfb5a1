//! A test process SIGKILLed mid-session leaves no driver and no browser behind.

use std::time::{Duration, Instant};

use crate::procs::{OWNER_READY, marked, spawn_owner};
use crate::support::web;

const MARKER_KEY: &str = "HARNESS_E2E_OWNER_MARKER";

#[test]
fn sigkilled_test_process_leaves_no_driver_or_browser() {
    let marker_value = format!("{}-{:?}", std::process::id(), Instant::now());
    let marker = format!("{MARKER_KEY}={marker_value}");
    // Its own temporary folder, to see that the browser profiles it leaves are deleted too.
    let tmp = tempfile::tempdir().unwrap();
    let (mut owner, _) = spawn_owner(
        "cleanup::owner",
        &[
            (MARKER_KEY, &marker_value),
            ("TMPDIR", tmp.path().to_str().unwrap()),
        ],
        Duration::from_secs(90),
    );
    let profiles = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("harness-profiles-")
            })
            .count()
    };
    assert_eq!(
        profiles(),
        1,
        "the owner keeps its browser profiles in one folder"
    );
    let before = marked(&marker);
    let browser_names = [
        "chromium",
        "chrome",
        "firefox",
        "firefox-esr",
        "chromedriver",
        "geckodriver",
    ];
    let drivers_and_browsers: Vec<_> = before
        .iter()
        .filter(|(_, name)| browser_names.iter().any(|b| name.starts_with(b)))
        .collect();
    assert!(
        drivers_and_browsers.len() >= 2,
        "a driver and a browser are counted: {before:?}"
    );

    owner.kill().unwrap();
    owner.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = marked(&marker);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "alive 2 s after SIGKILL: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let profiles_gone = crate::procs::wait_until(Duration::from_secs(5), || profiles() == 0);
    assert!(
        profiles_gone,
        "the killed owner's browser profiles were not deleted"
    );
}

/// Run only by the test above, in a child process it then SIGKILLs.
#[tokio::test]
#[ignore = "helper process for sigkilled_test_process_leaves_no_driver_or_browser"]
async fn owner() {
    if std::env::var_os(MARKER_KEY).is_none() {
        return;
    }
    let web = web().await;
    // Its own driver (not the shared one) so this process starts everything it is killed with.
    let driver = harness::Driver::from_env().await.expect("a browser");
    let session = driver.session().await.expect("a session");
    session
        .goto(web.url().join("counter").unwrap().as_str())
        .await
        .unwrap();
    println!("{OWNER_READY}");
    std::future::pending::<()>().await;
}
