//! The matchers on the answers a real Selenium Grid 4.20.0 gave, and the whole path through
//! fantoccini with those answers replayed over a socket.

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
fn a_test_that_panicked_on_a_lost_node_is_explained_too() {
    let unwrapped = format!(
        "the test panicked: called `Result::unwrap()` on an `Err` value: {:?}",
        node_lost()
    );
    let why = explain_grid_panic(&unwrapped, &endpoint()).expect("a lost node");
    assert!(why.contains("lost the node running this session"), "{why}");
    let shown = format!("the test panicked: {}", node_lost());
    assert!(explain_grid_panic(&shown, &endpoint()).is_some(), "{shown}");
    let other = "the test panicked: assertion failed: Connection failure";
    assert_eq!(explain_grid_panic(other, &endpoint()), None);
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

/// How the replayed endpoint answers a request.
enum Reply {
    /// At once, with this status and body (what a real Grid gave).
    Now(u16, String),
    /// After a while, as a Grid's queue does once a node is free.
    After(Duration, u16, String),
    /// Never, as a Grid's queue does while no node is free.
    Never,
}

/// A WebDriver endpoint on loopback that answers each request with `answer(method, path)`, and
/// the requests it got (`METHOD /path`), in order.
async fn replay(
    answer: fn(&str, &str) -> Reply,
) -> (Url, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!(
        "http://{}/wd/hub/",
        listener.local_addr().unwrap()
    ))
    .unwrap();
    let (seen, requests) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0; 4096];
                // The head, then as much body as it announces.
                let head = loop {
                    let Ok(n @ 1..) = stream.read(&mut buf).await else {
                        return;
                    };
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break text[..end].to_owned();
                        }
                    }
                };
                let mut words = head.split_whitespace();
                let (method, path) = (words.next().unwrap(), words.next().unwrap());
                let path = path.trim_start_matches("/wd/hub");
                let _ = seen.send(format!("{method} {path}"));
                let (status, body) = match answer(method, path) {
                    Reply::Now(status, body) => (status, body),
                    Reply::After(delay, status, body) => {
                        tokio::time::sleep(delay).await;
                        (status, body)
                    }
                    Reply::Never => return std::future::pending().await,
                };
                let response = format!(
                    "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, requests)
}

/// A Grid's answer to a new session it opened: session `s1`.
fn opened() -> String {
    json!({ "value": { "sessionId": "s1", "capabilities": {} } }).to_string()
}

/// A Grid's error body: W3C fields and a stack trace as a list, as Grid 4 sends it.
fn grid_error(message: &str) -> String {
    json!({ "value": {
        "error": "session not created",
        "message": message,
        "stacktrace": [{ "fileName": "LocalDistributor.java", "lineNumber": 810 }],
    } })
    .to_string()
}

#[tokio::test]
async fn a_grid_without_a_node_for_the_browser_is_said_so_with_what_it_offers() {
    let (grid, _) = replay(|method, path| match (method, path) {
        ("POST", "/session") => Reply::Now(500, grid_error(NO_NODE_ANSWER)),
        ("GET", "/status") => Reply::Now(200, HUB_STATUS.to_owned()),
        _ => Reply::Now(404, "{}".to_owned()),
    })
    .await;
    let driver = crate::Driver::remote(grid.as_str(), crate::Browser::Firefox).unwrap();
    let err = driver.session().await.unwrap_err();
    let Error::GridNoNode {
        offered,
        capabilities,
        ..
    } = &err
    else {
        panic!("expected GridNoNode: {err}");
    };
    assert_eq!(
        offered.as_deref(),
        Some(&["chrome (DOWN, http://127.0.0.1:41849)".to_owned()][..])
    );
    assert!(
        capabilities.starts_with(r#"{"browserName":"firefox","#),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "the Selenium Grid at {grid} has no node that supports {{"
        )),
        "{text}"
    );
    assert!(
        text.contains("}: its nodes offer chrome (DOWN, http://127.0.0.1:41849); ask for"),
        "{text}"
    );
}

