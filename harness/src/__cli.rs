//! For the `harness-e2e-cli` package (the `harness` command line) and the workspace's
//! `test-support` crate only: not public API, not
//! covered by semver, hidden from the docs. It exposes the few internals the command line needs
//! for its test command (a process group tied to the harness's life, as every server's is) and
//! its death reports, so the library's own modules can stay private.
//!
//! ```
//! let slash = harness::__cli::with_trailing_slash("http://127.0.0.1:8080/app".parse().unwrap());
//! assert_eq!(slash.as_str(), "http://127.0.0.1:8080/app/");
//! ```

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Duration;

use crate::{Error, ServerHandle};

/// The spawn layer every server uses, for the command line's test command.
pub mod process {
    pub use crate::process::{Child, Command, Group, configure, spawn, tie_to_parent, wait_exit};
}

/// How long a death report waits for a dead server's output pipes to close.
pub const DRAIN_LIMIT: Duration = crate::monitor::DRAIN_LIMIT;

/// `error` and its `source()` chain on one line, each cause after `: `.
pub fn chain(error: &dyn std::error::Error) -> String {
    crate::error::chain(error)
}

/// `program` found as `Server::new` would find it (on `PATH` unless it has a `/`).
pub fn resolve(program: &OsStr) -> Result<PathBuf, Error> {
    crate::locate::resolve(program, None)
}

/// Whether this process's group is the foreground group of its controlling terminal, read from
/// `/proc/self/stat` by the library's one parser; `None` when that cannot be read.
#[cfg(target_os = "linux")]
pub fn in_foreground_group() -> Option<bool> {
    let stat = crate::procfs::stat(std::process::id())?;
    Some(i64::from(stat.pgrp) == i64::from(stat.tpgid))
}

/// Whether process `pid` is running (not a zombie awaiting its reap, not gone), read from
/// `/proc/PID/stat` by the library's one parser. For the workspace's `test-support` crate, so
/// tests count processes the way the harness does.
///
/// ```
/// assert!(harness::__cli::process_is_live(std::process::id()));
/// ```
#[cfg(target_os = "linux")]
pub fn process_is_live(pid: u32) -> bool {
    crate::procfs::is_live(pid)
}

/// The prefix of server `name`'s variables (`web-api` gives `WEB_API`, for `WEB_API_URL`), `None`
/// for a name that cannot be part of a variable name: the rule `SharedServer` reads them back by.
///
/// ```
/// assert_eq!(harness::__cli::env_prefix("web-api").as_deref(), Some("WEB_API"));
/// assert_eq!(harness::__cli::env_prefix("a b"), None);
/// ```
pub fn env_prefix(name: &str) -> Option<String> {
    crate::attached::env_prefix(name)
}

/// Cargo's target directory for this build, as `Server::cargo_bin` finds it.
pub fn cargo_target_dir() -> Option<PathBuf> {
    crate::locate::cargo_target_dir()
}

/// `url` with a path that ends in `/`, so relative joins stay under it.
pub fn with_trailing_slash(mut url: url::Url) -> url::Url {
    crate::urls::ensure_trailing_slash(&mut url);
    url
}

/// The WebDriver driver `browser` would start, found as `Driver::start` finds it.
#[cfg(feature = "browser")]
pub fn find_driver(browser: crate::Browser) -> Result<PathBuf, Error> {
    browser.find_driver()
}

/// The browser binary a session of `browser` would run, found as `Driver::start` finds it.
#[cfg(feature = "browser")]
pub fn find_binary(browser: crate::Browser) -> Result<PathBuf, Error> {
    browser.find_binary()
}

/// Waits until `handle`'s output pipes are closed, at most until `deadline`; returns whether they
/// closed (its logs are then complete).
pub async fn wait_drained(handle: &ServerHandle, deadline: tokio::time::Instant) -> bool {
    handle.wait_drained(deadline).await
}

/// Sends SIGKILL to `handle`'s whole process group without reaping it.
pub fn kill_group(handle: &ServerHandle) {
    handle.kill_group();
}

/// The capabilities the library's sessions of `browser` use (headless unless `HARNESS_HEADFUL`,
/// `--no-sandbox` only as root, the window size, the flags that keep resets fast), with `profile`
/// as the browser profile and `binary` as the browser binary when given. For the pooling
/// WebDriver endpoint, whose warm sessions must be the library's sessions.
#[cfg(feature = "browser")]
pub fn session_capabilities(
    browser: crate::Browser,
    binary: Option<PathBuf>,
    profile: &std::path::Path,
) -> serde_json::Map<String, serde_json::Value> {
    crate::browser::internals::session_capabilities(browser, binary, profile)
}

/// The driver of `browser` (`program`) as a [`crate::Server`] on port 0, as `Driver::start`
/// starts it: ready at its own "listening" line, its `TMPDIR` a folder the watchdog deletes.
#[cfg(feature = "browser")]
pub fn driver_server(browser: crate::Browser, program: &std::path::Path) -> crate::Server {
    crate::browser::internals::driver_server(browser, program)
}

/// The folder browser profiles of this process go in; the watchdog deletes it when this process
/// ends, however it ends.
#[cfg(feature = "browser")]
pub fn profiles_root() -> PathBuf {
    crate::browser::internals::profiles_root()
}
