//! The few classic WebDriver commands the reset sends to the driver itself: switch to a window,
//! list the windows, read and set the window size.

use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::Instant;
use url::Url;

use super::{ResetError, Target};

/// The window size every warm session is handed out with (the library's sessions' size).
pub(super) const WINDOW_SIZE: (u64, u64) = (1280, 800);

/// Classic WebDriver commands of one session.
#[derive(Debug)]
pub(super) struct Classic {
    http: reqwest::Client,
    /// `{driver}session/{id}/`.
    session: Url,
}

impl Classic {
    /// Commands for `target`'s session.
    pub(super) fn new(target: &Target) -> Result<Self, ResetError> {
        let session = target
            .driver
            .join(&format!("session/{}/", target.session_id))
            .map_err(|e| {
                ResetError(format!(
                    "bad driver URL {} or session id {:?}: {e}",
                    target.driver, target.session_id
                ))
            })?;
        Ok(Self {
            http: reqwest::Client::new(),
            session,
        })
    }

    /// Sends `method path` (relative to the session) with `body`; its `value`, by `deadline`.
    async fn command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        deadline: Instant,
    ) -> Result<Value, ResetError> {
        let url = self
            .session
            .join(path)
            .map_err(|e| ResetError(format!("bad WebDriver path {path}: {e}")))?;
        let what = format!("WebDriver {method} {path}");
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let exchange = async {
            let response = request.send().await?;
            let status = response.status();
            let body: Value = response.json().await?;
            Ok::<_, reqwest::Error>((status, body))
        };
        let (status, mut body) = tokio::time::timeout_at(deadline, exchange)
            .await
            .map_err(|_| ResetError(format!("{what}: no answer before the deadline")))?
            .map_err(|e| ResetError(format!("{what} failed: {e}")))?;
        let value = body["value"].take();
        if !status.is_success() {
            return Err(ResetError(format!(
                "{what} failed ({status}): {}: {}",
                value["error"].as_str().unwrap_or("unknown error"),
                value["message"].as_str().unwrap_or_default()
            )));
        }
        Ok(value)
    }

    /// Makes `handle` the session's current window.
    pub(super) async fn switch_to(
        &self,
        handle: &str,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        self.command(
            Method::POST,
            "window",
            Some(json!({ "handle": handle })),
            deadline,
        )
        .await
        .map(drop)
    }

    /// The session's window handles.
    pub(super) async fn window_handles(
        &self,
        deadline: Instant,
    ) -> Result<Vec<String>, ResetError> {
        let value = self
            .command(Method::GET, "window/handles", None, deadline)
            .await?;
        serde_json::from_value(value)
            .map_err(|e| ResetError(format!("WebDriver window handles are not strings: {e}")))
    }

    /// Sets the current window to [`WINDOW_SIZE`] unless it already is.
    pub(super) async fn ensure_window_size(&self, deadline: Instant) -> Result<(), ResetError> {
        let rect = self
            .command(Method::GET, "window/rect", None, deadline)
            .await?;
        let (width, height) = WINDOW_SIZE;
        if rect["width"].as_u64() == Some(width) && rect["height"].as_u64() == Some(height) {
            return Ok(());
        }
        self.command(
            Method::POST,
            "window/rect",
            Some(json!({ "width": width, "height": height })),
            deadline,
        )
        .await
        .map(drop)
    }

    /// Checks that `handle` is the session's one window, as the driver itself sees it.
    pub(super) async fn expect_only(
        &self,
        handle: &str,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        let handles = self.window_handles(deadline).await?;
        if handles != [handle] {
            return Err(ResetError(format!(
                "after the reset the driver lists windows {handles:?}, not just {handle:?}"
            )));
        }
        Ok(())
    }

    /// Dismisses an open alert, if any.
    pub(super) async fn dismiss_alert(&self, deadline: Instant) -> Result<(), ResetError> {
        match self
            .command(Method::POST, "alert/dismiss", Some(json!({})), deadline)
            .await
        {
            Ok(_) => Ok(()),
            Err(ResetError(why)) if why.contains("no such alert") => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Opens a new tab (not made current) and returns its handle.
    pub(super) async fn new_tab(&self, deadline: Instant) -> Result<String, ResetError> {
        let value = self
            .command(
                Method::POST,
                "window/new",
                Some(json!({ "type": "tab" })),
                deadline,
            )
            .await?;
        value["handle"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ResetError(format!("WebDriver New Window returned no handle: {value}")))
    }

    /// Closes the current window.
    pub(super) async fn close_window(&self, deadline: Instant) -> Result<(), ResetError> {
        self.command(Method::DELETE, "window", None, deadline)
            .await
            .map(drop)
    }

    /// geckodriver only: runs the next scripts in `context` (`chrome` or `content`).
    pub(super) async fn set_context(
        &self,
        context: &str,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        self.command(
            Method::POST,
            "moz/context",
            Some(super::firefox::context_body(context)),
            deadline,
        )
        .await
        .map(drop)
    }

    /// Runs `script` asynchronously (it calls its last argument with the result).
    pub(super) async fn execute_async(
        &self,
        script: &str,
        deadline: Instant,
    ) -> Result<Value, ResetError> {
        self.command(
            Method::POST,
            "execute/async",
            Some(json!({ "script": script, "args": [] })),
            deadline,
        )
        .await
    }
}
