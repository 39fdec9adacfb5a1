//! Chrome: the browser-level DevTools socket (`goog:chromeOptions.debuggerAddress`) records every
//! origin the browser reaches; the reset opens a fresh tab, closes the others and clears the
//! storage of every recorded origin and every cookie. With [`Isolation::Context`] each lease gets a
//! new browser context instead (`Target.createBrowserContext`, which chromedriver's
//! `goog/cdp/execute` refuses, hence the socket of our own).

mod record;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures_util::future::{join_all, try_join_all};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::classic::{Classic, WINDOW_SIZE};
use super::wsrpc::RpcClient;
use super::{Isolation, ResetError, Target};
use record::{Reached, Seen};

/// What `Storage.clearDataForOrigin` clears: every store a page can write, cookies aside (they
/// are per host and cleared browser-wide). Not `all`, which adds the shader cache and interest
/// groups and made clearing 2 origins take 35–70 ms instead of about 20 here.
const STORAGE_TYPES: &str = "file_systems,indexeddb,local_storage,websql,service_workers,cache_storage,shared_storage,storage_buckets";

/// One warm Chrome session's DevTools connection and what it recorded.
#[derive(Debug)]
pub(super) struct ChromeCleaner {
    isolation: Isolation,
    rpc: RpcClient,
    seen: Arc<Mutex<Seen>>,
    /// Fires whenever a page target is destroyed.
    destroyed: tokio::sync::watch::Receiver<u64>,
    /// The browser context of the current lease ([`Isolation::Context`] only).
    context: Option<String>,
}

impl ChromeCleaner {
    /// Connects to `target`'s browser, starts recording, and prepares the first lease.
    pub(super) async fn attach(
        target: &Target,
        classic: &Classic,
        isolation: Isolation,
        deadline: Instant,
    ) -> Result<Self, ResetError> {
        let socket = browser_socket(&target.capabilities, deadline).await?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (destroyed_tx, destroyed) = tokio::sync::watch::channel(0);
        let handler = record::handler(Arc::clone(&seen), destroyed_tx);
        let rpc = RpcClient::connect("DevTools", &socket, deadline, handler).await?;
        // Targets first (their URLs and lives), then auto-attach: every page, frame and worker,
        // each paused at its start until the recorder has enabled its events.
        rpc.call(
            "Target.setDiscoverTargets",
            json!({ "discover": true }),
            None,
            deadline,
        )
        .await?;
        rpc.call(
            "Target.setAutoAttach",
            record::auto_attach(),
            None,
            deadline,
        )
        .await?;
        let mut cleaner = Self {
            isolation,
            rpc,
            seen,
            destroyed,
            context: None,
        };
        // A fresh session's window shows Chrome's new-tab page: the first lease gets what every
        // later one gets.
        cleaner.new_lease(classic, deadline).await?;
        Ok(cleaner)
    }

    /// Makes the session clean for the next lease.
    pub(super) async fn reset(
        &mut self,
        classic: &Classic,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        self.new_lease(classic, deadline).await
    }

    /// A fresh tab (in a fresh context with [`Isolation::Context`]) as the only window, the last
    /// lease's storage gone.
    async fn new_lease(&mut self, classic: &Classic, deadline: Instant) -> Result<(), ResetError> {
        let context = match self.isolation {
            Isolation::Reset => None,
            Isolation::Context => {
                let created = self
                    .rpc
                    .call(
                        "Target.createBrowserContext",
                        json!({ "disposeOnDetach": true }),
                        None,
                        deadline,
                    )
                    .await?;
                let id = string(&created, "browserContextId", "Target.createBrowserContext")?;
                lock(&self.seen).ours.insert(id.clone());
                Some(id)
            }
        };
        let mut params = json!({ "url": "about:blank" });
        if let Some(context) = &context {
            // A new context's tab opens a window of its own, which would not come up at the
            // browser's `--window-size` (a default-context tab does; sizing one is refused).
            let (width, height) = WINDOW_SIZE;
            params["browserContextId"] = json!(context);
            params["width"] = json!(width);
            params["height"] = json!(height);
        }
        let created = self
            .rpc
            .call("Target.createTarget", params, None, deadline)
            .await?;
        let tab = string(&created, "targetId", "Target.createTarget")?;
        // chromedriver's window handle is the DevTools target id. Switching (chromedriver
        // connects to the tab) and closing the old tabs, then clearing, run side by side.
        let switch = classic.switch_to(&tab, deadline);
        let clean = async {
            self.close_pages_but(&tab, deadline).await?;
            // Every page is closed, so nothing writes any more: what they reached is complete.
            let reached = lock(&self.seen).take(self.isolation);
            if let Some(old) = std::mem::replace(&mut self.context, context) {
                self.rpc
                    .call(
                        "Target.disposeBrowserContext",
                        json!({ "browserContextId": old }),
                        None,
                        deadline,
                    )
                    .await?;
            }
            self.clear(&tab, reached, deadline).await
        };
        let (switched, cleaned) = tokio::join!(switch, clean);
        switched?;
        cleaned?;
        let (sized, only) = tokio::join!(
            classic.ensure_window_size(deadline),
            classic.expect_only(&tab, deadline)
        );
        sized.and(only)
    }

