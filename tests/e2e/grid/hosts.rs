//! Across hosts: a hub on this machine's bridge address, a Chrome node and a Firefox node each on
//! a test host of its own; the suite passes through it on both browsers, a node killed mid-test
//! fails that test within seconds naming the loss, and a request no node serves fails within the
//! client's deadline naming the capabilities.

use std::net::IpAddr;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::grid::{Grid, GridHandle, NodeHandle};
use harness::{Browser, Driver, Server};
use test_support::netns::TestNetwork;

use super::setup;

/// The e2e suite, in a child process of this test binary, on `browser` through the hub, its
/// servers bound to `host`. The tests about drivers this process starts itself are left out.
fn suite(hub: &GridHandle, browser: Browser, host: IpAddr) -> impl FnOnce() -> Output + use<> {
    let url = hub.url().to_string();
    move || {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--skip",
                "grid::",
                "--skip",
                "cleanup::",
                "--skip",
                "drivers::",
            ])
            .env("WEBDRIVER_URL", url)
            .env("HARNESS_BROWSER", browser.name())
            .env("HARNESS_HOST", host.to_string())
            .output()
            .unwrap()
    }
}

/// A test whose server stayed on loopback while the browsers are on other hosts: the harness
/// warns once, naming the fix, and the page indeed cannot load.
fn loopback_server_with_remote_browsers(hub: &GridHandle) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["pages::navigation_and_page_title", "--exact"])
        .env("WEBDRIVER_URL", hub.url().as_str())
        .env("HARNESS_BROWSER", "chrome")
        .env_remove("HARNESS_HOST")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("harness: warning:") && l.contains("cannot reach"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning: {stderr}");
    assert!(
        warnings[0].contains("HARNESS_HOST"),
        "names the fix: {}",
        warnings[0]
    );
    assert!(
        !output.status.success(),
        "a node cannot load this machine's loopback: {stderr}"
    );
    eprintln!("loopback server, remote browsers: {}", warnings[0]);
}

/// Asserts that the suite passed, and how many tests it ran.
fn passed(output: &Output, browser: Browser, hub: &GridHandle) -> usize {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the suite failed on {browser} through the hub:\n{stdout}\n{stderr}\nhub log:\n{}",
        hub.server().logs().tail(harness::Stream::Stderr, 30),
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("test result:"))
        .unwrap_or_default();
    summary
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn node(hub: &GridHandle, net: &TestNetwork, name: &str, browser: Browser) -> NodeHandle {
    let host = net.host(name);
    hub.node()
        .name(format!("node-{name}"))
        .browser(browser)
        // Two tests at a time, some with two sessions open: fewer slots can deadlock the suite
        // (each test holding one session, waiting for a second).
        .max_sessions(4)
        .host(host.addr().into())
        .command_prefix(host.exec_prefix())
        .start()
        .await
        .unwrap_or_else(|e| panic!("the {name} node joins the hub: {e}"))
}

/// A test whose node is SIGKILLed after its first page: its next command fails, and the test
/// with it, within seconds, the failure naming the node's loss.
async fn node_lost_mid_test(hub: &GridHandle, node: &NodeHandle, host: IpAddr) {
    let web = Arc::new(
        Server::cargo_bin("fixtures-app")
            .unwrap()
            .host(host)
            .spawn()
            .await
            .unwrap(),
    );
    let driver = Arc::new(Driver::remote(hub.url().as_str(), Browser::Chrome).unwrap());
    let pid = node.server().pid();
    let killed = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let test = tokio::spawn({
        let killed = killed.clone();
        async move {
            harness::e2e(&web)
                .driver(&driver)
                .name("grid-node-lost")
                .run(|ctx| async move {
                    ctx.client.goto(ctx.url("hello").as_str()).await?;
                    let status = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    assert!(status.unwrap().success(), "kill -KILL {pid}");
                    *killed.lock().unwrap() = Some(Instant::now());
                    ctx.client.goto(ctx.url("counter").as_str()).await?;
                    Ok(())
                })
                .await;
        }
    });
    let failure = test
        .await
        .expect_err("the test fails once its node is gone");
    let since_kill = killed
        .lock()
        .unwrap()
        .expect("the node was killed")
        .elapsed();
    let message = failure
        .into_panic()
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_else(|_| "(not a string)".into());
    assert!(
        message.contains("lost the node"),
        "the failure names the node's loss: {message}"
    );
    assert!(
        since_kill <= Duration::from_secs(10),
        "failed {since_kill:?} after the kill: {message}"
    );
    eprintln!("node SIGKILLed mid-test: the test failed {since_kill:?} later");
}

