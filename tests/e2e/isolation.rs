//! Two sessions at once share nothing.

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

        assert!(a.get_named_cookie("flavour").await.is_ok());
        assert!(
            b.get_named_cookie("flavour").await.is_err(),
            "b sees a's cookie"
        );
        assert!(
            b.get_named_cookie("session").await.is_err(),
            "b sees a's session"
        );
        b.goto(account.as_str()).await?;
        b.wait().at_most(WAIT).for_url(&login).await?;
        Ok(())
    }
    .await;
    let _ = tokio::join!(a.close(), b.close());
    result.unwrap();
}