    /// Closes every page target but `keep`, and waits until each is destroyed.
    async fn close_pages_but(&mut self, keep: &str, deadline: Instant) -> Result<(), ResetError> {
        let targets = self
            .rpc
            .call("Target.getTargets", json!({}), None, deadline)
            .await?;
        let old: HashSet<String> = targets["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|info| info["type"] == "page" && info["targetId"] != keep)
            .filter_map(|info| info["targetId"].as_str().map(str::to_owned))
            .collect();
        let closed = join_all(old.iter().map(|id| {
            self.rpc.call(
                "Target.closeTarget",
                json!({ "targetId": id }),
                None,
                deadline,
            )
        }))
        .await;
        // A page that closed itself in between fails its close, and is gone: its
        // `targetDestroyed` came before that answer, on the same socket.
        for (id, result) in old.iter().zip(closed) {
            if let Err(error) = result
                && lock(&self.seen).any_live(&HashSet::from([id.clone()]))
            {
                return Err(error);
            }
        }
        loop {
            self.destroyed.borrow_and_update();
            if !lock(&self.seen).any_live(&old) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, self.destroyed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    return Err(ResetError(
                        "the DevTools socket closed while closing the old tabs".into(),
                    ));
                }
                Err(_) => {
                    return Err(ResetError(
                        "the old tabs were not closed before the deadline".into(),
                    ));
                }
            }
        }
    }

    /// Clears every storage type of each origin and partitioned storage key `reached`, and every
    /// cookie, from a page of the context they belong to: `tab` with [`Isolation::Reset`]; with [`Isolation::Context`] they
    /// were reached in the default context, so from a helper page there, closed afterwards.
    /// (`Storage.clearDataForOrigin` needs a page: on the browser target it is an internal error.)
    async fn clear(
        &mut self,
        tab: &str,
        reached: Reached,
        deadline: Instant,
    ) -> Result<(), ResetError> {
        // Cookies are per host, not per origin, and a redirect can set one without a page ever
        // showing its origin: in Reset mode the browser's every cookie goes (in Context mode the
        // disposed context took its own).
        let cookies = self.isolation == Isolation::Reset || !reached.is_empty();
        if cookies {
            self.rpc
                .call("Storage.clearCookies", json!({}), None, deadline)
                .await?;
        }
        if reached.is_empty() {
            return Ok(());
        }
        let page = match self.isolation {
            Isolation::Reset => tab.to_owned(),
            Isolation::Context => {
                let created = self
                    .rpc
                    .call(
                        "Target.createTarget",
                        json!({ "url": "about:blank" }),
                        None,
                        deadline,
                    )
                    .await?;
                string(&created, "targetId", "Target.createTarget")?
            }
        };
        let attached = self
            .rpc
            .call(
                "Target.attachToTarget",
                json!({ "targetId": page, "flatten": true }),
                None,
                deadline,
            )
            .await?;
        let session = string(&attached, "sessionId", "Target.attachToTarget")?;
        let origins = reached.origins.iter().map(|origin| {
            self.rpc.call(
                "Storage.clearDataForOrigin",
                json!({ "origin": origin, "storageTypes": STORAGE_TYPES }),
                Some(&session),
                deadline,
            )
        });
        let keys = reached.storage_keys.iter().map(|key| {
            self.rpc.call(
                "Storage.clearDataForStorageKey",
                json!({ "storageKey": key, "storageTypes": STORAGE_TYPES }),
                Some(&session),
                deadline,
            )
        });
        let (origins, keys) = tokio::join!(try_join_all(origins), try_join_all(keys));
        origins?;
        keys?;
        if page != tab {
            self.close_pages_but(tab, deadline).await?;
        }
        Ok(())
    }
}

/// The browser-level DevTools websocket URL of the browser `capabilities` describe.
async fn browser_socket(capabilities: &Value, deadline: Instant) -> Result<String, ResetError> {
    let address = capabilities["goog:chromeOptions"]["debuggerAddress"]
        .as_str()
        .ok_or_else(|| {
            ResetError(format!(
                "chromedriver's capabilities have no goog:chromeOptions.debuggerAddress: {capabilities}"
            ))
        })?;
    // chromedriver says `localhost:PORT`; the browser listens on 127.0.0.1.
    let address = address.replace("localhost", "127.0.0.1");
    let url = format!("http://{address}/json/version");
    let fetch = async { reqwest::get(&url).await?.json::<Value>().await };
    let version = tokio::time::timeout_at(deadline, fetch)
        .await
        .map_err(|_| ResetError(format!("GET {url}: no answer before the deadline")))?
        .map_err(|e| ResetError(format!("GET {url} failed: {e}")))?;
    let socket = version["webSocketDebuggerUrl"]
        .as_str()
        .ok_or_else(|| ResetError(format!("GET {url} gave no webSocketDebuggerUrl: {version}")))?;
    Ok(socket.replace("ws://localhost:", "ws://127.0.0.1:"))
}

/// `value[key]` as a string, or an error naming the DevTools `command` that returned it.
fn string(value: &Value, key: &str, command: &str) -> Result<String, ResetError> {
    super::wsrpc::string(value, key, "DevTools", command)
}

/// Locks what the recorder saw. It only inserts and removes while holding the lock, so a
/// poisoned lock is a bug.
fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock()
        .expect("the recorder never panics while holding its lock")
}
