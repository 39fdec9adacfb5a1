//! The app's routes, one module per page or API; [`app`] puts them together.

mod form;
mod info;
mod items;
mod login;
mod pages;
#[cfg(test)]
mod testing;

use axum::Router;
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
        .with_state(state)
}
