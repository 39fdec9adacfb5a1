//! What the reset tests run on: a real driver, a warm session made as the pool makes one, two
//! fixtures-app servers (two origins: same host, other ports), and a small classic WebDriver
//! client that plays the test holding a lease.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use harness::{Browser, Server, ServerHandle};
use serde_json::{Value, json};
use tokio::time::Instant;
use url::Url;

use super::super::{Cleaner, Isolation, Target};

/// How long any one step of a test may take (a cold browser start on a loaded machine).
pub(super) const STEP: Duration = Duration::from_secs(60);

/// The deadline of a step starting now.
pub(super) fn deadline() -> Instant {
    Instant::now() + STEP
}

/// A driver, its one warm session, and two fixtures-app servers.
pub(super) struct Rig {
    /// The session, as the pool would describe it.
    pub(super) target: Target,
    /// The test's own WebDriver client for that session.
    pub(super) wd: Wd,
    /// Origin A's base URL.
    pub(super) a: Url,
    /// Origin B's base URL.
    pub(super) b: Url,
    _servers: [ServerHandle; 3],
}

impl Rig {
    /// Starts the driver of `browser` and two fixtures-app servers, and opens a session with the
    /// library's capabilities plus what `isolation` requires.
    pub(super) async fn start(browser: Browser, isolation: Isolation) -> Rig {
        Self::start_with_b_on(browser, isolation, "127.0.0.1").await
    }

    /// [`Rig::start`] with server B bound to `host` (`::1` makes B another site than A).
    pub(super) async fn start_with_b_on(browser: Browser, isolation: Isolation, host: &str) -> Rig {
        let program = harness::__cli::find_driver(browser).unwrap_or_else(|e| panic!("{e}"));
        let binary = harness::__cli::find_binary(browser).unwrap_or_else(|e| panic!("{e}"));
        let app = || {
            Server::cargo_bin("fixtures-app")
                .unwrap_or_else(|e| panic!("{e} (build it first: cargo build -p fixtures-app)"))
        };
        let (driver, a, b) = (
            harness::__cli::driver_server(browser, &program)
                .args(crate::webdriver::reset::driver_args(browser)),
            app(),
            app().args(["--host", host]),
        );
        let (driver, a, b) = tokio::join!(driver.spawn(), a.spawn(), b.spawn());
        let (driver, a, b) = (
            driver.expect("the driver starts"),
            a.expect("fixtures-app A starts"),
            b.expect("fixtures-app B starts"),
        );
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let profile = harness::__cli::profiles_root().join(format!(
            "reset-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&profile).expect("a profile folder");
        let mut caps = harness::__cli::session_capabilities(browser, Some(binary), &profile);
        caps.extend(Cleaner::required_capabilities(browser, isolation));
        let base = harness::__cli::with_trailing_slash(driver.url().clone());
        let http = reqwest::Client::new();
        let created: Value = tokio::time::timeout(STEP, async {
            http.post(base.join("session").unwrap())
                .json(&json!({ "capabilities": { "alwaysMatch": caps } }))
                .send()
                .await?
                .json()
                .await
        })
        .await
        .expect("the new session answers in time")
        .expect("POST /session answers JSON");
        let value = &created["value"];
        let session_id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let target = Target {
            browser,
            driver: base.clone(),
            session_id: session_id.clone(),
            capabilities: value["capabilities"].clone(),
        };
        let wd = Wd {
            http,
            session: base.join(&format!("session/{session_id}/")).unwrap(),
        };
        Rig {
            target,
            wd,
            a: a.url().clone(),
            b: b.url().clone(),
            _servers: [driver, a, b],
        }
    }

    /// Ends the session (the driver and servers stop when the rig is dropped).
    pub(super) async fn close(self) {
        let _ =
            tokio::time::timeout(STEP, self.wd.http.delete(self.wd.session.clone()).send()).await;
    }
}

/// A classic WebDriver client for one session: what a test holding a lease does.
pub(super) struct Wd {
    http: reqwest::Client,
    /// `{driver}session/{id}/`.
    session: Url,
}

impl Wd {
    /// `method path` with `body`: the answer's `value`, or the W3C error code.
    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self.http.request(method, self.session.join(path).unwrap());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value =
            tokio::time::timeout(STEP, async { request.send().await?.json().await })
                .await
                .unwrap_or_else(|_| panic!("WebDriver {path} did not answer in {STEP:?}"))
                .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
        let value = answer["value"].clone();
        match value["error"].as_str() {
            Some(error) => Err(format!("{error}: {}", value["message"])),
            None => Ok(value),
        }
    }

    /// `GET path`, which must succeed.
    pub(super) async fn get(&self, path: &str) -> Value {
        let answer = self.send(reqwest::Method::GET, path, None).await;
        answer.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `POST path` with `body`, which must succeed.
    pub(super) async fn post(&self, path: &str, body: Value) -> Value {
        let answer = self.send(reqwest::Method::POST, path, Some(body)).await;
        answer.unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Navigates to `url`.
    pub(super) async fn goto(&self, url: &Url) {
        self.post("url", json!({ "url": url.as_str() })).await;
    }

    /// Clicks the element `css` selects.
    pub(super) async fn click(&self, css: &str) {
        let found = self
            .post("element", json!({ "using": "css selector", "value": css }))
            .await;
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element id in {found}"))
            .to_owned();
        self.post(&format!("element/{id}/click"), json!({})).await;
    }

    /// What the page's `window.storageDone` promise resolves with (the script timeout bounds it).
    pub(super) async fn storage_done(&self) -> String {
        let script = "var done = arguments[arguments.length - 1]; window.storageDone.then(done);";
        let value = self
            .post("execute/async", json!({ "script": script, "args": [] }))
            .await;
        value
            .as_str()
            .unwrap_or_else(|| panic!("storageDone gave {value}"))
            .to_owned()
    }

    /// What `/storage/read` on `origin` finds.
    pub(super) async fn read(&self, origin: &Url) -> Value {
        self.goto(&origin.join("storage/read").unwrap()).await;
        let text = self.storage_done().await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }
}

/// `path` under `base` with `?name=value` (value URL-encoded).
pub(super) fn with_query(base: &Url, path: &str, name: &str, value: &Url) -> Url {
    let mut url = base.join(path).unwrap();
    url.query_pairs_mut().append_pair(name, value.as_str());
    url
}
