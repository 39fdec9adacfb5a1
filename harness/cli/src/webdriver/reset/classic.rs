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
}
