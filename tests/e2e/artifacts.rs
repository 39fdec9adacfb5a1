//! A failing test leaves a screenshot, the page, its URL, the console and the server's log.

use std::process::Command;

use fantoccini::Locator;

use crate::support::web;

/// The switch that turns on the deliberately failing test.
const SWITCH: &str = "HARNESS_E2E_DELIBERATE_FAILURE";

/// Fails on purpose, only when the switch is set.
#[tokio::test]
async fn deliberately_failing() {
    if std::env::var_os(SWITCH).is_none() {
        return;
    }
    harness::e2e(web().await)
        .run(|ctx| async move {
            let c = &ctx.client;
            c.goto(ctx.url("counter").as_str()).await?;
            c.execute("console.error('harness artifact probe')", vec![])
                .await?;
            c.find(Locator::Id("increment")).await?.click().await?;
            let count = c.find(Locator::Id("count")).await?.text().await?;
            assert_eq!(count, "42", "deliberate failure");
            Ok(())
        })
        .await;
}

#[test]
fn failing_test_writes_every_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["artifacts::deliberately_failing", "--exact", "--nocapture"])
        .env(SWITCH, "1")
        .env("HARNESS_ARTIFACTS_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the deliberate failure failed: {stderr}"
    );
    let folder = dir.path().join("artifacts__deliberately_failing");
    assert!(
        stderr.contains(&folder.display().to_string()),
        "path printed: {stderr}"
    );

    let read = |name: &str| {
        std::fs::read(folder.join(name)).unwrap_or_else(|e| panic!("{name}: {e}; stderr: {stderr}"))
    };
    assert!(
        read("screenshot.png").starts_with(b"\x89PNG"),
        "a PNG screenshot"
    );
    let html = String::from_utf8(read("page.html")).unwrap();
    assert!(html.contains("id=\"increment\""), "{html}");
    let url = String::from_utf8(read("url.txt")).unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/counter"),
        "{url}"
    );
    let error = String::from_utf8(read("error.txt")).unwrap();
    assert!(error.contains("deliberate failure"), "{error}");
    let server_log = String::from_utf8(read("server.log")).unwrap();
    assert!(server_log.contains("[fixtures-app"), "{server_log}");
    let console = String::from_utf8(read("console.log")).unwrap();
    if harness::Browser::from_env().unwrap() == harness::Browser::Chrome {
        assert!(console.contains("harness artifact probe"), "{console}");
    } else {
        assert!(console.contains("does not expose"), "{console}");
    }
}
