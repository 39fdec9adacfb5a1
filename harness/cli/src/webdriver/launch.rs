//! Starting what the pool stands on: drivers (retrying chromedriver's rare "IPv4 port not
//! available"), and browser sessions with the library's capabilities and a profile of their own.

use std::path::PathBuf;

use harness::{Browser, ServerHandle};
use reqwest::Method;
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use tokio::time::Instant;
use url::Url;

use super::reset::{Cleaner, Isolation, ResetError, Target};
use super::wire::{self, WireError};

/// How many times a driver start is tried when it fails with [`PORT_RACE`].
const DRIVER_TRIES: usize = 3;

/// chromedriver's words when `--port=0` lost a race for its port (about 1 start in 400).
const PORT_RACE: &str = "IPv4 port not available";

/// What every session start needs: which browser, found where, and the HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// The browser.
    pub(crate) browser: Browser,
    /// Its driver program.
    pub(crate) driver_program: PathBuf,
    /// Its browser binary.
    pub(crate) binary: PathBuf,
    /// How warm sessions keep leases apart.
    pub(crate) isolation: Isolation,
    /// The kept-alive client every request to a driver goes through.
    pub(crate) client: reqwest::Client,
}

/// Why a driver or a session could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LaunchError {
    /// The profile folder could not be made.
    #[error("could not create a browser profile folder: {0}")]
    Profile(#[source] std::io::Error),
    /// The driver did not start.
    #[error("the {0} driver did not start: {1}")]
    Driver(Browser, String),
    /// The driver refused or failed the new session.
    #[error("new session: {0}")]
    NewSession(#[from] WireError),
    /// The driver's answer had no session id.
    #[error("new session: the driver's answer has no sessionId: {0}")]
    NoSessionId(Value),
    /// The cleaner could not attach to the new session.
    #[error("preparing the session for its first lease: {0}")]
    Attach(#[from] ResetError),
}

/// Starts the driver of `setup`'s browser on port 0, retrying a lost port race.
pub(crate) async fn start_driver(setup: &Setup) -> Result<ServerHandle, LaunchError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let server = harness::__cli::driver_server(setup.browser, &setup.driver_program)
            .args(super::reset::driver_args(setup.browser));
        match server.spawn().await {
            Ok(handle) => return Ok(handle),
            Err(error) => {
                let text = format!("{error:?}");
                if tries < DRIVER_TRIES && text.contains(PORT_RACE) {
                    continue;
                }
                return Err(LaunchError::Driver(setup.browser, text));
            }
        }
    }
}

/// An open browser session: the driver session, its profile, and (Firefox) its own driver.
#[derive(Debug)]
pub(crate) struct Session {
    /// Where the session is.
    pub(crate) target: Target,
    /// The geckodriver serving only this session; `None` on Chrome's shared chromedriver.
    own_driver: Option<ServerHandle>,
    /// Deleted when the session is dropped.
    _profile: TempDir,
}

/// A warm session of the pool and its cleaner.
#[derive(Debug)]
pub(crate) struct Warm {
    /// The session.
    pub(crate) session: Session,
    /// Resets it between leases.
    pub(crate) cleaner: Cleaner,
}

/// Opens a session with the library's capabilities (and `client_caps` merged over them, for a
/// one-off session), on `shared` (chromedriver) or on a geckodriver of its own.
pub(crate) async fn open(
    setup: &Setup,
    shared: Option<&Url>,
    client_caps: Option<Map<String, Value>>,
    deadline: Instant,
) -> Result<Session, LaunchError> {
    let profile = tempfile::Builder::new()
        // The folder's name says which kind of session it is (tests read it in the capabilities).
        .prefix(&match client_caps {
            None => format!("harness-pool-{}-", setup.browser),
            Some(_) => format!("harness-oneoff-{}-", setup.browser),
        })
        .tempdir_in(harness::__cli::profiles_root())
        .map_err(LaunchError::Profile)?;
    let mut caps = harness::__cli::session_capabilities(
        setup.browser,
        Some(setup.binary.clone()),
        profile.path(),
    );
    match client_caps {
        Some(client) => caps = super::caps::merge_over(caps, client, setup.browser),
        None => caps.extend(Cleaner::required_capabilities(
            setup.browser,
            setup.isolation,
        )),
    }
    let (own_driver, driver) = match shared {
        Some(url) => (None, url.clone()),
        None => {
            let handle = start_driver(setup).await?;
            let url = harness::__cli::with_trailing_slash(handle.url().clone());
            (Some(handle), url)
        }
    };
    let body = json!({ "capabilities": { "alwaysMatch": caps } });
    let new_session = driver.join("session").expect("a relative path");
    let value = wire::call(
        &setup.client,
        Method::POST,
        &new_session,
        Some(&body),
        deadline,
    )
    .await?;
    let Some(session_id) = value.get("sessionId").and_then(Value::as_str) else {
        return Err(LaunchError::NoSessionId(value));
    };
    let target = Target {
        browser: setup.browser,
        driver,
        session_id: session_id.to_owned(),
        capabilities: value.get("capabilities").cloned().unwrap_or(Value::Null),
    };
    let session = Session {
        target,
        own_driver,
        _profile: profile,
    };
    if setup.browser == Browser::Firefox {
        // Firefox's windows come up 1366×768 whatever the profile says.
        let (width, height) = harness::browser::WINDOW_SIZE;
        let rect = session.url("window/rect");
        let size = json!({ "width": width, "height": height });
        if let Err(error) =
            wire::call(&setup.client, Method::POST, &rect, Some(&size), deadline).await
        {
            session.close(&setup.client, deadline).await;
            return Err(error.into());
        }
    }
    Ok(session)
}

/// Opens a warm session and attaches its cleaner.
pub(crate) async fn open_warm(
    setup: &Setup,
    shared: Option<&Url>,
    deadline: Instant,
) -> Result<Warm, LaunchError> {
    let session = open(setup, shared, None, deadline).await?;
    // Chrome starts on its new-tab page, whose load would hold up the first lease's probe (and
    // show it something other than about:blank).
    let blank = json!({ "url": "about:blank" });
    let url = session.url("url");
    if let Err(error) = wire::call(&setup.client, Method::POST, &url, Some(&blank), deadline).await
    {
        session.close(&setup.client, deadline).await;
        return Err(error.into());
    }
    match Cleaner::attach(&session.target, setup.isolation, deadline).await {
        Ok(cleaner) => Ok(Warm { session, cleaner }),
        Err(error) => {
            session.close(&setup.client, deadline).await;
            Err(error.into())
        }
    }
}

impl Session {
    /// The driver URL of command `path` of this session (`url`, `window/rect`...).
    pub(crate) fn url(&self, path: &str) -> Url {
        command_url(&self.target, path)
    }

    /// Deletes the session on its driver (at most until `deadline`; a dead browser may not
    /// answer), then stops its own driver, if any, and deletes its profile.
    pub(crate) async fn close(self, client: &reqwest::Client, deadline: Instant) {
        let url = command_url(&self.target, "");
        let _ = wire::call(client, Method::DELETE, &url, None, deadline).await;
        // Dropping the handle SIGKILLs geckodriver's group: the browser with it.
        drop(self.own_driver);
    }
}

/// `{driver}session/{id}/{path}` (`path` empty: the session itself).
pub(crate) fn command_url(target: &Target, path: &str) -> Url {
    let mut url = target.driver.clone();
    {
        let mut segments = url.path_segments_mut().expect("an http URL has a path");
        segments
            .pop_if_empty()
            .push("session")
            .push(&target.session_id);
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            segments.push(segment);
        }
    }
    url
}
