//! Pooled sessions come back clean, and a broken one is replaced: by the `SessionPool` itself on
//! a driver of this process (`cargo test`), by the pooling endpoint behind it when the run has one
//! (the nextest setup script's), where the pool keeps nothing and every acquire is a new lease.

use fantoccini::Locator;
use harness::{Driver, SessionPool};

use crate::support::{WAIT, web};

#[tokio::test]
async fn a_pooled_session_is_reset_before_reuse() {
    let web = web().await;
    let driver = Driver::shared().await.expect("a browser");
    let pool = SessionPool::new(driver);
    let login = web.url().join("login").unwrap();

    let first = pool.acquire().await.unwrap();
    let id = first.session_id().await.unwrap();
    first.goto(login.as_str()).await.unwrap();
    first
        .execute(
            "document.cookie = 'left=behind; path=/'; localStorage.setItem('k', 'v'); sessionStorage.setItem('s', 'v');",
            vec![],
        )
        .await
        .unwrap();
    first.new_window(true).await.unwrap();
    assert_eq!(first.windows().await.unwrap().len(), 2);
    drop(first);
    let second = if driver.is_pooling() {
        assert_eq!(
            pool.idle(),
            0,
            "the endpoint keeps the sessions, not this pool"
        );
        let second = pool.acquire().await.unwrap();
        assert_ne!(second.session_id().await.unwrap(), id, "a lease of its own");
        second
    } else {
        assert_eq!(pool.idle(), 1, "back in the pool");
        let second = pool.acquire().await.unwrap();
        assert_eq!(
            second.session_id().await.unwrap(),
            id,
            "the same browser, reused"
        );
        second
    };
    assert_eq!(
        second.windows().await.unwrap().len(),
        1,
        "extra windows closed"
    );
    assert_eq!(second.current_url().await.unwrap().as_str(), "about:blank");
    second.goto(login.as_str()).await.unwrap();
    second
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await
        .unwrap();
    let cookies = second.get_all_cookies().await.unwrap();
    assert!(cookies.is_empty(), "cookie cleared: {cookies:?}");
    let storage = second
        .execute(
            "return [localStorage.getItem('k'), sessionStorage.getItem('s')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(storage, serde_json::json!([null, null]), "storage cleared");
    second.detach().close().await.unwrap();
}

#[tokio::test]
async fn a_session_that_cannot_be_reset_is_replaced() {
    let pool = SessionPool::new(Driver::shared().await.expect("a browser"));
    let broken = pool.acquire().await.unwrap();
    let id = broken.session_id().await.unwrap();
    // Closing the last window ends the WebDriver session behind the pool's back.
    broken.close_window().await.unwrap();
    drop(broken);

    let fresh = pool.acquire().await.unwrap();
    assert_ne!(fresh.session_id().await.unwrap(), id, "a new session");
    fresh.goto("about:blank").await.unwrap();
    fresh.detach().close().await.unwrap();
}