/// A request that no node can serve fails within the client's deadline, naming what it asked.
async fn no_node_for(hub: &GridHandle, browser: Browser) {
    let deadline = Duration::from_secs(3);
    let driver = Driver::remote(hub.url().as_str(), browser)
        .unwrap()
        .session_timeout(deadline);
    let started = Instant::now();
    let error = driver
        .session()
        .await
        .expect_err("no node serves it any more");
    let waited = started.elapsed();
    let message = error.to_string();
    assert!(
        message.contains(&format!("\"browserName\":\"{browser}\"")),
        "names the capabilities: {message}"
    );
    assert!(
        waited < deadline + Duration::from_secs(3),
        "within the deadline (and the Grid's status): {waited:?}: {message}"
    );
    eprintln!("no node for {browser}: failed after {waited:?}: {message}");
}

#[tokio::test]
#[ignore = "needs root (test hosts), Java 17 and the Grid 4 jar (.ci/install grid); run by .ci/run"]
async fn a_hub_here_and_nodes_on_hosts_of_their_own() {
    let jar = setup::jar();
    let net = TestNetwork::create(&["chrome", "firefox"]).unwrap_or_else(|e| panic!("{e}"));
    let bridge: IpAddr = net.bridge_addr().into();
    let started = Instant::now();
    let hub = Grid::hub(&jar)
        .host(bridge)
        .start()
        .await
        .expect("the hub starts");
    let (chrome, firefox) = tokio::join!(
        node(&hub, &net, "chrome", Browser::Chrome),
        node(&hub, &net, "firefox", Browser::Firefox)
    );
    eprintln!(
        "hub at {} and two nodes up in {:?}",
        hub.url(),
        started.elapsed()
    );
    for browser in [Browser::Chrome, Browser::Firefox] {
        let median = setup::median_session(hub.url().as_str(), browser, 3).await;
        eprintln!("through the hub: new {browser} session median {median:?} (n=3)");
    }
    loopback_server_with_remote_browsers(&hub);

    // The Firefox suite runs while a Chrome test loses its node: the rest of the Grid goes on.
    let firefox_suite = tokio::task::spawn_blocking(suite(&hub, Browser::Firefox, bridge));
    node_lost_mid_test(&hub, &chrome, bridge).await;
    let output = firefox_suite.await.unwrap();
    let ran = passed(&output, Browser::Firefox, &hub);
    assert!(
        ran >= 10,
        "the Firefox suite ran through the hub: {ran} tests"
    );
    eprintln!("Firefox suite through the hub: {ran} passed");

    // Out of the hub with it (its JVM is dead; its driver and browser are not), then a new
    // Chrome node on the same host, and the Chrome suite.
    chrome.stop().await.unwrap();
    let chrome = node(&hub, &net, "chrome", Browser::Chrome).await;
    let output = tokio::task::spawn_blocking(suite(&hub, Browser::Chrome, bridge))
        .await
        .unwrap();
    let ran = passed(&output, Browser::Chrome, &hub);
    assert!(
        ran >= 10,
        "the Chrome suite ran through the hub: {ran} tests"
    );
    eprintln!("Chrome suite through the hub: {ran} passed");

    firefox.stop().await.unwrap();
    no_node_for(&hub, Browser::Firefox).await;

    chrome.stop().await.unwrap();
    hub.stop().await.unwrap();
    net.teardown().expect("nothing of the test hosts is left");
}
