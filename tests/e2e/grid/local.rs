//! One machine: standalone Grids on OS-assigned ports never collide.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use harness::Browser;
use harness::grid::Grid;

use super::setup;

/// Two standalone Grids at once (as two checkouts' suites would start them), each on a port of
/// its own, each serving a Chrome and a Firefox session that reach a page of fixtures-app.
#[tokio::test]
#[ignore = "needs Java 17 and the Grid 4 jar (.ci/install grid); run by .ci/run"]
async fn standalone_grids_on_os_assigned_ports_side_by_side() {
    let jar = setup::jar();
    let start = || {
        Grid::standalone(&jar)
            .browser(Browser::Chrome)
            .browser(Browser::Firefox)
            .start()
    };
    let (a, b) = tokio::join!(start(), start());
    let (a, b) = (a.expect("grid a starts"), b.expect("grid b starts"));
    assert_ne!(a.url().port(), b.url().port(), "two Grids, two ports");
    assert_ne!(a.url().port(), Some(4444), "not Grid's fixed default");
    // The JVM's IPv6 socket that takes IPv4 is reached on the address asked for.
    assert_eq!(a.url().host_str(), Some("127.0.0.1"), "{}", a.url());
    let web = crate::support::web().await;
    for grid in [&a, &b] {
        for browser in [Browser::Chrome, Browser::Firefox] {
            let driver = harness::Driver::remote(grid.url().as_str(), browser).unwrap();
            let session = driver.session().await.unwrap();
            session
                .goto(web.url().join("hello").unwrap().as_str())
                .await
                .unwrap();
            let body = session.find(Locator::Css("body")).await.unwrap();
            let text = body.text().await.unwrap();
            assert!(
                text.contains("Hello"),
                "{browser} via {}: {text}",
                grid.url()
            );
            session.close().await.unwrap();
        }
    }
    for browser in [Browser::Chrome, Browser::Firefox] {
        let median = setup::median_session(a.url().as_str(), browser, 3).await;
        eprintln!("standalone Grid: new {browser} session median {median:?} (n=3)");
    }
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// A Grid that refuses what no node offers (`reject-unsupported-caps`) and one that queues it
/// (`session-request-timeout`): both fail the session at once or at the Grid's bound, in the
/// Grid's terms, naming the capabilities asked for.
#[tokio::test]
#[ignore = "needs Java 17 and the Grid 4 jar (.ci/install grid); run by .ci/run"]
async fn a_request_no_node_offers_fails_in_the_grids_terms() {
    let jar = setup::jar();
    let refusing = Grid::standalone(&jar)
        .browser(Browser::Chrome)
        .reject_unsupported_caps(true)
        .start();
    let queueing = Grid::standalone(&jar)
        .browser(Browser::Chrome)
        .session_request_timeout(Duration::from_secs(2))
        .start();
    let (refusing, queueing) = tokio::join!(refusing, queueing);
    let (refusing, queueing) = (refusing.unwrap(), queueing.unwrap());
    for (grid, kind) in [(&refusing, "refused"), (&queueing, "queued")] {
        let started = Instant::now();
        let error = harness::Driver::remote(grid.url().as_str(), Browser::Firefox)
            .unwrap()
            .session()
            .await
            .expect_err("no node offers Firefox");
        let waited = started.elapsed();
        let message = error.to_string();
        assert!(
            message.contains("\"browserName\":\"firefox\""),
            "{kind}: names the capabilities: {message}"
        );
        match kind {
            "refused" => assert!(
                matches!(error, harness::Error::GridNoNode { .. }) && message.contains("chrome"),
                "refused, naming what the nodes offer: {message}"
            ),
            _ => assert!(
                matches!(error, harness::Error::GridQueueTimeout { .. }),
                "the Grid's queue timeout: {message}"
            ),
        }
        assert!(waited < Duration::from_secs(10), "{kind} after {waited:?}");
        eprintln!("{kind} after {waited:?}: {message}");
    }
}
