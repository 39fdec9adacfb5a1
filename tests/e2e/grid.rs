//! The whole suite through a local Selenium Grid (hub and one node) on loopback.
//!
//! Opt-in (`--ignored`), because it needs Java 17 and the Selenium 3 jar, which the README test
//! command does not: `.ci/run` installs the jar and runs it with
//! `cargo test -p e2e --test e2e -- --ignored --exact grid::suite_passes_through_a_selenium_grid`.
//! A missing jar is a failure naming the install command, never a skip.
//!
//! Selenium 3 binds port 0 but reports port 0 (the hub logs it, the node registers itself with
//! it), so both are readied with [`Ready::listening`], which reads the real port from the OS, and
//! the node is registered with the hub by this test, with that real port. The node's own
//! registration is pointed at a closed port so it never registers the wrong address.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::{Ready, Server, ServerHandle};
use serde_json::json;

const JAR_ENV: &str = "SELENIUM_JAR";
const JAR_IN_NPM: &str = "target/selenium/node_modules/selenium-server/lib/runner/selenium-server-standalone-3.141.59.jar";
const INSTALL: &str = "npm install --prefix target/selenium selenium-server@3.141.59";

fn selenium_jar() -> PathBuf {
    let jar = std::env::var_os(JAR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(JAR_IN_NPM));
    assert!(
        jar.is_file(),
        "Selenium jar not found at {} (set ${JAR_ENV}); install it with `{INSTALL}` (needs Java 17)",
        jar.display()
    );
    jar
}

fn on_path(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{program} not found on PATH; install it with `apt-get install chromium chromium-driver`"))
}

fn java(jar: &PathBuf, name: &str, jvm_args: &[String]) -> Server {
    Server::new("java")
        .args(jvm_args)
        .arg("-jar")
        .arg(jar)
        .name(name)
        .ready(Ready::listening())
        .ready_timeout(Duration::from_secs(60))
}

async fn start_grid(jar: &PathBuf) -> (ServerHandle, ServerHandle) {
    let chromedriver = on_path("chromedriver");
    let hub = java(jar, "grid-hub", &[])
        .args(["-role", "hub", "-host", "127.0.0.1", "-port", "0"])
        .health_check("grid/api/hub")
        .spawn()
        .await
        .expect("the hub starts");
    let driver_property = format!("-Dwebdriver.chrome.driver={}", chromedriver.display());
    let node = java(jar, "grid-node", &[driver_property])
        .args(["-role", "node", "-host", "127.0.0.1", "-port", "0"])
        // Port 9 (discard) refuses on loopback: the node's self-registration, which would give the
        // hub port 0, never lands. We register it below with its real port.
        .args(["-hub", "http://127.0.0.1:9/grid/register"])
        .health_check("wd/hub/status")
        .spawn()
        .await
        .expect("the node starts");
    (hub, node)
}

async fn register(hub: &ServerHandle, node: &ServerHandle) {
    let node_url = format!("http://127.0.0.1:{}", node.port());
    let request = json!({
        "class": "org.openqa.grid.common.RegistrationRequest",
        "configuration": {
            "capabilities": [{ "browserName": "chrome", "maxInstances": 4, "seleniumProtocol": "WebDriver" }],
            "maxSession": 4,
            "proxy": "org.openqa.grid.selenium.proxy.DefaultRemoteProxy",
            "register": true,
            "registerCycle": 5000,
            "hub": hub.url().join("grid/register").unwrap().as_str(),
            "hubHost": "127.0.0.1",
            "hubPort": hub.port(),
            "remoteHost": node_url,
            "role": "node",
            "host": "127.0.0.1",
            "port": node.port(),
        }
    });
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = http
        .post(hub.url().join("grid/register").unwrap())
        .body(request.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(answer.trim(), "ok", "the hub accepted the node");
    // The hub answers "ok" first and adds the node on a thread of its own: ask until it knows it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let proxy = http
            .get(format!("{}grid/api/proxy?id={node_url}", hub.url()))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        if proxy["success"] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hub did not list the node within 20 s: {proxy}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs Java 17 and the Selenium 3 jar; run by .ci/run (see the module docs)"]
async fn suite_passes_through_a_selenium_grid() {
    let jar = selenium_jar();
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
        .expect("Chromium on PATH; install it with `apt-get install chromium chromium-driver`");
    let (hub, node) = start_grid(&jar).await;
    register(&hub, &node).await;
    let webdriver_url = hub.url().join("wd/hub").unwrap();

    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(std::env::current_exe().unwrap())
            // The SIGKILL test is about drivers this process starts; through a Grid it starts none.
            .args(["--skip", "grid::", "--skip", "cleanup::"])
            .env("WEBDRIVER_URL", webdriver_url.as_str())
            .env("HARNESS_BROWSER", "chrome")
            .env("CHROME_BIN", chromium)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the suite failed through the Grid ({:?}):\n{stdout}\n{stderr}\nhub log:\n{}\nnode log:\n{}",
        started.elapsed(),
        hub.logs().tail(harness::Stream::Stderr, 40),
        node.logs().tail(harness::Stream::Stderr, 40),
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("test result:"))
        .unwrap_or_default();
    let passed: usize = summary
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 10, "the suite ran through the Grid: {summary}");
    eprintln!("through the Grid: {summary}");
}
