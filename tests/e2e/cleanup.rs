//! A test process SIGKILLed mid-session leaves no driver, no browser and no temporary folder behind.

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
    // Everything the owner's process tree left directly in its temporary folder.
    let entries = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let held = entries();
    assert!(
        held.len() == 1 && held[0].starts_with("harness-profiles-"),
        "the owner, its driver and its browser keep everything in one folder: {held:?}"
    );
    if harness::Browser::from_env().unwrap() == harness::Browser::Chrome {
        // chromedriver's own folder, which it deletes only on a clean exit, is in there.
        let scoped = find_named(
            &tmp.path().join(&held[0]),
            "org.chromium.Chromium.scoped_dir",
        );
        assert!(
            !scoped.is_empty(),
            "chromedriver's scoped folder is inside the owner's folder"
        );
    }
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
    let all_gone = crate::procs::wait_until(Duration::from_secs(5), || entries().is_empty());
    assert!(
        all_gone,
        "the killed owner left in its temporary folder: {:?}",
        entries()
    );
}

/// The paths under `dir` (at most 4 levels down) whose file name starts with `prefix`.
fn find_named(dir: &std::path::Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), 0)];
    while let Some((dir, depth)) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with(prefix) {
                found.push(path.clone());
            }
            if depth < 4 && entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push((path, depth + 1));
            }
        }
    }
    found
}

/// Run only by the test above, in a child process it then SIGKILLs.
#[tokio::test]
#[ignore = "helper process for sigkilled_test_process_leaves_no_driver_or_browser"]
async fn owner() {
    if std::env::var_os(MARKER_KEY).is_none() {
        return;
    }
    let web = web().await;
    // Its own driver (not the shared one, nor a pooling endpoint the run may have exported) so
    // this process starts everything it is killed with.
    let browser = harness::Browser::from_env().expect("HARNESS_BROWSER names a browser");
    let driver = harness::Driver::start(browser).await.expect("a browser");
    let session = driver.session().await.expect("a session");
    session
        .goto(web.url().join("counter").unwrap().as_str())
        .await
        .unwrap();
    println!("{OWNER_READY}");
    std::future::pending::<()>().await;
}
