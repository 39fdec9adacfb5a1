//! The DevTools event handler that records every origin the browser reaches: each top-level
//! frame and iframe navigation (`Page.frameNavigated` on every auto-attached page and frame
//! target) and every target's URL (service workers, shared workers), with the browser context
//! it happened in.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use url::Url;

use super::super::Isolation;
use super::super::wsrpc::{EventHandler, Notifier};

/// What the recorder saw since the last reset.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// `(origin, browser context)` of every http(s) document and worker.
    origins: BTreeSet<(String, String)>,
    /// The browser context of each attached DevTools session.
    sessions: HashMap<String, String>,
    /// Page targets that exist.
    live_pages: HashSet<String>,
    /// The browser contexts the cleaner created, disposed ones too (a closing page may still
    /// report its URL after its context went): one id per lease.
    pub(super) ours: HashSet<String>,
}

impl Seen {
    /// The origins to clear, forgotten from now on: all of them for [`Isolation::Reset`], only
    /// those reached outside the cleaner's own contexts for [`Isolation::Context`] (e.g. in a
    /// window WebDriver's New Window opened in the default context).
    pub(super) fn take_origins(&mut self, isolation: Isolation) -> Vec<String> {
        let all = std::mem::take(&mut self.origins);
        let wanted = all
            .into_iter()
            .filter(|(_, context)| isolation == Isolation::Reset || !self.ours.contains(context))
            .map(|(origin, _)| origin);
        let distinct: BTreeSet<String> = wanted.collect();
        distinct.into_iter().collect()
    }

    /// Whether any of `targets` is still a live page.
    pub(super) fn any_live(&self, targets: &HashSet<String>) -> bool {
        targets.iter().any(|t| self.live_pages.contains(t))
    }

    fn record(&mut self, url: Option<&str>, context: Option<&str>) {
        let (Some(url), Some(context)) = (url, context) else {
            return;
        };
        if let Some(origin) = http_origin(url) {
            self.origins.insert((origin, context.to_owned()));
        }
    }
}

/// The `Target.setAutoAttach` parameters for the browser and for every page and frame: attach to
/// everything, each target paused until the recorder lets it run.
pub(super) fn auto_attach() -> Value {
    json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true })
}

/// The handler recording into `seen`; `destroyed` is bumped when a page target goes away.
pub(super) fn handler(
    seen: Arc<Mutex<Seen>>,
    destroyed: tokio::sync::watch::Sender<u64>,
) -> EventHandler {
    Box::new(move |event: &Value, notifier: &Notifier| {
        let params = &event["params"];
        let info = &params["targetInfo"];
        let mut seen = seen
            .lock()
            .expect("the recorder never panics while holding its lock");
        match event["method"].as_str().unwrap_or_default() {
            "Target.attachedToTarget" => {
                let Some(session) = params["sessionId"].as_str() else {
                    return;
                };
                let context = info["browserContextId"].as_str();
                seen.record(info["url"].as_str(), context);
                if let Some(context) = context {
                    seen.sessions.insert(session.to_owned(), context.to_owned());
                }
                if matches!(info["type"].as_str(), Some("page" | "iframe")) {
                    notifier.send("Page.enable", json!({}), Some(session));
                    notifier.send("Target.setAutoAttach", auto_attach(), Some(session));
                }
                // Sent after the commands above on the same socket: the target runs only once
                // its navigations are reported.
                if params["waitingForDebugger"] == true {
                    notifier.send("Runtime.runIfWaitingForDebugger", json!({}), Some(session));
                }
            }
            "Target.detachedFromTarget" => {
                if let Some(session) = params["sessionId"].as_str() {
                    seen.sessions.remove(session);
                }
            }
            "Target.targetCreated" | "Target.targetInfoChanged" => {
                // A target that is no longer attached is closing: its URL is old news (in
                // Context mode, of a context already disposed).
                if info["attached"] != false || event["method"] == "Target.targetCreated" {
                    seen.record(info["url"].as_str(), info["browserContextId"].as_str());
                }
                if info["type"] == "page"
                    && let Some(id) = info["targetId"].as_str()
                {
                    seen.live_pages.insert(id.to_owned());
                }
            }
            "Target.targetDestroyed" => {
                if let Some(id) = params["targetId"].as_str()
                    && seen.live_pages.remove(id)
                {
                    destroyed.send_modify(|n| *n += 1);
                }
            }
            "Page.frameNavigated" => {
                let context = event["sessionId"]
                    .as_str()
                    .and_then(|s| seen.sessions.get(s))
                    .cloned();
                let frame = &params["frame"];
                let origin = frame["securityOrigin"].as_str().or(frame["url"].as_str());
                seen.record(origin, context.as_deref());
            }
            _ => {}
        }
    })
}

/// The origin of `url` when it is http or https (`about:blank`, `data:` and opaque origins have
/// no storage to clear).
fn http_origin(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_origins_count() {
        assert_eq!(
            http_origin("http://127.0.0.1:4000/storage/write?x=1").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(http_origin("about:blank"), None);
        assert_eq!(http_origin("data:text/html,hi"), None);
        assert_eq!(http_origin("://"), None);
    }

    #[test]
    fn context_isolation_clears_only_what_escaped_its_contexts() {
        let mut seen = Seen::default();
        seen.ours.insert("lease".into());
        seen.record(Some("http://127.0.0.1:1/"), Some("lease"));
        seen.record(Some("http://127.0.0.1:2/"), Some("default"));
        assert_eq!(
            seen.take_origins(Isolation::Context),
            ["http://127.0.0.1:2"]
        );
        assert!(seen.take_origins(Isolation::Reset).is_empty(), "forgotten");
        seen.record(Some("http://127.0.0.1:1/"), Some("lease"));
        seen.record(Some("http://127.0.0.1:1/x"), Some("default"));
        assert_eq!(seen.take_origins(Isolation::Reset), ["http://127.0.0.1:1"]);
    }
}
