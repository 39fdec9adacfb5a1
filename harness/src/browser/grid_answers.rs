//! What a Selenium Grid 4's answers mean, said in words a test's author can act on.
//!
//! A Grid answers in its own terms, which fantoccini passes on raw: a node that went away
//! mid-session makes the router answer every later command with HTTP 408 and a body that is not a
//! W3C error (`{"value":{"message":"Connection failure"}}`); a new session no node can serve waits
//! in the Grid's queue until its `session-request-timeout` (300 s by default), or, with
//! `reject-unsupported-caps`, is refused at once. The texts matched here are Grid 4.20's.

use std::time::Duration;

use fantoccini::error::{CmdError, NewSessionError};
use serde_json::Value;
use url::Url;

use crate::Error;

/// The whole message of the router's answer (HTTP 408) to a command of a session whose node it
/// cannot reach any more.
const NODE_LOST: &str = "Connection failure";
/// In the message of a refused new session (`reject-unsupported-caps`).
const NO_NODE: &str = "No nodes support the capabilities in the request";
/// In the message of a new session the queue gave up on (`session-request-timeout`).
const QUEUE_TIMEOUT: &str = "New session request timed out";
/// How long reading a Grid's `/status` may take, after a failure, to say what its nodes offer.
const STATUS_LIMIT: Duration = Duration::from_secs(2);

/// What a failure of a WebDriver command means, when it is a Selenium Grid's way of saying that
/// the node running the session went away (its process or host died mid-test): the Grid's router
/// then answers HTTP 408 `{"value":{"message":"Connection failure"}}`, which fantoccini reports
/// as a non-W3C answer. `None` for any other error.
///
/// `error` may be fantoccini's [`CmdError`], a [`harness::Error`](crate::Error) that wraps one,
/// or any error whose [`source`](std::error::Error::source) chain holds one. [`e2e`](crate::e2e)
/// puts this sentence before the error of a test body that fails this way.
///
/// ```
/// use fantoccini::error::CmdError;
/// use harness::browser::explain_grid_failure;
///
/// let endpoint = url::Url::parse("http://198.18.3.1:4444/wd/hub/").unwrap();
/// let lost = CmdError::NotW3C(serde_json::json!({ "message": "Connection failure" }));
/// let why = explain_grid_failure(&lost, &endpoint).expect("a lost node");
/// assert!(why.starts_with("the Selenium Grid at http://198.18.3.1:4444/wd/hub/ lost the node"));
/// assert!(explain_grid_failure(&CmdError::WaitTimeout, &endpoint).is_none());
/// ```
pub fn explain_grid_failure(
    error: &(dyn std::error::Error + 'static),
    endpoint: &Url,
) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        let command = error
            .downcast_ref::<CmdError>()
            .or_else(|| error.downcast_ref::<Box<CmdError>>().map(|b| &**b))
            .or_else(|| match error.downcast_ref::<Error>() {
                Some(Error::WebDriver { source, .. }) => Some(&**source),
                _ => None,
            });
        if command.is_some_and(is_node_lost) {
            return Some(node_lost(endpoint));
        }
        next = error.source();
    }
    None
}

/// [`explain_grid_failure`] for a test body that panicked instead, e.g. on `.unwrap()` of the
/// Grid's answer: its message shows the answer's body as fantoccini prints it.
pub(crate) fn explain_grid_panic(message: &str, endpoint: &Url) -> Option<String> {
    let body = format!("{:?}", serde_json::json!({ "message": NODE_LOST }));
    message.contains(&body).then(|| node_lost(endpoint))
}

fn node_lost(endpoint: &Url) -> String {
    format!(
        "the Selenium Grid at {} lost the node running this session (it answered HTTP 408 \
         \"{NODE_LOST}\"): the node's process or host went away mid-test",
        without_userinfo(endpoint)
    )
}

/// Whether `error` is the router's answer for a session whose node is gone: a body with that
/// message and no W3C `error` field.
fn is_node_lost(error: &CmdError) -> bool {
    matches!(error, CmdError::NotW3C(Value::Object(body))
        if !body.contains_key("error")
            && body.get("message").and_then(Value::as_str) == Some(NODE_LOST))
}

