//! (stub) How a warm session is made clean between leases.
//!
//! This stub resets through classic WebDriver only: it dismisses an open alert, deletes the
//! cookies of the page the last lease ended on, opens a fresh tab and closes every other window,
//! loads `about:blank` and restores the window size. Storage of other origins, IndexedDB, Cache
//! Storage and service workers are not cleared here; the full reset (CDP / BiDi) replaces this
//! module's body behind the same API.

use harness::Browser;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::wire;

/// How leases of one warm session are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// The same browser context, reset between leases.
    Reset,
    /// A new browser context per lease.
    Context,
}

/// The warm session a [`Cleaner`] works on.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The browser of the session.
    pub(crate) browser: harness::Browser,
    /// The driver's base URL, ending in `/`.
    pub(crate) driver: url::Url,
    /// The driver's session id.
    pub(crate) session_id: String,
    /// The capabilities object the driver returned.
    pub(crate) capabilities: serde_json::Value,
}

/// A reset that failed: the session must be discarded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ResetError(pub(crate) String);

/// Resets one warm session between leases.
#[derive(Debug)]
pub(crate) struct Cleaner {
    client: reqwest::Client,
}

impl Cleaner {
    /// Capabilities merged into alwaysMatch of every warm session's new-session request.
    pub(crate) fn required_capabilities(
        browser: Browser,
        isolation: Isolation,
    ) -> serde_json::Map<String, Value> {
        let _ = (browser, isolation);
        Map::new()
    }

    /// Connects to a fresh warm session and prepares its first lease.
    pub(crate) async fn attach(
        target: &Target,
        isolation: Isolation,
        deadline: tokio::time::Instant,
    ) -> Result<Cleaner, ResetError> {
        let _ = (target, isolation, deadline);
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .map_err(|e| ResetError(format!("build an HTTP client: {e}")))?;
        Ok(Cleaner { client })
    }

    /// Makes the session clean for the next lease (one window, about:blank, nothing of the last
    /// lease visible). Err => the pool must discard the session.
    pub(crate) async fn reset(
        &mut self,
        target: &Target,
        deadline: tokio::time::Instant,
    ) -> Result<(), ResetError> {
        let session = target
            .driver
            .join(&format!("session/{}/", target.session_id))
            .map_err(|e| ResetError(format!("session URL: {e}")))?;
        let at = |path: &str| {
            session
                .join(path)
                .map_err(|e| ResetError(format!("URL of {path}: {e}")))
        };
        let client = &self.client;
        let call = |method: Method, url: url::Url, body: Option<Value>| async move {
            wire::call(client, method, &url, body.as_ref(), deadline)
                .await
                .map_err(|e| ResetError(format!("reset of a {} session: {e}", target.browser)))
        };
        // An open alert blocks every other command; none open is the usual case.
        let _ = call(Method::POST, at("alert/dismiss")?, Some(json!({}))).await;
        // Cookies are deleted for the page the last lease ended on, so before leaving it.
        call(Method::DELETE, at("cookie")?, None).await?;
        let fresh = call(
            Method::POST,
            at("window/new")?,
            Some(json!({"type": "tab"})),
        )
        .await?;
        let fresh = fresh
            .get("handle")
            .and_then(Value::as_str)
            .ok_or_else(|| ResetError(format!("reset: window/new gave no handle: {fresh}")))?
            .to_owned();
        let handles = call(Method::GET, at("window/handles")?, None).await?;
        for handle in handles.as_array().into_iter().flatten() {
            let Some(handle) = handle.as_str() else {
                continue;
            };
            if handle == fresh {
                continue;
            }
            call(
                Method::POST,
                at("window")?,
                Some(json!({ "handle": handle })),
            )
            .await?;
            call(Method::DELETE, at("window")?, None).await?;
        }
        call(
            Method::POST,
            at("window")?,
            Some(json!({ "handle": fresh })),
        )
        .await?;
        call(
            Method::POST,
            at("url")?,
            Some(json!({"url": "about:blank"})),
        )
        .await?;
        let (width, height) = harness::browser::WINDOW_SIZE;
        call(
            Method::POST,
            at("window/rect")?,
            Some(json!({ "width": width, "height": height })),
        )
        .await?;
        Ok(())
    }
}
