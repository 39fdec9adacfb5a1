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
            return Some(format!(
                "the Selenium Grid at {} lost the node running this session (it answered HTTP \
                 408 \"{NODE_LOST}\"): the node's process or host went away mid-test",
                without_userinfo(endpoint)
            ));
        }
        next = error.source();
    }
    None
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
            url: url.to_string(),
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
mod tests {
    use fantoccini::error::{ErrorStatus, WebDriver};
    use serde_json::json;

    use super::*;

    /// The `value.message` of Grid 4.20.0's HTTP 500 answers to `POST /session`, as observed
    /// (standalone, `reject-unsupported-caps = true`, then `session-request-timeout = 5`).
    const NO_NODE_ANSWER: &str = "Could not start a new session. No nodes support the capabilities in the request \nHost info: host: 'vm', ip: '127.0.0.1'\nBuild info: version: '4.20.0', revision: '866c76ca80'\nSystem info: os.name: 'Linux', os.arch: 'amd64', os.version: '6.18.44-fc-v1147', java.version: '17.0.15'\nDriver info: driver.version: unknown";
    const QUEUE_TIMEOUT_ANSWER: &str = "Could not start a new session. New session request timed out \nHost info: host: 'vm', ip: '127.0.0.1'\nBuild info: version: '4.20.0', revision: '866c76ca80'\nSystem info: os.name: 'Linux', os.arch: 'amd64', os.version: '6.18.44-fc-v1147', java.version: '17.0.15'\nDriver info: driver.version: unknown";
    /// The hub's `/status` once its one node was SIGKILLed mid-session (slots shortened to their
    /// stereotypes).
    const HUB_STATUS: &str = r#"{"value":{"ready":false,"message":"Selenium Grid not ready.","nodes":[{"id":"e8f14f34-527a-470d-b1fb-6bd568e9a230","uri":"http://127.0.0.1:41849","maxSessions":2,"osInfo":{"arch":"amd64","name":"Linux","version":"6.18.44-fc-v1147"},"heartbeatPeriod":60000,"availability":"DOWN","version":"4.20.0 (revision 866c76ca80)","slots":[{"id":{"hostId":"e8f14f34-527a-470d-b1fb-6bd568e9a230","id":"d552ed9b-0a2e-4210-af9d-8b904d8e70b7"},"lastStarted":"1970-01-01T00:00:00Z","session":null,"stereotype":{"browserName":"chrome","goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless=new","--no-sandbox"]},"platformName":"linux","se:webDriverExecutable":"/usr/bin/chromedriver"}},{"id":{"hostId":"e8f14f34-527a-470d-b1fb-6bd568e9a230","id":"51e120e9-1dfe-4ce5-b636-cbf862e05de9"},"lastStarted":"2026-12-03T11:39:08.289588857Z","session":null,"stereotype":{"browserName":"chrome","goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless=new","--no-sandbox"]},"platformName":"linux","se:webDriverExecutable":"/usr/bin/chromedriver"}}]}]}}"#;
    /// chromedriver 156's `/status`: a WebDriver endpoint that is not a Grid.
    const CHROMEDRIVER_STATUS: &str = r#"{"value":{"build":{"version":"156.0.8078.114 (ea19f9737303a76e07b53c6a1eec43355aca3b1d-refs/branch-heads/8078_108@{#5})"},"message":"ChromeDriver ready for new sessions.","os":{"arch":"x86_64","name":"Linux","version":"6.18.44-fc-v1147"},"ready":true}}"#;

    fn endpoint() -> Url {
        Url::parse("http://grid:s3cret@198.18.3.1:4444/wd/hub/").unwrap()
    }

    /// What fantoccini makes of the router's HTTP 408 body `{"value":{"message":"Connection
    /// failure"}}`: it has no `error` field, so it is not a W3C error.
    fn node_lost() -> CmdError {
        CmdError::NotW3C(json!({ "message": "Connection failure" }))
    }

    fn not_created(message: &str) -> NewSessionError {
        NewSessionError::SessionNotCreated(WebDriver::new(
            ErrorStatus::SessionNotCreated,
            message.to_owned(),
        ))
    }

