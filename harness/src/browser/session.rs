//! [`Session`]: one isolated browser, driven through fantoccini.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;
use url::Url;

use super::capabilities::{WINDOW_SIZE, for_another_host, on_another_host, session_capabilities};
use super::grid_answers;
use super::kind::Browser;
use super::one_at_a_time::{Claim, OneAtATime};
use super::runtime;
use super::scratch::profiles_root;
use crate::{Error, Server, ServerHandle};

/// How long opening a session may take by default: a cold browser start on a loaded CI machine,
/// and well below a Selenium Grid's 300 s queue timeout.
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest session timeout: a year, as for the other timeouts.
pub(crate) const MAX_SESSION_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// What a new session needs: the endpoint and the browser's options.
#[derive(Debug, Clone)]
pub(crate) struct SessionSpec {
    pub(crate) browser: Browser,
    pub(crate) url: Url,
    binary: Option<PathBuf>,
    /// For a driver that serves one session at a time (geckodriver): the driver to start for a
    /// session that finds `url` taken, and whether a session holds `url`.
    one_at_a_time: Option<Arc<OneAtATime>>,
    /// How long opening a session may take.
    pub(crate) timeout: Duration,
    /// `url` is a harness pooling endpoint (`harness webdriver`): it merges the library's session
    /// defaults into what it is asked for and resets a session when it is closed, so a session
    /// asks only for the browser and brings no profile of its own.
    pooled: bool,
}

impl SessionSpec {
    pub(crate) fn new(browser: Browser, url: Url, binary: Option<PathBuf>) -> Self {
        Self {
            browser,
            url,
            binary,
            one_at_a_time: None,
            timeout: SESSION_TIMEOUT,
            pooled: false,
        }
    }

    /// `url` is a harness pooling endpoint: see [`SessionSpec::pooled`](Self#structfield.pooled).
    pub(crate) fn pooled(mut self) -> Self {
        self.pooled = true;
        self
    }

    /// Whether `url` is a harness pooling endpoint.
    pub(crate) fn is_pooled(&self) -> bool {
        self.pooled
    }

    /// `url` serves one session at a time: a session that finds it taken starts `driver` for
    /// itself (and stops it when it ends).
    pub(crate) fn one_at_a_time(mut self, driver: Server) -> Self {
        self.one_at_a_time = Some(Arc::new(OneAtATime::new(driver)));
        self
    }

    fn capabilities(&self, profile: &Path) -> Capabilities {
        session_capabilities(self.browser, self.binary.clone(), profile)
    }
}

/// `timeout` if it can be a session timeout: more than zero, at most a year.
fn checked_timeout(timeout: Duration) -> Result<Duration, Error> {
    if timeout.is_zero() {
        return Err(Error::BadSessionTimeout {
            given: format!("{timeout:?}"),
            reason: "it is zero; give the browser time to start, e.g. \
                     Driver::session_timeout(Duration::from_secs(60))"
                .into(),
        });
    }
    if timeout > MAX_SESSION_TIMEOUT {
        return Err(Error::TimeoutTooLong { timeout });
    }
    Ok(timeout)
}

/// An open WebDriver session; derefs to a [`fantoccini::Client`].
///
/// Each session gets a fresh temporary browser profile, headless unless `HARNESS_HEADFUL=1`, and
/// the window size [`WINDOW_SIZE`]. Chrome runs with background networking, component updates,
/// first-run screens and sync turned off, and with `--no-sandbox` only when running as root.
///
/// Call [`close`](Self::close) when done. Dropping an open session closes it in the background and
/// then deletes its profile.
///
/// ```no_run
/// use fantoccini::Locator;
/// # async fn f(web: &harness::ServerHandle) -> Result<(), Box<dyn std::error::Error>> {
/// let session = harness::Driver::shared().await?.session().await?;
/// session.goto(web.url().join("counter")?.as_str()).await?;
/// session.find(Locator::Id("increment")).await?.click().await?;
/// session.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Session {
    client: Option<Client>,
    profile: Option<TempDir>,
    browser: Browser,
    endpoint: Url,
    driver: Option<ServerHandle>,
    claim: Option<Claim>,
}

impl Session {
    pub(crate) async fn open(spec: SessionSpec) -> Result<Self, Error> {
        let timeout = checked_timeout(spec.timeout)?;
        let (caps, profile) = if spec.pooled {
            // The endpoint's warm sessions have the library's capabilities and their own profiles.
            let mut caps = Capabilities::new();
            caps.insert("browserName".into(), json!(spec.browser.name()));
            (caps, None)
        } else if on_another_host(&spec.url) {
            let mut caps = spec.capabilities(Path::new(""));
            for_another_host(&mut caps);
            (caps, None)
        } else {
            let profile = tempfile::Builder::new()
                .prefix(&format!("harness-{}-", spec.browser))
                .tempdir_in(profiles_root())
                .map_err(|source| Error::Profile { source })?;
            (spec.capabilities(profile.path()), Some(profile))
        };
        let (driver, claim) = match &spec.one_at_a_time {
            Some(endpoint) => match Claim::take(endpoint) {
                Some(claim) => (None, Some(claim)),
                None => (Some(endpoint.driver().clone().spawn().await?), None),
            },
            None => (None, None),
        };
        let endpoint = driver.as_ref().map_or(&spec.url, |d| d.url()).clone();
        let url = endpoint.clone();
        // The endpoint sets a pooled session's window size itself.
        let firefox = spec.browser == Browser::Firefox && !spec.pooled;
        let (reply, opened) = tokio::sync::oneshot::channel();
        runtime::detach(async move {
            let asked = serde_json::to_string(&caps).expect("capabilities are JSON");
            let connect = async {
                let mut builder = ClientBuilder::new(HttpConnector::new());
                builder.capabilities(caps);
                let client = match builder.connect(url.as_str()).await {
                    Ok(client) => client,
                    Err(e) => return Err(grid_answers::refused(&url, asked.clone(), e).await),
                };
                if firefox {
                    let (w, h) = WINDOW_SIZE;
                    client
                        .set_window_size(w, h)
                        .await
                        .map_err(|e| Error::webdriver("set the window size", e))?;
                }
                Ok(client)
            };
            let mut connect = std::pin::pin!(connect);
            let result = match tokio::time::timeout(timeout, connect.as_mut()).await {
                Ok(result) => result,
                Err(_) => {
                    let error = grid_answers::timed_out(&url, timeout, asked.clone()).await;
                    let _ = reply.send(Err(error));
                    // A Grid keeps the request queued after the caller gave up, and opens the
                    // session once a node is free: wait for its answer and close that session.
                    if let Ok(Ok(late)) = tokio::time::timeout(LATE_LIMIT, connect).await {
                        let _ = late.close().await;
                    }
                    return;
                }
            };
            // The caller stopped waiting (its future was dropped, e.g. by a timeout): nobody
            // will close this browser, so close it here.
            if let Err(Ok(orphan)) = reply.send(result) {
                let _ = orphan.close().await;
            }
        });
        let client = opened
            .await
            .expect("the session task ends only by replying, unless it panicked")?;
        Ok(Self {
            client: Some(client),
            profile,
            browser: spec.browser,
            endpoint,
            driver,
            claim,
        })
    }

