//! `harness webdriver` and `--pool`: a pooling W3C WebDriver endpoint in front of warm sessions,
//! driven by fantoccini, raw W3C requests and the stock Selenium Python client.

use std::time::{Duration, Instant};

use harness::fantoccini::{self, Client};
use serde_json::{Value, json};

mod clients;
mod leases;
mod lifetime;
mod measure;
mod workers;

use crate::support::{
    LIMIT, MARKER_KEY, Running, fixtures_app, harness, harness_bin, processes_marked, unique,
    wait_until,
};

/// The browser of this run, as for the rest of the suite (`HARNESS_BROWSER`, Chrome by default).
fn browser() -> harness::Browser {
    harness::Browser::from_env().expect("HARNESS_BROWSER is chrome or firefox")
}

/// `harness webdriver --browser B ARGS...`, as a harness [`Server`](harness::Server) reading its
/// handshake, marked with `MARKER_KEY=marker`.
async fn endpoint(marker: &str, args: &[&str]) -> harness::ServerHandle {
    let mut all = vec!["webdriver", "--browser", browser().name()];
    all.extend_from_slice(args);
    harness::Server::new(harness_bin())
        .args(all)
        .env(MARKER_KEY, marker)
        .ready_timeout(LIMIT)
        .spawn()
        .await
        .expect("harness webdriver announces its URL")
}

/// A fantoccini session through `url`, asking for the browser by name only.
async fn connect(url: &url::Url) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!(browser().name()));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(url.as_str())
        .await
        .expect("a session through the endpoint")
}

/// A plain HTTP client for raw W3C requests (no proxy: everything is on loopback).
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(LIMIT)
        .build()
        .unwrap()
}

/// `POST {url}session` with `{"browserName": B}`: the status and the body.
async fn new_session(client: &reqwest::Client, url: &url::Url) -> (u16, Value) {
    let body = json!({"capabilities": {"alwaysMatch": {"browserName": browser().name()}}});
    let response = client
        .post(url.join("session").unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `METHOD {url}session/{id}/{path}`: the status and the body.
async fn command(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &url::Url,
    id: &str,
    path: &str,
) -> (u16, Value) {
    let target = match path {
        "" => url.join(&format!("session/{id}")).unwrap(),
        path => url.join(&format!("session/{id}/{path}")).unwrap(),
    };
    let mut request = client.request(method.clone(), target);
    if method == reqwest::Method::POST {
        request = request.json(&json!({}));
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn session_id(body: &Value) -> String {
    body["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("a session id in {body}"))
        .to_owned()
}

/// `harness webdriver` started by this suite's runner, marked; its handshake URL.
fn start_marked(marker: &str, args: &[&str]) -> (Running, url::Url) {
    let mut all = vec!["webdriver", "--browser", browser().name()];
    all.extend_from_slice(args);
    let mut cmd = harness(&all);
    cmd.env(MARKER_KEY, marker);
    let run = Running::start(cmd);
    let line = run.line(LIMIT, |l| l.contains("\"harness\":1"));
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["pid"], json!(run.pid()), "{line}");
    let url = parsed["listening"]["webdriver"].as_str().unwrap();
    (
        run,
        harness::__cli::with_trailing_slash(url.parse().unwrap()),
    )
}

/// The browsers' main processes: marked processes whose parent is the driver.
fn browser_mains(marker: &str) -> Vec<u32> {
    let driver = match browser() {
        harness::Browser::Chrome => "chromedriver",
        harness::Browser::Firefox => "geckodriver",
    };
    let marked = processes_marked(marker);
    let is_driver = |pid: u32| marked.iter().any(|(p, name)| *p == pid && name == driver);
    marked
        .iter()
        .filter(|(pid, _)| parent(*pid).is_some_and(is_driver))
        .map(|(pid, _)| *pid)
        .collect()
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
