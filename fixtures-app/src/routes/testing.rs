//! In-process requests for the route tests.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::{AppState, app};

/// A response, read to the end.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

impl Reply {
    /// The value of `name`, which must be present and ASCII.
    pub(super) fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    /// The body as JSON.
    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// Sends `request` to a fresh app over `state`.
pub(super) async fn send(state: &AppState, request: Request<Body>) -> Reply {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// `GET path`.
pub(super) async fn get(state: &AppState, path: &str) -> Reply {
    send(state, Request::get(path).body(Body::empty()).unwrap()).await
}

/// `method path` with a body of the given content type.
pub(super) async fn with_body(
    state: &AppState,
    method: &str,
    path: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap();
    send(state, request).await
}

/// A state for one test.
pub(super) fn state() -> AppState {
    AppState::new("test-instance")
}
