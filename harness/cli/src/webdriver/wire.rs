//! The WebDriver wire: one bounded JSON request to a driver, and the W3C error bodies the endpoint
//! answers with.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::time::Instant;

/// Why a request to a driver failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// No answer before the deadline.
    #[error("{method} {url}: no answer before the deadline")]
    Timeout {
        /// The request's method.
        method: reqwest::Method,
        /// The request's URL.
        url: String,
    },
    /// The connection or the body failed.
    #[error("{method} {url}: {source}")]
    Http {
        /// The request's method.
        method: reqwest::Method,
        /// The request's URL.
        url: String,
        /// What reqwest said.
        source: reqwest::Error,
    },
    /// The driver answered with a WebDriver error.
    #[error("{method} {url}: {status}: {error}: {message}")]
    Driver {
        /// The request's method.
        method: reqwest::Method,
        /// The request's URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The W3C error code, like `invalid session id`.
        error: String,
        /// The driver's message.
        message: String,
    },
}

/// Sends `body` (or nothing) to `url` with `method`, at most until `deadline`, and returns the
/// `value` of a 2xx answer.
pub(crate) async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &url::Url,
    body: Option<&Value>,
    deadline: Instant,
) -> Result<Value, WireError> {
    let mut request = client.request(method.clone(), url.as_str());
    if let Some(body) = body {
        request = request.json(body);
    }
    let http = |source| WireError::Http {
        method: method.clone(),
        url: url.to_string(),
        source,
    };
    let exchange = async {
        let response = request.send().await.map_err(http)?;
        let status = response.status();
        let text = response.text().await.map_err(http)?;
        Ok::<_, WireError>((status, text))
    };
    let (status, text) = tokio::time::timeout_at(deadline, exchange)
        .await
        .map_err(|_| WireError::Timeout {
            method: method.clone(),
            url: url.to_string(),
        })??;
    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let value = parsed.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    let field = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    Err(WireError::Driver {
        method,
        url: url.to_string(),
        status: status.as_u16(),
        error: field("error").unwrap_or_else(|| "unknown error".into()),
        message: field("message").unwrap_or(text),
    })
}

/// A W3C error answer: `{"value":{"error":..,"message":..,"stacktrace":""}}`.
pub(crate) fn error(status: StatusCode, error: &str, message: impl Into<String>) -> Response {
    let body = json!({
        "value": { "error": error, "message": message.into(), "stacktrace": "" }
    });
    (status, axum::Json(body)).into_response()
}

/// The answer to a session id the endpoint does not know (never leased, released, or reclaimed).
pub(crate) fn invalid_session(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "invalid session id",
        format!(
            "no session {id} on this harness endpoint: it was deleted, reclaimed after its idle \
             timeout, or never created; start a new session"
        ),
    )
}
