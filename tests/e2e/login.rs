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
            assert!(
                c.get_named_cookie("session").await.is_ok(),
                "session cookie set"
            );

            c.find(Locator::Id("logout")).await?.click().await?;
            c.wait().at_most(WAIT).for_url(&ctx.url("login")).await?;
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
            assert!(
                c.get_named_cookie("session").await.is_err(),
                "no session cookie"
            );
            Ok(())
        })
        .await;
}
