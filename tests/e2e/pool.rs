//! Pooled sessions come back clean, and a broken one is replaced.

use fantoccini::Locator;
use harness::SessionPool;

use crate::support::{WAIT, own_driver, web};

#[tokio::test]
async fn a_pooled_session_is_reset_before_reuse() {
    let web = web().await;
    let pool = SessionPool::new(own_driver().await);
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
    assert_eq!(pool.idle(), 1, "back in the pool");

    let second = pool.acquire().await.unwrap();
    assert_eq!(
        second.session_id().await.unwrap(),
        id,
        "the same browser, reused"
    );
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
    let pool = SessionPool::new(own_driver().await);
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
