//! Cookie sessions: sign in, see the account, sign out.

use fantoccini::Locator;

use crate::support::{WAIT, submit_login, web};

#[tokio::test]
async fn login_and_logout_with_a_cookie_session() {
    harness::e2e(web().await)
        .run(|ctx| async move {
            let c = &ctx.client;
            c.goto(ctx.url("account").as_str()).await?;
            c.wait().at_most(WAIT).for_url(&ctx.url("login")).await?;

            submit_login(c, "ada", "hunter2").await?;
            let user = c
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Id("user"))
                .await?;
            assert_eq!(user.text().await?, "Signed in as ada");
            let session = c.get_named_cookie("session").await?;
            assert!(
                !session.value().is_empty(),
                "session cookie set: {session:?}"
            );

            c.find(Locator::Id("logout")).await?.click().await?;
            c.wait().at_most(WAIT).for_url(&ctx.url("login")).await?;
            let cookies = c.get_all_cookies().await?;
            assert!(cookies.is_empty(), "logout cleared the cookie: {cookies:?}");
            c.goto(ctx.url("account").as_str()).await?;
            c.wait().at_most(WAIT).for_url(&ctx.url("login")).await?;
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn wrong_password_is_refused() {
    harness::e2e(web().await)
        .run(|ctx| async move {
            let c = &ctx.client;
            c.goto(ctx.url("login").as_str()).await?;
            submit_login(c, "ada", "wrong").await?;
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::Id("error"))
                .await?;
            // The list, read from a live session: an error here fails the test.
            let cookies = c.get_all_cookies().await?;
            assert!(cookies.is_empty(), "no session cookie: {cookies:?}");
            Ok(())
        })
        .await;
}
