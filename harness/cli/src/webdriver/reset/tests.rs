//! The reset against real browsers: a lease writes every kind of storage on two origins (B
//! reached only through an iframe from A, then only through a link, then through a redirect in
//! WebDriver's New Window), and after the reset the next lease sees none of it. The browser is
//! the one `HARNESS_BROWSER` names, as in the rest of the suite
//! (`HARNESS_BROWSER=firefox cargo test -p harness-e2e-cli --bin harness reset`); the tests
//! named `chrome_...` are Chrome's own.

mod rig;

use std::time::Duration;

use harness::Browser;
use serde_json::{Value, json};
use url::Url;

use super::{Cleaner, Isolation, Target};
use rig::{Rig, Wd, deadline, with_query};

/// What `/storage/read` finds on `origin` in a clean browser.
fn clean(origin: &Url) -> Value {
    json!({
        "origin": origin.origin().ascii_serialization(),
        "requestCookies": "",
        "documentCookie": "",
        "localStorage": {},
        "sessionStorage": {},
        "indexedDB": [],
        "caches": [],
        "serviceWorkers": [],
    })
}

/// Writes every store on `origin` by going there.
async fn write_directly(wd: &Wd, origin: &Url) {
    wd.goto(&origin.join("storage/write").unwrap()).await;
    assert_eq!(wd.storage_done().await, "written", "on {origin}");
}

/// Writes every store on `b` from an iframe in a page of `a`.
async fn write_through_frame(wd: &Wd, a: &Url, b: &Url) {
    let write = b.join("storage/write").unwrap();
    wd.goto(&with_query(a, "storage/frame", "src", &write))
        .await;
    assert_eq!(wd.storage_done().await, "written", "in {b}'s iframe");
}

/// Writes every store on `b` by following a link from a page of `a`.
async fn write_through_link(wd: &Wd, a: &Url, b: &Url) {
    let write = b.join("storage/write").unwrap();
    wd.goto(&with_query(a, "storage/link", "to", &write)).await;
    wd.click("#link").await;
    assert_eq!(wd.storage_done().await, "written", "after the link to {b}");
}

/// Opens WebDriver's New Window and switches to it.
async fn open_new_window(wd: &Wd) {
    let opened = wd.post("window/new", json!({ "type": "window" })).await;
    wd.post("window", json!({ "handle": opened["handle"] }))
        .await;
}

/// Checks what a reset promises that classic WebDriver can see: one window, the current one, at
/// `about:blank`, 1280×800, no alert.
async fn assert_fresh_window(wd: &Wd) {
    let handles = wd.get("window/handles").await;
    let current = wd.get("window").await;
    assert_eq!(handles, json!([current]), "one window, the current one");
    assert_eq!(wd.get("url").await, "about:blank");
    let rect = wd.get("window/rect").await;
    assert_eq!(
        (&rect["width"], &rect["height"]),
        (&json!(1280), &json!(800))
    );
    let alert = wd.send(reqwest::Method::GET, "alert/text", None).await;
    assert!(
        alert
            .as_ref()
            .is_err_and(|e| e.starts_with("no such alert")),
        "{alert:?}"
    );
}

/// `future`, which must be `Send`: the pool runs attach and reset on any runtime worker.
fn send<F: Future + Send>(future: F) -> F {
    future
}

