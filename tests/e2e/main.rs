//! The browser end-to-end suite, against fixtures-app.
//!
//! Chrome by default; `HARNESS_BROWSER=firefox` runs the same tests on Firefox, and `WEBDRIVER_URL`
//! runs them through a remote endpoint such as a Selenium Grid. One fixtures-app and one driver
//! serve the whole test binary; every test gets its own fresh browser session.

mod artifacts;
mod cleanup;
mod drivers;
mod forms;
mod grid;
mod isolation;
mod login;
mod pages;
mod pool;
use test_support::procs;
mod support;
