//! The DevTools event handler that records every origin the browser reaches: each top-level
//! frame and iframe navigation (`Page.frameNavigated` on every auto-attached page and frame
//! target) and every target's URL (service workers, shared workers), with the browser context
//! it happened in; and the storage key of every frame whose storage is partitioned (a
//! cross-site iframe's, kept under the top-level site: `Storage.clearDataForOrigin` leaves it).

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
    /// `(storage key, browser context)` of every frame with partitioned storage.
    partitioned: BTreeSet<(String, String)>,
    /// Every frame showing an http(s) document, by frame id.
    frames: HashMap<String, Frame>,
    /// Page targets that exist.
    live_pages: HashSet<String>,
    /// The browser contexts the cleaner created, disposed ones too (a closing page may still
    /// report its URL after its context went): one id per lease.
    pub(super) ours: HashSet<String>,
}

impl Seen {
    /// What to clear, forgotten from now on: all of it for [`Isolation::Reset`], only what was
    /// reached outside the cleaner's own contexts for [`Isolation::Context`] (e.g. in a window
    /// WebDriver's New Window opened in the default context).
    pub(super) fn take(&mut self, isolation: Isolation) -> Reached {
        let wanted = |set: BTreeSet<(String, String)>| -> Vec<String> {
            let distinct: BTreeSet<String> = set
                .into_iter()
                .filter(|(_, context)| {
                    isolation == Isolation::Reset || !self.ours.contains(context)
                })
                .map(|(what, _)| what)
                .collect();
            distinct.into_iter().collect()
        };
        self.frames.clear();
        Reached {
            origins: wanted(std::mem::take(&mut self.origins)),
            storage_keys: wanted(std::mem::take(&mut self.partitioned)),
        }
    }

    /// Whether any of `targets` is still a live page.
    pub(super) fn any_live(&self, targets: &HashSet<String>) -> bool {
        targets.iter().any(|t| self.live_pages.contains(t))
    }

    /// Notes `frame` (`Page.frameNavigated`'s) in browser context `context`, and the storage key
    /// of a frame of another site than its top-level frame: Chrome partitions its storage under
    /// that site, as `ORIGIN/^0TOP_SITE` (`http://[::1]:4000/^0http://127.0.0.1`).
    fn frame_navigated(&mut self, id: &str, frame: &Value, context: String) {
        let origin = frame["securityOrigin"].as_str().and_then(http_origin);
        let Some(origin) = origin else {
            self.frames.remove(id);
            return;
        };
        let host = Url::parse(&origin).ok();
        let host = host
            .as_ref()
            .and_then(|u| Some((u.scheme().to_owned(), u.host_str()?.to_owned())));
        let Some((scheme, host)) = host else {
            return;
        };
        // The registrable domain (`example.com` for `a.example.com`); empty for an IP address.
        let domain = frame["domainAndRegistry"]
            .as_str()
            .filter(|d| !d.is_empty());
        let site = format!("{scheme}://{}", domain.unwrap_or(&host));
        let parent = frame["parentId"].as_str().map(str::to_owned);
        self.frames.insert(
            id.to_owned(),
            Frame {
                site: site.clone(),
                parent,
            },
        );
        if let Some(top) = self.top_site(id)
            && top != site
        {
            self.partitioned
                .insert((format!("{origin}/^0{top}"), context));
        }
    }

    /// The site of the top-level frame above frame `id`, when every frame up to it is known.
    fn top_site(&self, id: &str) -> Option<String> {
        let mut frame = self.frames.get(id)?;
        // Bounded: a frame tree is no deeper than the number of frames known.
        for _ in 0..=self.frames.len() {
            match &frame.parent {
                None => return Some(frame.site.clone()),
                Some(parent) => frame = self.frames.get(parent)?,
            }
        }
        None
    }

    /// Notes the origin of `url`, reached in browser context `context`, when it has storage.
    fn record(&mut self, url: Option<&str>, context: Option<&str>) {
        let (Some(url), Some(context)) = (url, context) else {
            return;
        };
        if let Some(origin) = http_origin(url) {
            self.origins.insert((origin, context.to_owned()));
        }
    }
}

/// A frame showing an http(s) document.
#[derive(Debug)]
struct Frame {
    /// `scheme://registrable-domain` (or the host, for an IP address).
    site: String,
    /// The frame it is in; `None` for a top-level frame.
    parent: Option<String>,
}

/// What a lease reached, to clear.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Reached {
    /// Origins (`http://127.0.0.1:4000`), for `Storage.clearDataForOrigin`.
    pub(super) origins: Vec<String>,
    /// Partitioned storage keys, for `Storage.clearDataForStorageKey`.
    pub(super) storage_keys: Vec<String>,
}

impl Reached {
    /// Whether there is nothing to clear.
    pub(super) fn is_empty(&self) -> bool {
        self.origins.is_empty() && self.storage_keys.is_empty()
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
                if let (Some(id), Some(context)) = (frame["id"].as_str(), context) {
                    seen.frame_navigated(id, frame, context);
                }
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
    fn a_cross_site_frame_gets_its_partitioned_key() {
        let mut seen = Seen::default();
        let frame = |origin: &str, parent: Option<&str>, domain: &str| json!({ "securityOrigin": origin, "parentId": parent, "domainAndRegistry": domain });
        let mut nav = |id: &str, frame: Value| seen.frame_navigated(id, &frame, "c".into());
        nav("top", frame("http://127.0.0.1:1", None, ""));
        nav("same-site", frame("http://127.0.0.1:2", Some("top"), ""));
        nav("cross-site", frame("http://[::1]:3", Some("top"), ""));
        nav(
            "nested",
            frame("http://a.example.com:4", Some("cross-site"), "example.com"),
        );
        nav("orphan", frame("http://[::1]:5", Some("unknown"), ""));
        nav("blank", frame("://", Some("top"), ""));
        let parent = |id: &str| seen.frames.get(id).and_then(|f| f.parent.clone());
        assert_eq!(parent("nested").as_deref(), Some("cross-site"));
        assert!(!seen.frames.contains_key("blank"));
        assert_eq!(
            seen.take(Isolation::Reset).storage_keys,
            [
                "http://[::1]:3/^0http://127.0.0.1",
                "http://a.example.com:4/^0http://127.0.0.1"
            ]
        );
        assert!(seen.frames.is_empty(), "forgotten at the reset");
    }

    #[test]
    fn context_isolation_clears_only_what_escaped_its_contexts() {
        let mut seen = Seen::default();
        seen.ours.insert("lease".into());
        seen.record(Some("http://127.0.0.1:1/"), Some("lease"));
        seen.record(Some("http://127.0.0.1:2/"), Some("default"));
        seen.partitioned
            .insert(("http://[::1]:3/^0http://127.0.0.1".into(), "lease".into()));
        let reached = seen.take(Isolation::Context);
        assert_eq!(reached.origins, ["http://127.0.0.1:2"]);
        assert!(reached.storage_keys.is_empty());
        assert!(seen.take(Isolation::Reset).is_empty(), "forgotten");
        seen.record(Some("http://127.0.0.1:1/"), Some("lease"));
        seen.record(Some("http://127.0.0.1:1/x"), Some("default"));
        seen.partitioned
            .insert(("http://[::1]:3/^0http://127.0.0.1".into(), "default".into()));
        let reached = seen.take(Isolation::Reset);
        assert_eq!(reached.origins, ["http://127.0.0.1:1"]);
        assert_eq!(reached.storage_keys, ["http://[::1]:3/^0http://127.0.0.1"]);
    }
}