/// Resets, checks the window, then that neither origin shows anything of the last lease.
async fn reset_and_assert_clean(rig: &Rig, cleaner: &mut Cleaner) {
    send(cleaner.reset(&rig.target, deadline()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_fresh_window(&rig.wd).await;
    for origin in [&rig.a, &rig.b] {
        assert_eq!(rig.wd.read(origin).await, clean(origin), "on {origin}");
    }
}

/// The whole story on `browser` with `isolation`.
async fn nothing_of_the_last_lease_is_visible(browser: Browser, isolation: Isolation) {
    let rig = Rig::start(browser, isolation).await;
    let mut cleaner = send(Cleaner::attach(&rig.target, isolation, deadline()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let wd = &rig.wd;
    assert_fresh_window(wd).await;

    // Lease 1: A directly, B only inside an iframe of A (same site, another port: cross-origin).
    write_directly(wd, &rig.a).await;
    write_through_frame(wd, &rig.a, &rig.b).await;
    let dirty = wd.read(&rig.a).await;
    assert_ne!(
        dirty,
        clean(&rig.a),
        "the lease's writes are visible in the lease"
    );
    assert_eq!(
        dirty["localStorage"]["harness"],
        rig.a.origin().ascii_serialization()
    );
    // What the page stored is what classic WebDriver sees: a lease's cookie API works (Firefox's
    // BiDi user contexts hid their cookies from it).
    let cookies = wd.get("cookie").await;
    assert!(
        cookies.as_array().is_some_and(|c| !c.is_empty()),
        "WebDriver lists the lease's cookies: {cookies}"
    );
    // A second window, which the reset must close.
    wd.post("window/new", json!({ "type": "tab" })).await;
    reset_and_assert_clean(&rig, &mut cleaner).await;

    // Lease 2 (after the reads' lease was reset): B only through a link from A.
    cleaner
        .reset(&rig.target, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    write_through_link(wd, &rig.a, &rig.b).await;
    reset_and_assert_clean(&rig, &mut cleaner).await;

    // Lease 3: WebDriver's New Window (Chrome opens it in the default context, outside a
    // Context-mode lease's own), then A redirecting to B there.
    cleaner
        .reset(&rig.target, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    open_new_window(wd).await;
    let write = rig.b.join("storage/write").unwrap();
    wd.goto(&with_query(&rig.a, "storage/redirect", "to", &write))
        .await;
    assert_eq!(wd.storage_done().await, "written", "after the redirect");
    reset_and_assert_clean(&rig, &mut cleaner).await;
    // In Chrome's Context mode the new lease's own context never saw the default one: a New
    // Window there must find it clean too.
    open_new_window(wd).await;
    for origin in [&rig.a, &rig.b] {
        assert_eq!(wd.read(origin).await, clean(origin), "New Window, {origin}");
    }
    rig.close().await;
}

/// The browser `HARNESS_BROWSER` names (Chrome when unset), as the rest of the suite picks it:
/// CI runs these tests once per browser.
fn browser() -> Browser {
    Browser::from_env().expect("HARNESS_BROWSER is chrome or firefox")
}

#[tokio::test]
async fn reset_leaves_nothing_of_the_last_lease() {
    nothing_of_the_last_lease_is_visible(browser(), Isolation::Reset).await;
}

/// On Firefox the same path as [`Isolation::Reset`]: all site data cleared.
#[tokio::test]
async fn context_isolation_leaves_nothing_of_the_last_lease() {
    nothing_of_the_last_lease_is_visible(browser(), Isolation::Context).await;
}

/// Median reset time on `browser` with `isolation` after leases that touched two origins (A
/// directly, B in an iframe), over `rounds` leases.
async fn median_reset(browser: Browser, isolation: Isolation, rounds: usize) -> Duration {
    let rig = Rig::start(browser, isolation).await;
    let mut cleaner = Cleaner::attach(&rig.target, isolation, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        write_directly(&rig.wd, &rig.a).await;
        write_through_frame(&rig.wd, &rig.a, &rig.b).await;
        let started = std::time::Instant::now();
        cleaner
            .reset(&rig.target, deadline())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        times.push(started.elapsed());
    }
    rig.close().await;
    times.sort();
    times[times.len() / 2]
}

/// Prints the median reset time on `browser` with `isolation`, over 20 leases.
async fn print_median_reset(browser: Browser, isolation: Isolation) {
    let median = median_reset(browser, isolation, 20).await;
    println!("{browser} {isolation:?}: median reset {median:?} over 20 leases of 2 origins");
}

// Measurements, run on their own:
// `cargo test -p harness-e2e-cli --bin harness reset_time -- --ignored --nocapture --test-threads 1`

#[tokio::test]
#[ignore = "a measurement: run it on its own"]
async fn reset_time_chrome_reset() {
    print_median_reset(Browser::Chrome, Isolation::Reset).await;
}

#[tokio::test]
#[ignore = "a measurement: run it on its own"]
async fn reset_time_chrome_context() {
    print_median_reset(Browser::Chrome, Isolation::Context).await;
}

#[tokio::test]
#[ignore = "a measurement: run it on its own"]
async fn reset_time_firefox() {
    print_median_reset(Browser::Firefox, Isolation::Reset).await;
}

/// What `/storage/read` on `b` finds in an iframe of a page of `a` (for a cross-site `b`, its
/// storage partitioned under `a`'s site).
async fn read_in_frame(wd: &Wd, a: &Url, b: &Url) -> Value {
    let read = b.join("storage/read").unwrap();
    wd.goto(&with_query(a, "storage/frame", "src", &read)).await;
    let text = wd.storage_done().await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// B on `[::1]` is another site than A on 127.0.0.1: its storage in A's iframe is partitioned
/// (kept apart from B's own), and the reset must clear that partition too. Chrome only, whatever
/// `HARNESS_BROWSER` says: Firefox refuses Cache Storage in a cross-site iframe ("SecurityError:
/// The operation is insecure"), and its reset removes the whole user context, partitions
/// included.
async fn a_cross_site_iframe_leaves_nothing(browser: Browser, isolation: Isolation) {
    let rig = Rig::start_with_b_on(browser, isolation, "::1").await;
    let mut cleaner = Cleaner::attach(&rig.target, isolation, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let wd = &rig.wd;
    write_through_frame(wd, &rig.a, &rig.b).await;
    let dirty = read_in_frame(wd, &rig.a, &rig.b).await;
    assert_eq!(
        dirty["localStorage"]["harness"],
        rig.b.origin().ascii_serialization(),
        "{dirty}"
    );
    cleaner
        .reset(&rig.target, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_fresh_window(wd).await;
    assert_eq!(read_in_frame(wd, &rig.a, &rig.b).await, clean(&rig.b));
    assert_eq!(wd.read(&rig.b).await, clean(&rig.b));
    rig.close().await;
}

#[tokio::test]
async fn chrome_reset_clears_a_cross_site_iframe() {
    a_cross_site_iframe_leaves_nothing(Browser::Chrome, Isolation::Reset).await;
}

#[tokio::test]
async fn chrome_context_clears_a_cross_site_iframe() {
    a_cross_site_iframe_leaves_nothing(Browser::Chrome, Isolation::Context).await;
}

/// A session whose browser is gone (here: the session was deleted, so the driver quit it) fails
/// its reset at once, not at the deadline: the pool replaces it.
async fn a_gone_browser_fails_at_once(browser: Browser) {
    let rig = Rig::start(browser, Isolation::Reset).await;
    let mut cleaner = Cleaner::attach(&rig.target, Isolation::Reset, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let target = rig.target.clone();
    rig.close().await;
    let started = std::time::Instant::now();
    let failed = cleaner.reset(&target, deadline()).await;
    let why = failed.expect_err("no browser to reset").0;
    assert!(why.contains(&target.session_id), "{why}");
    assert!(
        started.elapsed() < rig::STEP / 4,
        "failed after {:?}: {why}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_gone_browser_fails_the_reset_at_once() {
    a_gone_browser_fails_at_once(browser()).await;
}

/// Capabilities without what the reset needs fail the attach at once, saying what is missing.
#[tokio::test]
async fn attach_names_the_missing_capability() {
    for (browser, missing) in [(Browser::Chrome, "goog:chromeOptions.debuggerAddress")] {
        let target = Target {
            browser,
            driver: "http://127.0.0.1:9/".parse().unwrap(),
            session_id: "s".into(),
            capabilities: json!({ "browserName": browser.name() }),
        };
        let failed = Cleaner::attach(&target, Isolation::Reset, deadline()).await;
        let why = failed.expect_err("nothing to attach to").0;
        assert!(why.contains(missing), "{why}");
    }
}

/// A lease that ends with an alert open in its window: the reset still succeeds, and the next
/// lease finds no alert.
#[tokio::test]
async fn chrome_reset_leaves_no_alert() {
    let rig = Rig::start(Browser::Chrome, Isolation::Reset).await;
    let mut cleaner = Cleaner::attach(&rig.target, Isolation::Reset, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rig.wd.goto(&rig.a.join("hello").unwrap()).await;
    let script = json!({ "script": "alert('left open'); return 1;", "args": [] });
    let _ = rig
        .wd
        .send(reqwest::Method::POST, "execute/sync", Some(script))
        .await;
    assert_eq!(rig.wd.get("alert/text").await, "left open");
    cleaner
        .reset(&rig.target, deadline())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_fresh_window(&rig.wd).await;
    rig.close().await;
}
