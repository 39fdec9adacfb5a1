//! Two sessions at once share nothing, and ending one never holds up the other.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::support::{WAIT, submit_login, web};

#[tokio::test]
async fn two_parallel_sessions_do_not_share_cookies() {
    let web = web().await;
    let driver = harness::Driver::shared().await.expect("a browser");
    let (a, b) = tokio::try_join!(driver.session(), driver.session()).expect("two sessions");
    let login = web.url().join("login").unwrap();
    let account = web.url().join("account").unwrap();

    let result: Result<(), Box<dyn std::error::Error>> = async {
        tokio::try_join!(a.goto(login.as_str()), b.goto(login.as_str()))?;
        a.execute("document.cookie = 'flavour=a-only; path=/'", vec![])
            .await?;
        submit_login(&a, "alice", "hunter2").await?;
        a.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("user"))
            .await?;

        assert_eq!(a.get_named_cookie("flavour").await?.value(), "a-only");
        assert!(!a.get_named_cookie("session").await?.value().is_empty());
        // b is on the same origin, alive (this call would fail otherwise), and has no cookie.
        let b_cookies = b.get_all_cookies().await?;
        assert!(b_cookies.is_empty(), "b sees a's cookies: {b_cookies:?}");
        b.goto(account.as_str()).await?;
        b.wait().at_most(WAIT).for_url(&login).await?;
        Ok(())
    }
    .await;
    let _ = tokio::join!(a.close(), b.close());
    result.unwrap();
}

/// Dropping a session stops its own driver (geckodriver, on Firefox) off the WebDriver runtime:
/// the other session's commands go on meanwhile, and that driver still ends.
#[tokio::test]
async fn dropping_a_session_holds_up_no_other_session() {
    let web = web().await;
    let driver = harness::Driver::shared().await.expect("a browser");
    let (a, b) = tokio::try_join!(driver.session(), driver.session()).expect("two sessions");
    // On Firefox one of them may use the shared driver's geckodriver: drop one with its own.
    let (a, b) = if a.endpoint() == driver.url() {
        (b, a)
    } else {
        (a, b)
    };
    b.goto(web.url().join("counter").unwrap().as_str())
        .await
        .unwrap();
    let a_endpoint = a.endpoint().clone();
    let own_driver = a_endpoint != *driver.url();

    let started = Instant::now();
    drop(a);
    let dropped = started.elapsed();
    let title = tokio::time::timeout(WAIT, b.title()).await;
    let answered = started.elapsed();
    eprintln!("drop returned after {dropped:?}; the other session answered after {answered:?}");
    assert!(
        dropped < Duration::from_secs(2),
        "Drop waited {dropped:?}: it must leave the closing to the background"
    );
    let title = title
        .unwrap_or_else(|_| panic!("the other session's command took more than {WAIT:?}"))
        .unwrap();
    assert!(!title.is_empty(), "the other session answered: {title:?}");

    if own_driver {
        // Its own driver is gone once nothing accepts connections on its port.
        let port = a_endpoint.port().expect("a local driver's URL has a port");
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            assert!(
                Instant::now() < deadline,
                "the dropped session's driver on port {port} still runs after 15 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("its own driver was gone after {:?}", started.elapsed());
    }
    b.close().await.unwrap();
}
