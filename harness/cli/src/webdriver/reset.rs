//! The full reset of a warm browser session between two leases of the pooling WebDriver
//! endpoint: after [`Cleaner::reset`] the session has exactly one window, WebDriver's current
//! window, at `about:blank`, 1280×800, with no alert, and nothing of the last lease is visible:
//! no cookie, local or session storage, IndexedDB, Cache Storage or service worker of any origin
//! the last lease reached (by `goto`, link, redirect or iframe, cross-origin ones included).
//!
//! - Chrome, [`Isolation::Reset`]: the browser-level DevTools socket records every origin reached
//!   (frames, iframes and workers, each paused at its start until recorded), and the partitioned
//!   storage key of every cross-site iframe; the reset opens a fresh tab, closes every other one,
//!   clears each recorded origin's and key's storage, and every cookie.
//! - Chrome, [`Isolation::Context`]: each lease runs in a browser context of its own, disposed at
//!   the reset (origins reached outside it, e.g. in WebDriver's New Window, which opens in the
//!   default context, are cleared as above).
//! - Firefox, both modes: a fresh tab, every other window closed, and Firefox's own "clear all
//!   site data" run in geckodriver's chrome context (geckodriver needs [`driver_args`]).
//!
//! Every wait is bounded by the caller's deadline; any failure is an `Err`, and the pool then
//! discards the session.

mod chrome;
mod classic;
mod firefox;
mod wsrpc;

#[cfg(test)]
mod tests;

use harness::Browser;
use serde_json::{Map, Value};
use tokio::time::Instant;

use chrome::ChromeCleaner;
use classic::Classic;
use firefox::FirefoxCleaner;

/// How a warm session is made clean between leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// Clear everything the last lease reached (Chrome), in the same browser context.
    Reset,
    /// A new browser context per lease (Chrome: a DevTools browser context; Firefox clears all
    /// site data as for [`Isolation::Reset`]: its user contexts hide their cookies from classic
    /// WebDriver).
    Context,
}

/// The warm session a [`Cleaner`] works on.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Which browser the session runs.
    pub(crate) browser: Browser,
    /// The driver's base URL, ending in `/`.
    pub(crate) driver: url::Url,
    /// The driver's session id.
    pub(crate) session_id: String,
    /// The capabilities object the driver returned for the session.
    pub(crate) capabilities: Value,
}

/// The arguments the driver of `browser` must be started with for the reset: geckodriver's
/// `--allow-system-access` (privileged scripts in the chrome context, for Firefox's clear-all-data).
pub(crate) fn driver_args(browser: Browser) -> &'static [&'static str] {
    match browser {
        Browser::Chrome => &[],
        Browser::Firefox => firefox::DRIVER_ARGS,
    }
}

/// Why a session could not be attached to or reset; the pool discards such a session.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ResetError(pub(crate) String);

/// Resets one warm session between leases.
#[derive(Debug)]
pub(crate) struct Cleaner {
    classic: Classic,
    browser: BrowserCleaner,
}

/// The browser-specific half of a [`Cleaner`].
#[derive(Debug)]
enum BrowserCleaner {
    Chrome(ChromeCleaner),
    Firefox(FirefoxCleaner),
}

impl Cleaner {
    /// Capabilities merged into `alwaysMatch` of every warm session's new-session request:
    /// none (chromedriver always reports the DevTools address Chrome needs; Firefox needs only
    /// [`driver_args`]).
    pub(crate) fn required_capabilities(
        _browser: Browser,
        _isolation: Isolation,
    ) -> Map<String, Value> {
        Map::new()
    }

    /// Connects to a fresh warm session's browser, starts any recording the reset needs, and
    /// prepares the first lease (with [`Isolation::Context`], and on Firefox, its first context,
    /// WebDriver's current window switched to it).
    pub(crate) async fn attach(
        target: &Target,
        isolation: Isolation,
        deadline: Instant,
    ) -> Result<Cleaner, ResetError> {
        let classic = Classic::new(target)?;
        let browser = match target.browser {
            Browser::Chrome => BrowserCleaner::Chrome(
                ChromeCleaner::attach(target, &classic, isolation, deadline).await?,
            ),
            Browser::Firefox => {
                BrowserCleaner::Firefox(FirefoxCleaner::attach(&classic, deadline).await?)
            }
        };
        Ok(Cleaner { classic, browser })
    }

    /// Makes the session clean for the next lease (see the [module docs](self)). `Err` means the
    /// session is not known to be clean: the pool discards it.
    pub(crate) async fn reset(
        &mut self,
        target: &Target,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        let reset = match &mut self.browser {
            BrowserCleaner::Chrome(chrome) => chrome.reset(&self.classic, deadline).await,
            BrowserCleaner::Firefox(firefox) => firefox.reset(&self.classic, deadline).await,
        };
        reset.map_err(|ResetError(why)| {
            ResetError(format!(
                "resetting {} session {}: {why}",
                target.browser, target.session_id
            ))
        })
    }
}