#[tokio::test]
async fn a_grid_that_times_out_its_queue_is_said_so() {
    let (grid, _) = replay(|method, path| match (method, path) {
        ("POST", "/session") => Reply::Now(500, grid_error(QUEUE_TIMEOUT_ANSWER)),
        _ => Reply::Now(404, "{}".to_owned()),
    })
    .await;
    let driver = crate::Driver::remote(grid.as_str(), crate::Browser::Chrome).unwrap();
    let err = driver.session().await.unwrap_err();
    assert!(
        matches!(&err, Error::GridQueueTimeout { message, .. }
        if message == "Could not start a new session. New session request timed out"),
        "{err}"
    );
}

#[tokio::test]
async fn a_session_that_does_not_open_in_time_says_what_the_grid_offers() {
    let (grid, _) = replay(|method, path| match (method, path) {
        ("POST", "/session") => Reply::Never,
        ("GET", "/status") => Reply::Now(200, HUB_STATUS.to_owned()),
        _ => Reply::Now(404, "{}".to_owned()),
    })
    .await;
    let driver = crate::Driver::remote(grid.as_str(), crate::Browser::Firefox)
        .unwrap()
        .session_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = driver.session().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(text.starts_with(&format!("no session from the Selenium Grid at {grid} within 300ms for {{\"browserName\":\"firefox\"")), "{text}");
    assert!(text.ends_with("}: its nodes offer chrome (DOWN, http://127.0.0.1:41849); set HARNESS_SESSION_TIMEOUT (or Driver::session_timeout) for a longer wait"), "{text}");
}

#[tokio::test]
async fn an_endpoint_that_is_not_a_grid_times_out_without_offers() {
    let (driver_like, _) = replay(|method, path| match (method, path) {
        ("POST", "/session") => Reply::Never,
        ("GET", "/status") => Reply::Now(200, CHROMEDRIVER_STATUS.to_owned()),
        _ => Reply::Now(404, "{}".to_owned()),
    })
    .await;
    let driver = crate::Driver::remote(driver_like.as_str(), crate::Browser::Chrome)
        .unwrap()
        .session_timeout(Duration::from_millis(200));
    let err = driver.session().await.unwrap_err();
    assert!(
        matches!(&err, Error::SessionTimeout { offered: None, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("no session from the WebDriver endpoint at "),
        "{err}"
    );
    let zero = driver
        .session_timeout(Duration::ZERO)
        .session()
        .await
        .unwrap_err();
    assert_eq!(zero.kind(), crate::ErrorKind::BadInput, "{zero}");
}

#[tokio::test]
async fn a_command_after_the_node_died_is_explained_as_a_lost_node() {
    let (grid, _) = replay(|method, path| match (method, path) {
        ("POST", "/session") => Reply::Now(200, opened()),
        // The router's answer once the node running session s1 was SIGKILLed.
        _ => Reply::Now(
            408,
            r#"{"value":{"message":"Connection failure"}}"#.to_owned(),
        ),
    })
    .await;
    let driver = crate::Driver::remote(grid.as_str(), crate::Browser::Chrome).unwrap();
    let session = driver.session().await.unwrap();
    let err = session.goto("about:blank").await.unwrap_err();
    assert!(matches!(&err, CmdError::NotW3C(_)), "{err:?}");
    let why = explain_grid_failure(&err, session.endpoint()).expect("a lost node");
    assert!(
        why.starts_with(&format!("the Selenium Grid at {grid} lost the node")),
        "{why}"
    );
    let _ = session.close().await;
}

#[tokio::test]
async fn a_session_the_grid_opens_after_the_timeout_is_closed() {
    let (grid, mut requests) = replay(|method, path| match (method, path) {
        ("POST", "/session") => Reply::After(Duration::from_millis(600), 200, opened()),
        ("DELETE", "/session/s1") => Reply::Now(200, r#"{"value":null}"#.to_owned()),
        _ => Reply::Now(404, "{}".to_owned()),
    })
    .await;
    let driver = crate::Driver::remote(grid.as_str(), crate::Browser::Chrome)
        .unwrap()
        .session_timeout(Duration::from_millis(200));
    let err = driver.session().await.unwrap_err();
    assert!(matches!(&err, Error::SessionTimeout { .. }), "{err}");
    let closed = async {
        while let Some(request) = requests.recv().await {
            if request == "DELETE /session/s1" {
                return true;
            }
        }
        false
    };
    let closed = tokio::time::timeout(Duration::from_secs(10), closed).await;
    assert_eq!(closed, Ok(true), "the late session s1 was not closed");
}
