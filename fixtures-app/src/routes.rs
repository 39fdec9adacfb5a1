//! The app's routes, one module per page or API; [`app`] puts them together.

mod form;
mod info;
mod items;
mod login;
mod pages;
mod storage;
#[cfg(test)]
mod testing;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;

use crate::state::AppState;

/// Every page and API of the fixture app, ready to serve or to call in-process.
///
/// ```
/// let app = fixtures_app::app(fixtures_app::AppState::new("doc"));
/// # drop(app);
/// ```
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/hello", get(pages::hello))
        .route("/counter", get(pages::counter))
        .route("/slow", get(pages::slow))
        .route("/form", get(form::show).post(form::submit))
        .route("/login", get(login::show).post(login::submit))
        .route("/account", get(login::account))
        .route("/logout", get(login::logout).post(login::logout))
        .route("/api/items", get(items::list).post(items::create))
        .route(
            "/api/items/{id}",
            get(items::read).put(items::update).delete(items::delete),
        )
        .route("/health", get(info::health))
        .route("/whoami", get(info::whoami))
        .merge(storage::routes())
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Logs every request with its status, so a failed browser test's server log shows what the
/// browser asked for.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    tracing::info!(%method, %uri, status = response.status().as_u16(), "request");
    response
}
