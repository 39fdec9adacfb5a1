//! Firefox: a new WebDriver BiDi user context per lease, through the session's `webSocketUrl`
//! (asked for with `webSocketUrl: true`). A user context has its own cookies and storage of
//! every kind; removing it drops them all, so nothing needs recording. Both [`Isolation`] modes
//! take this path.
//!
//! [`Isolation`]: super::Isolation

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures_util::future::try_join_all;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::ResetError;
use super::Target;
use super::classic::{Classic, WINDOW_SIZE};
use super::wsrpc::{EventHandler, Notifier, RpcClient};

/// One warm Firefox session's BiDi connection and the user context of its current lease.
#[derive(Debug)]
pub(super) struct FirefoxCleaner {
    rpc: RpcClient,
    leases: Arc<Mutex<Leases>>,
}

/// What the event handler checks windows and their navigations against.
#[derive(Debug, Default)]
struct Leases {
    /// The user context of the current lease.
    current: Option<String>,
    /// Browsing contexts opened in another user context: the default one, where WebDriver's
    /// New Window opens its tab.
    outside: HashSet<String>,
    /// The http(s) URLs such contexts went to: storage there outlives the lease (BiDi clears
    /// cookies, but no other store, of a user context it cannot remove), so the session cannot be
    /// reset.
    strays: Vec<String>,
}

impl Leases {
    /// Notes a navigation of `context` to `url`.
    fn navigated(&mut self, context: &str, url: &str) {
        let http = url.starts_with("http://") || url.starts_with("https://");
        if http && self.outside.contains(context) {
            self.strays.push(url.to_owned());
        }
    }
}

impl FirefoxCleaner {
    /// Connects to `target`'s BiDi socket and prepares the first lease.
    pub(super) async fn attach(
        target: &Target,
        classic: &Classic,
        deadline: Instant,
    ) -> Result<Self, ResetError> {
        let socket = target.capabilities["webSocketUrl"].as_str().ok_or_else(|| {
            ResetError(format!(
                "geckodriver's capabilities have no webSocketUrl (was `webSocketUrl: true` asked for?): {}",
                target.capabilities
            ))
        })?;
        let leases = Arc::new(Mutex::new(Leases::default()));
        let rpc =
            RpcClient::connect("BiDi", socket, deadline, handler(Arc::clone(&leases))).await?;
        rpc.call(
            "session.subscribe",
            json!({ "events": ["browsingContext.contextCreated", "browsingContext.navigationStarted"] }),
            None,
            deadline,
        )
        .await?;
        let mut cleaner = Self { rpc, leases };
        cleaner.reset(classic, deadline).await?;
        Ok(cleaner)
    }

    /// A fresh tab in a fresh user context as the only window; the last lease's user context,
    /// with everything stored in it, removed.
    pub(super) async fn reset(
        &mut self,
        classic: &Classic,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        let strays = {
            let mut leases = lock(&self.leases);
            // Every window is closed below, those outside included.
            leases.outside.clear();
            std::mem::take(&mut leases.strays)
        };
        if !strays.is_empty() {
            return Err(ResetError(format!(
                "the last lease went to {strays:?} in a window outside its user context (WebDriver's New Window opens in the default one, whose storage BiDi cannot clear): the session must be replaced"
            )));
        }
        // The classic probe fails at once for a session that is gone, whose BiDi socket
        // geckodriver may keep open, unanswered, until the deadline.
        let (created, _) = tokio::try_join!(
            self.rpc
                .call("browser.createUserContext", json!({}), None, deadline),
            classic.window_handles(deadline)
        )?;
        let user_context = string(&created, "userContext", "browser.createUserContext")?;
        let old = lock(&self.leases).current.replace(user_context.clone());
        let created = self
            .rpc
            .call(
                "browsingContext.create",
                json!({ "type": "tab", "userContext": user_context }),
                None,
                deadline,
            )
            .await?;
        let tab = string(&created, "context", "browsingContext.create")?;
        // Switching (a BiDi browsing context id is the classic window handle) and sizing, side by
        // side with closing the rest.
        let switch = async {
            classic.switch_to(&tab, deadline).await?;
            let (width, height) = WINDOW_SIZE;
            let viewport = self.rpc.call(
                "browsingContext.setViewport",
                json!({ "context": tab, "viewport": { "width": width, "height": height } }),
                None,
                deadline,
            );
            let (viewport, window) = tokio::join!(viewport, classic.ensure_window_size(deadline));
            viewport.and(window)
        };
        let (switched, closed) = tokio::join!(switch, self.close_all_but(&tab, old, deadline));
        switched?;
        closed?;
        classic.expect_only(&tab, deadline).await
    }

    /// Removes user context `old` (which closes its windows) and closes every other window but
    /// `keep`.
    async fn close_all_but(
        &self,
        keep: &str,
        old: Option<String>,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        let tree = self
            .rpc
            .call(
                "browsingContext.getTree",
                json!({ "maxDepth": 0 }),
                None,
                deadline,
            )
            .await?;
        let others: Vec<&str> = tree["contexts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| {
                c["context"] != keep && old.as_deref().is_none_or(|old| c["userContext"] != old)
            })
            .filter_map(|c| c["context"].as_str())
            .collect();
        let close = try_join_all(others.iter().map(|context| async move {
            let closed = self
                .rpc
                .call(
                    "browsingContext.close",
                    json!({ "context": context }),
                    None,
                    deadline,
                )
                .await;
            match closed {
                // It closed itself in between: gone all the same.
                Err(ResetError(why)) if why.contains("no such frame") => Ok(Value::Null),
                other => other,
            }
        }));
        let remove = async {
            match &old {
                Some(old) => self
                    .rpc
                    .call(
                        "browser.removeUserContext",
                        json!({ "userContext": old }),
                        None,
                        deadline,
                    )
                    .await
                    .map(drop),
                None => Ok(()),
            }
        };
        let (closed, removed) = tokio::join!(close, remove);
        closed.and(removed)
    }
}

/// Notes every browsing context opened outside the current lease's user context, and where
/// each goes.
fn handler(leases: Arc<Mutex<Leases>>) -> EventHandler {
    Box::new(move |event: &Value, _: &Notifier| {
        let params = &event["params"];
        let (Some(context), Some(url)) = (params["context"].as_str(), params["url"].as_str())
        else {
            return;
        };
        let mut leases = lock(&leases);
        match event["method"].as_str() {
            Some("browsingContext.contextCreated") => {
                let Some(current) = &leases.current else {
                    return;
                };
                if params["userContext"].as_str() != Some(current.as_str()) {
                    leases.outside.insert(context.to_owned());
                }
                leases.navigated(context, url);
            }
            Some("browsingContext.navigationStarted") => leases.navigated(context, url),
            _ => {}
        }
    })
}

/// `value[key]` as a string, or an error naming the BiDi `command` that returned it.
fn string(value: &Value, key: &str, command: &str) -> Result<String, ResetError> {
    super::wsrpc::string(value, key, "BiDi", command)
}

/// Locks the lease record. Nothing panics while holding it, so a poisoned lock is a bug.
fn lock(leases: &Mutex<Leases>) -> std::sync::MutexGuard<'_, Leases> {
    leases
        .lock()
        .expect("the lease record is never held across a panic")
}
