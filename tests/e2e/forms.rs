//! The form echo escapes what it is sent.

use fantoccini::Locator;

use crate::support::{WAIT, web};

#[tokio::test]
async fn submitted_script_comes_back_as_text() {
    harness::e2e(web().await)
        .run(|ctx| async move {
            let c = &ctx.client;
            c.goto(ctx.url("form").as_str()).await?;
            let script = "<script>document.title='pwned'</script>";
            c.find(Locator::Id("name")).await?.send_keys(script).await?;
            c.find(Locator::Id("message"))
                .await?
                .send_keys("a & b")
                .await?;
            c.find(Locator::Id("submit")).await?.click().await?;
            let echo = c
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Id("echo-name"))
                .await?;
            assert_eq!(echo.text().await?, script, "shown as text");
            let message = c.find(Locator::Id("echo-message")).await?.text().await?;
            assert_eq!(message, "a & b");
            let title = c.title().await?;
            assert!(!title.contains("pwned"), "the script ran: {title}");
            assert!(c.source().await?.contains("&lt;script&gt;"));
            Ok(())
        })
        .await;
}
