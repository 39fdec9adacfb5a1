//! Firefox: classic WebDriver in the default user context, and Firefox's own "clear all site
//! data" (`Services.clearData.deleteData(CLEAR_ALL)`, what *Settings → Clear Data* runs) through
//! a privileged script in geckodriver's chrome context, which needs geckodriver's
//! `--allow-system-access` (see [`DRIVER_ARGS`]). It clears cookies, local storage, IndexedDB,
//! Cache Storage, service workers and the HTTP cache of every origin, so nothing needs recording.
//! Both [`Isolation`] modes take this path.
//!
//! Not WebDriver BiDi user contexts: geckodriver's classic cookie commands read the default user
//! context's cookies, so a test in a user context that asks WebDriver for its cookies would be
//! told it has none (measured with geckodriver 0.37 and Firefox ESR: `No cookie with name …`).
//!
//! [`Isolation`]: super::Isolation

use serde_json::{Value, json};
use tokio::time::Instant;

use super::ResetError;
use super::classic::Classic;

/// What geckodriver must be started with for this reset: privileged scripts in the chrome context.
pub(crate) const DRIVER_ARGS: &[&str] = &["--allow-system-access"];

/// Clears every site's data and reports the flags of what failed (0: nothing).
const CLEAR_ALL: &str = "const done = arguments[arguments.length - 1]; \
     Services.clearData.deleteData(Ci.nsIClearDataService.CLEAR_ALL, (failed) => done(failed));";

/// The Firefox half of a warm session's cleaner: it needs nothing but the classic session.
#[derive(Debug)]
pub(super) struct FirefoxCleaner;

impl FirefoxCleaner {
    /// Prepares the first lease of a fresh session.
    pub(super) async fn attach(classic: &Classic, deadline: Instant) -> Result<Self, ResetError> {
        let mut cleaner = Self;
        cleaner.reset(classic, deadline).await?;
        Ok(cleaner)
    }

    /// A fresh tab as the only window, every site's data cleared, 1280×800.
    pub(super) async fn reset(
        &mut self,
        classic: &Classic,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        classic.dismiss_alert(deadline).await?;
        let tab = classic.new_tab(deadline).await?;
        for handle in classic.window_handles(deadline).await? {
            if handle != tab {
                classic.switch_to(&handle, deadline).await?;
                classic.dismiss_alert(deadline).await?;
                classic.close_window(deadline).await?;
            }
        }
        classic.switch_to(&tab, deadline).await?;
        // Only once the last lease's pages are closed: an open page could write again.
        classic.set_context("chrome", deadline).await?;
        let cleared = classic.execute_async(CLEAR_ALL, deadline).await;
        // Back to content whatever happened: the next lease's commands are for pages.
        classic.set_context("content", deadline).await?;
        match cleared? {
            Value::Number(flags) if flags.as_u64() == Some(0) => {}
            other => {
                return Err(ResetError(format!(
                    "Firefox's clear-all-data failed (flags of what failed: {other})"
                )));
            }
        }
        classic.ensure_window_size(deadline).await?;
        classic.expect_only(&tab, deadline).await
    }
}

/// The body of `POST session/{id}/moz/context`.
pub(super) fn context_body(context: &str) -> Value {
    json!({ "context": context })
}
