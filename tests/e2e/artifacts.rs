//! A failing test leaves a screenshot, the page, its URL, the console and the server's log.

use std::process::Command;

use fantoccini::Locator;

use crate::support::web;

/// Fails on purpose; run (and expected to fail) by `failing_test_writes_every_artifact`.
/// Ignored, so that a suite run counts it neither as a pass nor as a failure.
#[tokio::test]
#[ignore = "helper process for failing_test_writes_every_artifact; fails on purpose"]
async fn deliberately_failing() {
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
        .args([
            "artifacts::deliberately_failing",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("HARNESS_ARTIFACTS_DIR", dir.path())
        // A backtrace names harness frames; the panic's place is what is checked here.
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "the deliberate failure failed: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("test artifacts::deliberately_failing ... FAILED")
            && stdout.contains("0 passed; 1 failed"),
        "counted as one failure, no pass: {stdout}"
    );
    let folder = dir.path().join("artifacts__deliberately_failing");
    // The failure message: the test, the body's own message, and where the evidence is.
    let message = "test `artifacts::deliberately_failing` failed: the test panicked: \
                   assertion `left == right` failed: deliberate failure";
    assert!(stderr.contains(message), "{message:?} in: {stderr}");
    assert!(
        stderr.contains(&format!("harness: artifacts in {}", folder.display())),
        "path printed: {stderr}"
    );
    // Reported at the test's call of `run`, never at a line of the harness.
    let source = include_str!("artifacts.rs");
    let start = source
        .lines()
        .position(|l| l.starts_with("async fn deliberately_failing()"))
        .unwrap();
    let run_line = start
        + 1
        + source
            .lines()
            .skip(start)
            .position(|l| l.trim_start().starts_with(".run(|ctx|"))
            .unwrap();
    let at = format!("harness: test failed at tests/e2e/artifacts.rs:{run_line}:");
    assert!(stderr.contains(&at), "{at:?} in: {stderr}");
    assert!(
        !stderr.contains("src/browser/"),
        "a harness source file is named: {stderr}"
    );

    let read = |name: &str| {
        std::fs::read(folder.join(name)).unwrap_or_else(|e| panic!("{name}: {e}; stderr: {stderr}"))
    };
    // A whole PNG: the signature, a header of a non-empty image, and the end chunk.
    let png = read("screenshot.png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    assert_eq!(png.get(12..16), Some(&b"IHDR"[..]), "a PNG header");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(width > 0 && height > 0, "{width}x{height}");
    assert!(
        png.ends_with(b"IEND\xaeB`\x82"),
        "the whole PNG was written"
    );
    let html = String::from_utf8(read("page.html")).unwrap();
    assert!(html.contains("id=\"increment\""), "{html}");
    let url = String::from_utf8(read("url.txt")).unwrap();
    // The server's address: loopback, or the one asked for (through a Grid on other hosts).
    let host = std::env::var("HARNESS_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "127.0.0.1".into());
    assert!(
        url.starts_with(&format!("http://{host}:")) && url.ends_with("/counter"),
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

/// Catches a panic of the future it wraps, so `tokio::join!` sees both failures in one task.
struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(out)) => std::task::Poll::Ready(Ok(out)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(panic) => std::task::Poll::Ready(Err(panic
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "(not a string)".into()))),
        }
    }
}

/// Two failing `e2e` runs at once in one task, on one thread, both unnamed.
#[tokio::test]
#[ignore = "helper process for concurrent_failures_in_one_runtime_keep_separate_complete_artifacts"]
async fn deliberately_failing_pair() {
    let web = web().await;
    let fail_on = |page: &'static str| {
        CatchUnwind(Box::pin(harness::e2e(web).run(move |ctx| async move {
            ctx.client.goto(ctx.url(page).as_str()).await?;
            Err(format!("deliberate failure on {page}").into())
        })))
    };
    let (counter, form) = tokio::join!(fail_on("counter"), fail_on("form"));
    for outcome in [counter, form] {
        let message = outcome.expect_err("a failing body fails the run");
        eprintln!("PAIR FAILURE: {}", message.replace('\n', " | "));
    }
}

/// Two failing `e2e` runs as tasks on a multi-thread runtime's workers (threads named
/// `tokio-runtime-worker`, not after the test), both unnamed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process for failures_on_runtime_workers_keep_separate_complete_artifacts"]
async fn deliberately_failing_pair_on_workers() {
    let web = web().await;
    let fail_on = |page: &'static str| {
        tokio::spawn(harness::e2e(web).run(move |ctx| async move {
            ctx.client.goto(ctx.url(page).as_str()).await?;
            Err(format!("deliberate failure on {page}").into())
        }))
    };
    let (counter, form) = tokio::join!(fail_on("counter"), fail_on("form"));
    for outcome in [counter, form] {
        let panic = outcome
            .expect_err("a failing body fails the run")
            .into_panic();
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        eprintln!("PAIR FAILURE: {}", message.replace('\n', " | "));
    }
}

/// Runs the pair helper `test` and checks that `folders` (and nothing else) hold one complete
/// set of artifacts each, one for each run, each named in its run's failure message.
fn check_pair(test: &str, folders: [&str; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--ignored", "--nocapture"])
        .env("HARNESS_ARTIFACTS_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the helper ran: {stderr}");
    let mut found: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    found.sort();
    let expected: Vec<_> = folders.iter().map(|f| dir.path().join(f)).collect();
    assert_eq!(found, expected, "one folder per failure: {stderr}");
    let mut pages = Vec::new();
    for folder in &found {
        let failure_line = stderr
            .lines()
            .filter(|l| l.starts_with("PAIR FAILURE:"))
            .find(|l| l.ends_with(&format!("artifacts in {}", folder.display())));
        assert!(
            failure_line.is_some(),
            "the failure message names {}: {stderr}",
            folder.display()
        );
        for file in [
            "screenshot.png",
            "page.html",
            "url.txt",
            "console.log",
            "server.log",
            "error.txt",
        ] {
            let path = folder.join(file);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; stderr: {stderr}", path.display()));
            assert!(!bytes.is_empty(), "{} is empty", path.display());
        }
        let url = std::fs::read_to_string(folder.join("url.txt")).unwrap();
        let page = url.rsplit('/').next().unwrap().to_owned();
        let error = std::fs::read_to_string(folder.join("error.txt")).unwrap();
        assert!(
            error.contains(&format!("deliberate failure on {page}")),
            "{} mixes two runs: url {url}, error {error}",
            folder.display()
        );
        pages.push(page);
    }
    pages.sort();
    assert_eq!(pages, ["counter", "form"], "each run's evidence is kept");
}

#[test]
fn concurrent_failures_in_one_runtime_keep_separate_complete_artifacts() {
    check_pair(
        "artifacts::deliberately_failing_pair",
        [
            "artifacts__deliberately_failing_pair",
            "artifacts__deliberately_failing_pair-2",
        ],
    );
}

#[test]
fn failures_on_runtime_workers_keep_separate_complete_artifacts() {
    check_pair(
        "artifacts::deliberately_failing_pair_on_workers",
        ["unnamed-test", "unnamed-test-2"],
    );
}
