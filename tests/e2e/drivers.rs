//! A driver the harness starts is the one its sessions use: none is started for nothing.

use harness::{Browser, Driver};

/// Chrome: every session lives on the one chromedriver. Firefox: the geckodriver `Driver::start`
/// started is the first session's; a second session meanwhile starts one of its own (geckodriver
/// serves one session at a time); once the first has closed, the next session uses it again
/// (a question only geckodriver's one session raises: Chrome opens no third browser).
#[tokio::test]
async fn sessions_use_the_driver_that_was_started() {
    let browser = Browser::from_env().unwrap();
    let driver = Driver::start(browser).await.expect("a browser");
    let started = driver.url().clone();

    let first = driver.session().await.unwrap();
    assert_eq!(first.endpoint(), &started, "the first session uses it");
    let second = driver.session().await.unwrap();
    match browser {
        Browser::Chrome => assert_eq!(second.endpoint(), &started, "shared"),
        Browser::Firefox => assert_ne!(
            second.endpoint(),
            &started,
            "a second geckodriver session has a driver of its own"
        ),
    }
    first.close().await.unwrap();
    if browser == Browser::Firefox {
        let third = driver.session().await.unwrap();
        assert_eq!(third.endpoint(), &started, "freed when its session closed");
        third.goto("about:blank").await.unwrap();
        third.close().await.unwrap();
    }
    // A live browser on its endpoint.
    second.goto("about:blank").await.unwrap();
    second.close().await.unwrap();
    driver.stop().await.unwrap();
}