/// `url` as it may be shown: without a user name or password (a Grid's may be in it).
pub(crate) fn without_userinfo(url: &Url) -> Url {
    let mut shown = url.clone();
    // Only URLs that cannot have a user name refuse these; those have none to remove.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown
}

/// How a Grid refused a new session, when it did in one of the ways this module knows.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// No node has a slot that matches the capabilities (`reject-unsupported-caps`).
    NoNode,
    /// The request waited in the queue until the Grid's `session-request-timeout`: the Grid's
    /// message, first line.
    QueueTimeout(String),
}

fn refusal(error: &NewSessionError) -> Option<Refusal> {
    let NewSessionError::SessionNotCreated(answer) = error else {
        return None;
    };
    let message = answer.message.as_ref();
    if message.contains(NO_NODE) {
        Some(Refusal::NoNode)
    } else if message.contains(QUEUE_TIMEOUT) {
        let first = message.lines().next().unwrap_or(message).trim();
        Some(Refusal::QueueTimeout(first.to_owned()))
    } else {
        None
    }
}

/// The error for a refused new session at `url` for `capabilities` (compact JSON): a Grid's
/// refusal in its words, with what its nodes offer; else fantoccini's error as it is.
pub(crate) async fn refused(url: &Url, capabilities: String, source: NewSessionError) -> Error {
    let shown = without_userinfo(url).to_string();
    match refusal(&source) {
        Some(Refusal::NoNode) => Error::GridNoNode {
            url: shown,
            capabilities,
            offered: grid_offers(url).await,
        },
        Some(Refusal::QueueTimeout(message)) => Error::GridQueueTimeout {
            url: shown,
            capabilities,
            message,
        },
        None => Error::NewSession {
            url: shown,
            source: Box::new(source),
        },
    }
}

/// The error for a session at `url` that did not open within `timeout`, with what the nodes offer
/// when `url` is a Selenium Grid.
pub(crate) async fn timed_out(url: &Url, timeout: Duration, capabilities: String) -> Error {
    Error::SessionTimeout {
        url: without_userinfo(url).to_string(),
        timeout,
        capabilities,
        offered: grid_offers(url).await,
    }
}

/// What the nodes of the Selenium Grid at `url` offer, one entry per node, from its `/status`
/// read within [`STATUS_LIMIT`]; `None` when `url` does not answer as a Grid in that time.
async fn grid_offers(url: &Url) -> Option<Vec<String>> {
    let status = url.join("status").ok()?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(STATUS_LIMIT)
        .build()
        .ok()?;
    let read = async {
        client
            .get(status)
            .send()
            .await
            .ok()?
            .json::<Value>()
            .await
            .ok()
    };
    let body = tokio::time::timeout(STATUS_LIMIT, read).await.ok()??;
    node_offers(&body)
}

/// One entry per node of a Grid 4 `/status` body: its browsers, availability and URI, such as
/// `chrome (UP, http://198.18.3.2:5555)`; `None` when the body is not a Grid's.
fn node_offers(status: &Value) -> Option<Vec<String>> {
    let nodes = status.get("value")?.get("nodes")?.as_array()?;
    let offers = nodes.iter().map(|node| {
        let mut browsers: Vec<String> = Vec::new();
        for slot in node["slots"].as_array().into_iter().flatten() {
            let stereotype = &slot["stereotype"];
            let Some(name) = stereotype["browserName"].as_str() else {
                continue;
            };
            let browser = match stereotype["browserVersion"].as_str() {
                Some(version) if !version.is_empty() => format!("{name} {version}"),
                _ => name.to_owned(),
            };
            if !browsers.contains(&browser) {
                browsers.push(browser);
            }
        }
        let browsers = if browsers.is_empty() {
            "no browser".to_owned()
        } else {
            browsers.join("/")
        };
        let availability = node["availability"]
            .as_str()
            .unwrap_or("availability unknown");
        let uri = node["uri"].as_str().unwrap_or("URI unknown");
        format!("{browsers} ({availability}, {uri})")
    });
    Some(offers.collect())
}

#[cfg(test)]
mod tests;
