//! `harness webdriver` and `--pool`: a pooling W3C WebDriver endpoint in front of warm sessions,
//! driven by fantoccini, raw W3C requests and the stock Selenium Python client.

use std::time::{Duration, Instant};

use harness::fantoccini::{self, Client};
use serde_json::{Value, json};

use crate::support::{
    LIMIT, MARKER_KEY, Running, fixtures_app, harness, harness_bin, processes_marked, unique,
    wait_until,
};

/// The browser of this run, as for the rest of the suite (`HARNESS_BROWSER`, Chrome by default).
fn browser() -> harness::Browser {
    harness::Browser::from_env().expect("HARNESS_BROWSER is chrome or firefox")
}

/// `harness webdriver --browser B ARGS...`, as a harness [`Server`](harness::Server) reading its
/// handshake, marked with `MARKER_KEY=marker`.
async fn endpoint(marker: &str, args: &[&str]) -> harness::ServerHandle {
    let mut all = vec!["webdriver", "--browser", browser().name()];
    all.extend_from_slice(args);
    harness::Server::new(harness_bin())
        .args(all)
        .env(MARKER_KEY, marker)
        .ready_timeout(LIMIT)
        .spawn()
        .await
        .expect("harness webdriver announces its URL")
}

/// A fantoccini session through `url`, asking for the browser by name only.
async fn connect(url: &url::Url) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!(browser().name()));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(url.as_str())
        .await
        .expect("a session through the endpoint")
}

/// A plain HTTP client for raw W3C requests (no proxy: everything is on loopback).
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(LIMIT)
        .build()
        .unwrap()
}

