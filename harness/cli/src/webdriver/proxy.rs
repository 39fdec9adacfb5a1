//! The HTTP side of the endpoint: `POST /session` leases, `DELETE /session/{id}` releases,
//! `/session/{id}/...` is forwarded unchanged (the lease id swapped for the driver's session id),
//! and `GET /status` says the endpoint is ready.
//!
//! A forwarded command takes as long as the browser needs (a page load may legitimately take
//! minutes): it is bounded by the client, whose disconnect cancels it.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::pool::Pool;
use super::wire;

/// The largest request body taken (file uploads come base64-encoded in the body).
const MAX_BODY: usize = 512 * 1024 * 1024;

/// The endpoint's routes, all through one handler.
pub(crate) fn router(pool: Arc<Pool>) -> Router {
    Router::new().fallback(handle).with_state(pool)
}

/// Dispatches one request by method and path.
async fn handle(State(pool): State<Arc<Pool>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let content_type = request.headers().get(header::CONTENT_TYPE).cloned();
    let body = match axum::body::to_bytes(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(error) => {
            return wire::error(
                StatusCode::BAD_REQUEST,
                "invalid argument",
                format!("reading the request body: {error}"),
            );
        }
    };
    // `/session/ID/` is `/session/ID`: a trailing `/` must never let a DELETE through to the
    // driver, which would end the warm session for real.
    let trimmed = path.trim_start_matches('/').trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, ["status"]) => status(&pool),
        (&Method::POST, ["session"]) => new_session(&pool, &body).await,
        (&Method::DELETE, ["session", id]) => {
            if pool.release(id) {
                axum::Json(json!({ "value": null })).into_response()
            } else {
                wire::invalid_session(id)
            }
        }
        (_, ["session", id, ..]) => {
            let Some(target) = pool.target(id) else {
                return wire::invalid_session(id);
            };
            let suffix = &trimmed["session/".len() + id.len()..];
            let mut url = format!(
                "{}session/{}{suffix}",
                target.driver.as_str(),
                target.session_id
            );
            if let Some(query) = &query {
                url.push('?');
                url.push_str(query);
            }
            let response = send(&pool, method, &url, content_type, body).await;
            // A long command is activity too: the idle clock starts when it ends.
            let _ = pool.target(id);
            response
        }
        _ => match pool.shared_url() {
            Some(driver) => {
                let mut url = format!("{}{trimmed}", driver.as_str());
                if let Some(query) = &query {
                    url.push('?');
                    url.push_str(query);
                }
                send(&pool, method, &url, content_type, body).await
            }
            None => wire::error(
                StatusCode::NOT_FOUND,
                "unknown command",
                format!("{method} {path} is not a command of this harness endpoint"),
            ),
        },
    }
}

/// `GET /status`.
fn status(pool: &Pool) -> Response {
    let _ = pool;
    axum::Json(json!({
        "value": { "ready": true, "message": "harness pooling WebDriver endpoint: ready" }
    }))
    .into_response()
}

/// `POST /session`: a lease, in the W3C shape, or a W3C error saying why not.
async fn new_session(pool: &Arc<Pool>, body: &Bytes) -> Response {
    let parsed: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(error) => {
                return wire::error(
                    StatusCode::BAD_REQUEST,
                    "invalid argument",
                    format!("the new-session body is not JSON: {error}"),
                );
            }
        }
    };
    // On a task of its own: a client that goes away mid-lease must not drop a warm session on
    // the floor (its lease is made, then reclaimed after --idle-timeout).
    let leasing = Arc::clone(pool);
    let leased = tokio::spawn(async move { leasing.lease(&parsed).await }).await;
    let leased = match leased {
        Ok(leased) => leased,
        Err(error) => {
            return wire::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "session not created",
                format!("leasing a session failed: {error}"),
            );
        }
    };
    match leased {
        Ok(granted) => axum::Json(json!({
            "value": { "sessionId": granted.id, "capabilities": granted.capabilities }
        }))
        .into_response(),
        Err(refused) => {
            let status = if refused.error == "invalid argument" {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            wire::error(status, refused.error, refused.message)
        }
    }
}

/// Forwards one request to the driver and its answer back, unchanged.
async fn send(
    pool: &Pool,
    method: Method,
    url: &str,
    content_type: Option<HeaderValue>,
    body: Bytes,
) -> Response {
    let mut request = pool.client().request(method.clone(), url);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    if !body.is_empty() || method == Method::POST {
        request = request.body(body);
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(error) => return driver_gone(url, &error),
    };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = match answer.bytes().await {
        Ok(bytes) => bytes,
        Err(error) => return driver_gone(url, &error),
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
}

/// The answer when the driver could not be reached.
fn driver_gone(url: &str, error: &reqwest::Error) -> Response {
    wire::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "unknown error",
        format!(
            "forwarding to the driver ({url}) failed: {}",
            harness::__cli::chain(error)
        ),
    )
}