    #[test]
    fn a_lost_node_is_named_without_the_endpoints_password() {
        let why = explain_grid_failure(&node_lost(), &endpoint()).expect("a lost node");
        assert_eq!(
            why,
            "the Selenium Grid at http://198.18.3.1:4444/wd/hub/ lost the node running this \
             session (it answered HTTP 408 \"Connection failure\"): the node's process or host \
             went away mid-test"
        );
    }

    #[test]
    fn a_lost_node_is_found_inside_the_libraries_error_and_a_box() {
        let wrapped = Error::webdriver("take a screenshot", node_lost());
        assert!(explain_grid_failure(&wrapped, &endpoint()).is_some());
        let boxed: crate::browser::BoxError = Box::new(node_lost());
        assert!(explain_grid_failure(&*boxed, &endpoint()).is_some());
        // A cause further down the chain, as `?` through a wrapper error leaves it.
        #[derive(Debug, thiserror::Error)]
        #[error("the step failed")]
        struct Step(#[source] Error);
        let deep = Step(Error::webdriver("find the button", node_lost()));
        assert!(explain_grid_failure(&deep, &endpoint()).is_some());
    }

    #[test]
    fn other_failures_are_not_a_lost_node() {
        let others = [
            CmdError::NotW3C(json!({ "message": "Connection failure", "error": "unknown error" })),
            CmdError::NotW3C(json!({ "message": "Something else" })),
            CmdError::NotW3C(json!("Connection failure")),
            CmdError::Standard(WebDriver::new(
                ErrorStatus::NoSuchElement,
                "no such element",
            )),
            CmdError::WaitTimeout,
        ];
        for other in others {
            assert_eq!(explain_grid_failure(&other, &endpoint()), None, "{other:?}");
        }
        let io = std::io::Error::other("Connection failure");
        assert_eq!(explain_grid_failure(&io, &endpoint()), None);
    }

    #[test]
    fn the_grids_two_refusals_are_told_apart() {
        assert_eq!(refusal(&not_created(NO_NODE_ANSWER)), Some(Refusal::NoNode));
        assert_eq!(
            refusal(&not_created(QUEUE_TIMEOUT_ANSWER)),
            Some(Refusal::QueueTimeout(
                "Could not start a new session. New session request timed out".into()
            ))
        );
        let chromedriver = "session not created: Chrome failed to start: exited normally.";
        assert_eq!(refusal(&not_created(chromedriver)), None);
        let not_w3c = NewSessionError::NotW3C(json!({ "message": NO_NODE }));
        assert_eq!(refusal(&not_w3c), None);
    }

    #[test]
    fn a_grids_status_says_what_each_node_offers() {
        let status: Value = serde_json::from_str(HUB_STATUS).unwrap();
        assert_eq!(
            node_offers(&status),
            Some(vec!["chrome (DOWN, http://127.0.0.1:41849)".to_owned()])
        );
        let two = json!({ "value": { "ready": true, "nodes": [
            { "uri": "http://198.18.3.2:5555", "availability": "UP", "slots": [
                { "stereotype": { "browserName": "chrome", "browserVersion": "126.0" } },
                { "stereotype": { "browserName": "firefox" } },
                { "stereotype": { "browserName": "chrome", "browserVersion": "126.0" } },
            ] },
            { "uri": "http://198.18.3.3:5555", "availability": "DRAINING", "slots": [] },
        ] } });
        assert_eq!(
            node_offers(&two),
            Some(vec![
                "chrome 126.0/firefox (UP, http://198.18.3.2:5555)".to_owned(),
                "no browser (DRAINING, http://198.18.3.3:5555)".to_owned(),
            ])
        );
        let empty = json!({ "value": { "ready": false, "nodes": [] } });
        assert_eq!(node_offers(&empty), Some(Vec::new()));
        let chromedriver: Value = serde_json::from_str(CHROMEDRIVER_STATUS).unwrap();
        assert_eq!(node_offers(&chromedriver), None);
    }
}
