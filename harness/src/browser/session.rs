//! [`Session`]: one isolated browser, driven through fantoccini.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;
use url::Url;

use super::kind::Browser;
use super::one_at_a_time::{Claim, OneAtATime};
use super::runtime;
use super::scratch::profiles_root;
use crate::{Error, Server, ServerHandle};

/// The window size every session starts with, so screenshots and layouts are reproducible.
///
/// ```
/// let (width, height) = harness::browser::WINDOW_SIZE;
/// assert_eq!((width, height), (1280, 800));
/// ```
pub const WINDOW_SIZE: (u32, u32) = (1280, 800);

/// How long opening a session may take (a cold browser start on a loaded CI machine).
const OPEN_TIMEOUT: Duration = Duration::from_secs(60);

/// What a new session needs: the endpoint and the browser's options.
#[derive(Debug, Clone)]
pub(crate) struct SessionSpec {
    pub(crate) browser: Browser,
    pub(crate) url: Url,
    binary: Option<PathBuf>,
    /// For a driver that serves one session at a time (geckodriver): the driver to start for a
    /// session that finds `url` taken, and whether a session holds `url`.
    one_at_a_time: Option<Arc<OneAtATime>>,
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

    fn capabilities(&self, profile: &std::path::Path) -> Capabilities {
        let headful =
            std::env::var_os("HARNESS_HEADFUL").is_some_and(|v| v != "0" && !v.is_empty());
        let (width, height) = WINDOW_SIZE;
        let caps = match self.browser {
            Browser::Chrome => {
                let mut args = vec![
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={width},{height}"),
                    "--no-first-run".into(),
                    "--no-default-browser-check".into(),
                    "--disable-background-networking".into(),
                    "--disable-component-update".into(),
                    "--disable-sync".into(),
                    "--disable-quic".into(),
                    "--disable-dev-shm-usage".into(),
                    "--disable-gpu".into(),
                    // Each browser-initiated navigation would otherwise swap to a new renderer
                    // process, and the back-forward cache keeps old pages alive: a pooled
                    // session's reset to about:blank costs ~90 ms with them and ~30 ms without.
                    "--disable-features=ProactivelySwapBrowsingInstance,BackForwardCache,RenderDocument"
                        .into(),
                ];
                if !headful {
                    args.push("--headless".into());
                }
                if is_root() {
                    // Chrome's sandbox refuses to run as root; only then is it turned off.
                    args.push("--no-sandbox".into());
                }
                let mut options = json!({ "args": args });
                if let Some(binary) = &self.binary {
                    options["binary"] = json!(binary);
                }
                json!({
                    "browserName": "chrome",
                    "goog:chromeOptions": options,
                    "goog:loggingPrefs": { "browser": "ALL" },
                })
            }
            Browser::Firefox => {
                let mut args = vec!["-profile".to_owned(), profile.display().to_string()];
                if !headful {
                    args.push("-headless".into());
                }
                let mut options = json!({
                    "args": args,
                    "prefs": {
                        "app.update.enabled": false,
                        "browser.shell.checkDefaultBrowser": false,
                        "datareporting.policy.dataSubmissionEnabled": false,
                        "network.captive-portal-service.enabled": false,
                        "network.connectivity-service.enabled": false,
                        "toolkit.telemetry.enabled": false,
                    },
                });
                if let Some(binary) = &self.binary {
                    options["binary"] = json!(binary);
                }
                json!({ "browserName": "firefox", "moz:firefoxOptions": options })
            }
        };
        match caps {
            Value::Object(map) => map,
            _ => unreachable!("built as an object"),
        }
    }
}

/// The capabilities of the library's own sessions of `browser` (headless unless `HARNESS_HEADFUL`,
/// `--no-sandbox` only as root, [`WINDOW_SIZE`], the flags that keep resets fast), with `profile`
/// as the browser profile and `binary` as the browser binary when given.
pub(crate) fn session_capabilities(
    browser: Browser,
    binary: Option<PathBuf>,
    profile: &std::path::Path,
) -> serde_json::Map<String, Value> {
    let unused = Url::parse("http://127.0.0.1/").expect("a valid URL");
    SessionSpec::new(browser, unused, binary).capabilities(profile)
}

fn is_root() -> bool {
    #[cfg(unix)]
    return rustix::process::geteuid().is_root();
    #[cfg(not(unix))]
    false
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
        let (caps, profile) = if spec.pooled {
            // The endpoint's warm sessions have the library's capabilities and their own profiles.
            let mut caps = Capabilities::new();
            caps.insert("browserName".into(), json!(spec.browser.name()));
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
            let connect =
                async {
                    let mut builder = ClientBuilder::new(HttpConnector::new());
                    builder.capabilities(caps);
                    let client = builder.connect(url.as_str()).await.map_err(|source| {
                        Error::NewSession {
                            url: url.to_string(),
                            source: Box::new(source),
                        }
                    })?;
                    if firefox {
                        let (w, h) = WINDOW_SIZE;
                        client
                            .set_window_size(w, h)
                            .await
                            .map_err(|e| Error::webdriver("set the window size", e))?;
                    }
                    Ok(client)
                };
            let result = tokio::time::timeout(OPEN_TIMEOUT, connect)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::SessionTimeout {
                        url: url.to_string(),
                        timeout: OPEN_TIMEOUT,
                    })
                });
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
            .json(&json!({ "type": "browser" }))
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