/// `POST {url}session` with `{"browserName": B}`: the status and the body.
async fn new_session(client: &reqwest::Client, url: &url::Url) -> (u16, Value) {
    let body = json!({"capabilities": {"alwaysMatch": {"browserName": browser().name()}}});
    let response = client
        .post(url.join("session").unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `METHOD {url}session/{id}/{path}`: the status and the body.
async fn command(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &url::Url,
    id: &str,
    path: &str,
) -> (u16, Value) {
    let target = match path {
        "" => url.join(&format!("session/{id}")).unwrap(),
        path => url.join(&format!("session/{id}/{path}")).unwrap(),
    };
    let mut request = client.request(method.clone(), target);
    if method == reqwest::Method::POST {
        request = request.json(&json!({}));
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn session_id(body: &Value) -> String {
    body["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("a session id in {body}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_leases_get_their_own_windows_and_the_next_lease_starts_clean() {
    let web = harness::Server::new(fixtures_app()).spawn().await.unwrap();
    let pool = endpoint(&unique(), &["--pool", "2"]).await;
    let url = pool.url().clone();
    assert_eq!(url.host_str(), Some("127.0.0.1"), "{url}");
    assert_ne!(url.port(), None, "{url}");

    let (first, second) = tokio::join!(connect(&url), connect(&url));
    assert_ne!(
        first.session_id().await.unwrap(),
        second.session_id().await.unwrap()
    );
    let hello = web.url().join("hello").unwrap();
    let counter = web.url().join("counter").unwrap();
    let (a, b) = tokio::join!(first.goto(hello.as_str()), second.goto(counter.as_str()));
    a.unwrap();
    b.unwrap();
    assert_eq!(first.current_url().await.unwrap(), hello);
    assert_eq!(second.current_url().await.unwrap(), counter);
    assert_ne!(
        first.window().await.unwrap(),
        second.window().await.unwrap(),
        "each lease has its own window"
    );

    // The first lease leaves a cookie and a second tab behind.
    first
        .execute("document.cookie = 'lease=first; path=/'", vec![])
        .await
        .unwrap();
    first.new_window(true).await.unwrap();
    assert_eq!(first.windows().await.unwrap().len(), 2);
    first.close().await.unwrap();

    // Pool 2, one still held: the next lease is the first one's browser, reset.
    let next = connect(&url).await;
    assert_eq!(next.current_url().await.unwrap().as_str(), "about:blank");
    assert_eq!(next.windows().await.unwrap().len(), 1, "one window");
    next.goto(hello.as_str()).await.unwrap();
    let cookies: Vec<String> = next
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(cookies, Vec::<String>::new(), "no cookie");
    let cookie = next
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert_eq!(cookie, json!(""));
    next.close().await.unwrap();
    second.close().await.unwrap();
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_lease_id_gets_invalid_session_id() {
    let pool = endpoint(&unique(), &["--pool", "1"]).await;
    let url = pool.url().clone();
    let client = http();
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let old = session_id(&body);
    // With a trailing `/`, as some clients send it: still a release, not a real DELETE.
    let (status, body) = command(&client, reqwest::Method::DELETE, &url, &old, "/").await;
    assert_eq!((status, body), (200, json!({"value": null})));

    // The same browser, leased again under another id.
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let new = session_id(&body);
    assert_ne!(old, new);
    let (status, body) = command(&client, reqwest::Method::GET, &url, &old, "url").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["value"]["error"], "invalid session id", "{body}");
    let (status, body) = command(&client, reqwest::Method::GET, &url, &new, "url").await;
    assert_eq!(status, 200, "the new lease works: {body}");
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn requested_timeouts_apply_to_the_lease_and_end_with_it() {
    let pool = endpoint(&unique(), &["--pool", "1"]).await;
    let url = pool.url().clone();
    let client = http();
    let timed = json!({"capabilities": {"alwaysMatch": {
        "browserName": browser().name(), "timeouts": {"implicit": 1500, "script": 7000}}}});
    let answer = client
        .post(url.join("session").unwrap())
        .json(&timed)
        .send()
        .await
        .unwrap();
    let body: Value = answer.json().await.unwrap();
    let id = session_id(&body);
    let (_, body) = command(&client, reqwest::Method::GET, &url, &id, "timeouts").await;
    assert_eq!(body["value"]["implicit"], 1500, "{body}");
    assert_eq!(body["value"]["script"], 7000, "{body}");
    command(&client, reqwest::Method::DELETE, &url, &id, "").await;

    // The same browser, leased without timeouts: the W3C defaults.
    let (_, body) = new_session(&client, &url).await;
    let id = session_id(&body);
    let (_, body) = command(&client, reqwest::Method::GET, &url, &id, "timeouts").await;
    assert_eq!(
        body["value"],
        json!({"implicit": 0, "pageLoad": 300_000, "script": 30_000})
    );
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn more_clients_than_sessions_take_turns_and_each_lease_starts_clean() {
    let web = harness::Server::new(fixtures_app()).spawn().await.unwrap();
    let pool = endpoint(&unique(), &["--pool", "2"]).await;
    let url = pool.url().clone();
    let hello = web.url().join("hello").unwrap();
    let worker = |n: usize| {
        let (url, hello) = (url.clone(), hello.clone());
        async move {
            for round in 0..3 {
                let client = connect(&url).await;
                let start = client.current_url().await.unwrap();
                assert_eq!(start.as_str(), "about:blank", "worker {n} round {round}");
                client.goto(hello.as_str()).await.unwrap();
                let seen = client
                    .execute("return document.cookie", vec![])
                    .await
                    .unwrap();
                assert_eq!(seen, json!(""), "worker {n} round {round} sees no cookie");
                let mark = format!("document.cookie = 'worker={n}-{round}; path=/'");
                client.execute(&mark, vec![]).await.unwrap();
                client.close().await.unwrap();
            }
        }
    };
    tokio::join!(worker(0), worker(1), worker(2), worker(3));
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_pool_fails_within_the_lease_timeout_naming_pool() {
    let pool = endpoint(&unique(), &["--pool", "1", "--lease-timeout", "1"]).await;
    let url = pool.url().clone();
    let client = http();
    let (status, body) = new_session(&client, &url).await;
    let logs = pool.logs().tail(harness::Stream::Stderr, 20);
    assert_eq!(status, 200, "{body}\n{logs}");

    let asked = Instant::now();
    let (status, body) = new_session(&client, &url).await;
    let waited = asked.elapsed();
    assert_eq!(status, 500, "after {waited:?}: {body}");
    assert_eq!(body["value"]["error"], "session not created", "{body}");
    let message = body["value"]["message"].as_str().unwrap();
    assert!(
        message.contains("--pool 1") && message.contains("1 leases held"),
        "{message}"
    );
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(5),
        "waited the lease timeout, not more: {waited:?}"
    );
    pool.stop().await.unwrap();
}

/// A stock Selenium Python client that passes no `--no-sandbox` (Chrome as root needs it): the
/// endpoint's warm sessions have it. Prints the page title of `$WEB_URL`.
const SELENIUM: &str = "import os, sys
from selenium import webdriver
if sys.argv[1] == 'chrome':
    options = webdriver.ChromeOptions()
    options.add_argument('--headless=new')
else:
    options = webdriver.FirefoxOptions()
    options.add_argument('-headless')
assert os.environ['HARNESS_WEBDRIVER_POOL'] == os.environ['WEBDRIVER_URL']
print('webdriver_url=' + os.environ['WEBDRIVER_URL'], flush=True)
driver = webdriver.Remote(command_executor=os.environ['WEBDRIVER_URL'], options=options)
try:
    driver.get(os.environ['WEB_URL'])
    print('title=' + driver.title, flush=True)
    caps = driver.capabilities
    print('profile=' + str(caps.get('chrome', {}).get('userDataDir') or caps.get('moz:profile')), flush=True)
finally:
    driver.quit()
print('SELENIUM-OK', flush=True)";

/// The Python of `target/selenium-venv` (made by `.ci/install`, or by the `browser` tests of this
/// suite on first use).
fn selenium_python() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root");
    let python = root.join("target/selenium-venv/bin/python");
    assert!(
        python.is_file(),
        "no Selenium client at {}: run `.ci/install chrome` (or this suite's \
         browser::a_stock_selenium_client_drives_the_browser_through_webdriver_url once)",
        python.display()
    );
    python
}

#[test]
fn a_stock_selenium_client_gets_a_warm_session_through_run_pool() {
    let browser = browser();
    let python = selenium_python();
    let web = format!("web={}", fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--browser",
        browser.name(),
        "--pool",
        "1",
        "--server",
        &web,
        "--",
        python.to_str().expect("a UTF-8 path"),
        "-c",
        SELENIUM,
        browser.name(),
    ]);
    for proxy in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(proxy);
    }
    cmd.env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1");
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("title=fixtures-app"), "{out}");
    assert!(out.stdout.contains("SELENIUM-OK"), "{out}");
    if browser == harness::Browser::Chrome {
        // Selenium's Firefox options ask for acceptInsecureCerts, which only a fresh session
        // honours; its Chrome options ask for nothing a warm session lacks.
        assert!(
            out.stdout.contains("profile=") && out.stdout.contains("harness-pool-chrome-"),
            "a warm session, not a one-off: {out}"
        );
    }
}

#[test]
fn pool_without_browser_is_a_usage_error_naming_browser() {
    let out = crate::support::run(&["run", "--pool", "2", "--", "true"]);
    assert_eq!(out.code(), Some(2), "{out}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "one line: {out}");
    assert!(out.stderr.contains("--browser"), "{out}");
}

#[test]
fn serve_announces_the_pool_as_its_webdriver_url() {
    let serve = Running::start(harness(&[
        "serve",
        "--browser",
        browser().name(),
        "--pool",
        "1",
    ]));
    let line = serve.line(LIMIT, |l| l.starts_with('{'));
    let announced: Value = serde_json::from_str(&line).unwrap();
    let url = announced["webdriver_url"]
        .as_str()
        .expect("a webdriver_url");
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let status = test_support::http::get_ok(&format!("{url}/status"));
    assert!(
        status.contains("harness pooling WebDriver endpoint"),
        "{status}"
    );
    serve.signal("TERM");
    let out = serve.wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
}

/// `harness webdriver` started by this suite's runner, marked; its handshake URL.
fn start_marked(marker: &str, args: &[&str]) -> (Running, url::Url) {
    let mut all = vec!["webdriver", "--browser", browser().name()];
    all.extend_from_slice(args);
    let mut cmd = harness(&all);
    cmd.env(MARKER_KEY, marker);
    let run = Running::start(cmd);
    let line = run.line(LIMIT, |l| l.contains("\"harness\":1"));
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["pid"], json!(run.pid()), "{line}");
    let url = parsed["listening"]["webdriver"].as_str().unwrap();
    (
        run,
        harness::__cli::with_trailing_slash(url.parse().unwrap()),
    )
}

/// The browsers' main processes: marked processes whose parent is the driver.
fn browser_mains(marker: &str) -> Vec<u32> {
    let driver = match browser() {
        harness::Browser::Chrome => "chromedriver",
        harness::Browser::Firefox => "geckodriver",
    };
    let marked = processes_marked(marker);
    let is_driver = |pid: u32| marked.iter().any(|(p, name)| *p == pid && name == driver);
    marked
        .iter()
        .filter(|(pid, _)| parent(*pid).is_some_and(is_driver))
        .map(|(pid, _)| *pid)
        .collect()
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn sigkill_of_the_endpoint_leaves_no_driver_or_browser_within_2_seconds() {
    let marker = format!("wd-sigkill-{}", unique());
    let (mut run, _url) = start_marked(&marker, &["--pool", "2"]);
    let before = processes_marked(&marker);
    assert_eq!(
        browser_mains(&marker).len(),
        2,
        "two warm browsers: {before:?}"
    );
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

#[tokio::test(flavor = "multi_thread")]
async fn an_unmatched_request_gets_a_fresh_session_deleted_for_real() {
    let marker = format!("wd-oneoff-{}", unique());
    let (_run, url) = start_marked(&marker, &["--pool", "1"]);
    assert_eq!(browser_mains(&marker).len(), 1);
    let client = http();
    // Warm sessions load pages with the `normal` strategy: `eager` needs a session of its own.
    let eager = json!({"capabilities": {"alwaysMatch": {
        "browserName": browser().name(), "pageLoadStrategy": "eager", "webSocketUrl": true}}});
    let answer = client
        .post(url.join("session").unwrap())
        .json(&eager)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    let caps = &body["value"]["capabilities"];
    assert_eq!(caps["pageLoadStrategy"], "eager", "{body}");
    assert!(caps.get("webSocketUrl").is_none(), "no BiDi URL: {body}");
    assert_eq!(browser_mains(&marker).len(), 2, "a browser of its own");
    let id = session_id(&body);
    let (status, body) = command(&client, reqwest::Method::GET, &url, &id, "url").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = command(&client, reqwest::Method::DELETE, &url, &id, "").await;
    assert_eq!(status, 200);
    assert!(
        wait_until(LIMIT, || browser_mains(&marker).len() == 1),
        "the one-off browser is gone: {:?}",
        processes_marked(&marker)
    );

    // Another browser altogether: a W3C error naming both.
    let other = match browser() {
        harness::Browser::Chrome => "firefox",
        harness::Browser::Firefox => "chrome",
    };
    let wrong = json!({"capabilities": {"alwaysMatch": {"browserName": other}}});
    let answer = client
        .post(url.join("session").unwrap())
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 500);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["value"]["error"], "session not created", "{body}");
    let message = body["value"]["message"].as_str().unwrap();
    assert!(
        message.contains(other) && message.contains(browser().name()),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_browser_is_replaced_never_handed_out() {
    let marker = format!("wd-crash-{}", unique());
    let (run, url) = start_marked(&marker, &["--pool", "1"]);
    let mains = browser_mains(&marker);
    assert_eq!(mains.len(), 1, "{:?}", processes_marked(&marker));
    for pid in &mains {
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }
    assert!(wait_until(LIMIT, || !crate::support::alive(mains[0])));

    let client = http();
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let id = session_id(&body);
    let (status, body) = command(&client, reqwest::Method::GET, &url, &id, "url").await;
    assert_eq!(status, 200, "the lease is a live browser: {body}");
    run.err_line(LIMIT, |l| l.contains("failed its probe"));
    let now = browser_mains(&marker);
    assert!(
        now.len() == 1 && now[0] != mains[0],
        "a new browser: {now:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_lease_is_reclaimed_and_its_id_invalidated() {
    let pool = endpoint(&unique(), &["--pool", "1", "--idle-timeout", "0.5"]).await;
    let url = pool.url().clone();
    let client = http();
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let abandoned = session_id(&body);
    // Nothing more from that client: the lease's session comes back, so a new lease gets it.
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "the reclaimed session is leased again: {body}");
    let (status, body) = command(&client, reqwest::Method::GET, &url, &abandoned, "url").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["value"]["error"], "invalid session id", "{body}");
    pool.stop().await.unwrap();
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Not a test: prints the median `POST /session` → lease latency (each lease then loads a
/// fixtures-app page and is deleted, as a test would; then again with the last reset done), and the median time of one forwarded
/// command (`GET /session/{id}/url`) through the endpoint against the same command sent to a
/// driver directly. `cargo test -p harness-e2e-cli --test cli webdriver::measure -- --ignored
/// --nocapture` (a release build for real numbers: add `--release`).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a test"]
async fn measure_lease_latency_and_forwarding_overhead() {
    const LEASES: usize = 20;
    const COMMANDS: usize = 200;
    let web = harness::Server::new(fixtures_app()).spawn().await.unwrap();
    let pool = endpoint(&unique(), &["--pool", "2"]).await;
    let url = pool.url().clone();
    let client = http();
    let hello = web.url().join("hello").unwrap();
    let mut leases = Vec::new();
    for _ in 0..LEASES {
        let asked = Instant::now();
        let (status, body) = new_session(&client, &url).await;
        leases.push(asked.elapsed());
        assert_eq!(status, 200, "{body}");
        let id = session_id(&body);
        let goto = url.join(&format!("session/{id}/url")).unwrap();
        let sent = client.post(goto).json(&json!({"url": hello.as_str()}));
        assert!(sent.send().await.unwrap().status().is_success());
        command(&client, reqwest::Method::DELETE, &url, &id, "").await;
    }

    // The same with the released session's background reset given time to finish first (a
    // pause, not a wait on an event: this is a measurement, it asserts nothing).
    let mut ready_leases = Vec::new();
    for _ in 0..LEASES {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = Instant::now();
        let (status, body) = new_session(&client, &url).await;
        ready_leases.push(asked.elapsed());
        assert_eq!(status, 200, "{body}");
        command(
            &client,
            reqwest::Method::DELETE,
            &url,
            &session_id(&body),
            "",
        )
        .await;
    }

    let (_, body) = new_session(&client, &url).await;
    let proxied = url
        .join(&format!("session/{}/url", session_id(&body)))
        .unwrap();
    let driver = harness::Driver::start(browser()).await.unwrap();
    let session = driver.session().await.unwrap();
    let direct_id = session.session_id().await.unwrap().unwrap();
    let direct = driver
        .url()
        .join(&format!("session/{direct_id}/url"))
        .unwrap();
    let (mut via_pool, mut via_driver) = (Vec::new(), Vec::new());
    for _ in 0..COMMANDS {
        for (target, samples) in [(&proxied, &mut via_pool), (&direct, &mut via_driver)] {
            let sent = Instant::now();
            let answer = client.get(target.clone()).send().await.unwrap();
            answer.bytes().await.unwrap();
            samples.push(sent.elapsed());
        }
    }
    let (pooled, bare) = (median(via_pool), median(via_driver));
    println!(
        "{} lease (POST /session until the answer), median of {LEASES}: {:?}",
        browser(),
        median(leases)
    );
    println!(
        "{} lease with a reset session idle, median of {LEASES}: {:?}",
        browser(),
        median(ready_leases)
    );
    println!(
        "GET /session/{{id}}/url, median of {COMMANDS}: {pooled:?} through the endpoint, {bare:?} \
         to the driver directly: overhead {:?}",
        pooled.saturating_sub(bare)
    );
    session.close().await.unwrap();
    pool.stop().await.unwrap();
}
