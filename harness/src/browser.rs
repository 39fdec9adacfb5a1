//! Browsers: WebDriver drivers on port 0, isolated fantoccini sessions, a pool, failure artifacts.
//!
//! ```no_run
//! use harness::{Driver, Server};
//! use fantoccini::Locator;
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let web = Server::cargo_bin("fixtures-app")?.spawn().await?;
//! let driver = Driver::from_env().await?; // HARNESS_BROWSER=chrome|firefox, or WEBDRIVER_URL
//! let session = driver.session().await?;
//! session.goto(web.url().join("counter")?.as_str()).await?;
//! session.find(Locator::Id("increment")).await?.click().await?;
//! session.close().await?;
//! # Ok(()) }
//! ```
//!
//! fantoccini runs each session on a background task of the runtime that created it. The harness
//! creates every session on its own small runtime (one thread, for the life of the process), so a
//! [`Driver`] shared through a `static` and a [`SessionPool`] work from any test's runtime.
//!
//! The modules, each using only those below it: [`e2e()`] (the test runner) uses `artifacts`
//! (failure evidence), `pool` and `driver` (the driver process and its startup); those use
//! `session` (sessions and their spec), which uses `capabilities` (what a session asks the
//! browser for), `grid_answers` (what a Selenium Grid's refusals and failures mean), `kind`
//! (which browser, where its binaries are), `one_at_a_time` (geckodriver's one session),
//! `scratch` (the folder the watchdog deletes) and `runtime` (where sessions run).

mod artifacts;
mod capabilities;
mod driver;
mod e2e;
mod grid_answers;
mod kind;
mod one_at_a_time;
mod pool;
mod runtime;
mod scratch;
mod session;

pub use artifacts::artifacts_root;
pub use capabilities::WINDOW_SIZE;
pub use driver::Driver;
pub use e2e::{BoxError, E2e, E2eContext, e2e};
pub use grid_answers::explain_grid_failure;
pub use kind::Browser;
pub use pool::{PooledSession, SessionPool};
pub use session::Session;

/// For [`crate::__cli`]: what a pooling endpoint needs to start the library's drivers and sessions.
pub(crate) mod internals {
    pub(crate) use super::capabilities::session_capabilities;
    pub(crate) use super::driver::driver_server;
    pub(crate) use super::scratch::profiles_root;
}