    /// The fantoccini client (also reachable through `Deref`).
    ///
    /// ```no_run
    /// # async fn f(session: &harness::Session) -> Result<(), Box<dyn std::error::Error>> {
    /// let client: fantoccini::Client = session.client().clone(); // e.g. to move into a task
    /// client.goto("about:blank").await?;
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("an open session has a client")
    }

    /// The browser this session runs.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let session = harness::Driver::shared().await?.session().await?;
    /// println!("running {}", session.browser());
    /// # Ok(()) }
    /// ```
    pub fn browser(&self) -> Browser {
        self.browser
    }

    /// The WebDriver endpoint this session lives on.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let session = harness::Driver::shared().await?.session().await?;
    /// println!("session lives on {}", session.endpoint());
    /// # Ok(()) }
    /// ```
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The browser's console messages so far, where the driver exposes them (chromedriver does;
    /// geckodriver does not, and then this is `None`).
    ///
    /// ```no_run
    /// # async fn f(session: &harness::Session) {
    /// if let Some(lines) = session.console_log().await {
    ///     assert!(!lines.iter().any(|l| l.starts_with("SEVERE")), "{lines:?}");
    /// }
    /// # }
    /// ```
    pub async fn console_log(&self) -> Option<Vec<String>> {
        if self.browser != Browser::Chrome {
            return None;
        }
        let id = self.client().session_id().await.ok()??;
        let url = self.endpoint.join(&format!("session/{id}/se/log")).ok()?;
        let response = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?
            .post(url)
            .webdriver_json(&json!({ "type": "browser" }))
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        let entries = body.get("value")?.as_array()?;
        Some(
            entries
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["level"].as_str().unwrap_or("?"),
                        e["message"].as_str().unwrap_or_default()
                    )
                })
                .collect(),
        )
    }

    /// Closes the browser and deletes its profile.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let session = harness::Driver::shared().await?.session().await?;
    /// session.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn close(mut self) -> Result<(), Error> {
        let client = self.client.take().expect("an open session has a client");
        let profile = self.profile.take();
        let driver = self.driver.take();
        let claim = self.claim.take();
        let closed =
            runtime::run(async move { tokio::time::timeout(CLOSE_LIMIT, client.close()).await })
                .await;
        if let Some(claim) = claim {
            claim.release(matches!(closed, Ok(Ok(()))));
        }
        if let Some(driver) = driver {
            let _ = driver.stop().await;
        }
        drop(profile);
        match closed {
            Ok(closed) => closed.map_err(|e| Error::webdriver("close the session", e)),
            Err(_) => Err(Error::CloseTimeout {
                timeout: CLOSE_LIMIT,
            }),
        }
    }
}

impl Deref for Session {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client()
    }
}

/// How long a session that timed out is still waited for, to be closed if it opens late: a
/// Selenium Grid answers a queued request within its `session-request-timeout` (300 s default).
const LATE_LIMIT: Duration = Duration::from_secs(600);

/// How long closing a session may take before its driver is stopped anyway.
const CLOSE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let profile = self.profile.take();
            let driver = self.driver.take();
            let claim = self.claim.take();
            // Stopping the driver waits for it to die and deleting the profile is file system
            // work: both block, so neither may run on the WebDriver runtime's one thread.
            runtime::detach_then_drop(
                async move {
                    // A hung driver or browser must not keep its driver alive: stop waiting.
                    let closed = tokio::time::timeout(CLOSE_LIMIT, client.close()).await;
                    if let Some(claim) = claim {
                        claim.release(matches!(closed, Ok(Ok(()))));
                    }
                },
                (driver, profile),
            );
        }
    }
}

/// A JSON body for a WebDriver endpoint: with the charset in its type, which Selenium Grid 4
/// requires (it refuses `application/json` alone).
pub(crate) trait WebDriverJson {
    /// Sets `body` as the request's JSON body.
    fn webdriver_json(self, body: &Value) -> Self;
}

impl WebDriverJson for reqwest::RequestBuilder {
    fn webdriver_json(self, body: &Value) -> Self {
        self.header("content-type", "application/json; charset=utf-8")
            .body(body.to_string())
    }
}
