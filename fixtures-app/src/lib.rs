//! The small web app that harness's own end-to-end tests run against.
//!
//! It plays a user's server: it binds port 0, prints the handshake line of
//! [`harness::handshake`], serves a few pages made for browser tests, and shuts down gracefully on
//! SIGTERM or SIGINT. Flags in [`Config`] make it misbehave on purpose (no handshake, a broken one,
//! floods on its pipes, a grandchild left behind, SIGTERM ignored) so the harness can be tested
//! against real failures.
//!
//! [`app`] builds the routes without a socket, for in-process tests:
//!
//! ```
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = fixtures_app::app(fixtures_app::AppState::new("doc"));
//! let request = axum::http::Request::get("/hello").body(axum::body::Body::empty()).unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # }
//! ```

mod config;
mod flood;
mod html;
mod ids;
mod misbehave;
mod routes;
mod server;
mod shutdown;
mod state;

pub use config::Config;
pub use html::escape;
pub use routes::app;
pub use server::{SHUTDOWN_GRACE, run};
pub use state::{AppState, Item};
