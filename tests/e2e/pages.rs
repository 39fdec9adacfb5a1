//! Navigation, titles, the JS counter, the slow page and identity.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::support::{WAIT, web};

#[tokio::test]
async fn navigation_and_page_title() {
    harness::e2e(web().await)
        .run(|ctx| async move {
            let c = &ctx.client;
            c.goto(ctx.url("").as_str()).await?;
            assert_eq!(c.title().await?, "fixtures-app");
            c.find(Locator::Id("link-hello")).await?.click().await?;
            c.wait().at_most(WAIT).for_url(&ctx.url("hello")).await?;
            let body = c.find(Locator::Css("body")).await?.text().await?;
            assert_eq!(body.trim(), "Hello World");
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn counter_increments_on_click() {
    harness::e2e(web().await)
        .run(|ctx| async move {
            let c = &ctx.client;
            c.goto(ctx.url("counter").as_str()).await?;
            let count = c.find(Locator::Id("count")).await?;
            assert_eq!(count.text().await?, "0");
            let button = c.find(Locator::Id("increment")).await?;
            for expected in 1..=3 {
                button.click().await?;
                let xpath = format!("//span[@id='count' and text()='{expected}']");
                c.wait()
                    .at_most(WAIT)
                    .for_element(Locator::XPath(&xpath))
                    .await?;
            }
            assert_eq!(count.text().await?, "3");
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn slow_page_is_waited_for() {
    harness::e2e(web().await)
        .run(|ctx| async move {
            let c = &ctx.client;
            let started = Instant::now();
            c.goto(ctx.url("slow?ms=1200").as_str()).await?;
            let done = c
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Id("slow-done"))
                .await?;
            assert_eq!(done.text().await?, "done after 1200 ms");
            assert!(started.elapsed() >= Duration::from_millis(1200));
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn whoami_is_this_suites_own_server() {
    // A server of this test's own, not the shared one: the body borrows the handle (and what it
    // lends, the instance id), which a `'static` body could not.
    let web = harness::Server::cargo_bin("fixtures-app")
        .unwrap()
        .spawn()
        .await
        .unwrap();
    let (expected, base) = (web.instance_id(), web.url());
    harness::e2e(&web)
        .run(|ctx| async move {
            let c = &ctx.client;
            c.goto(ctx.url("whoami").as_str()).await?;
            let body = c.find(Locator::Css("body")).await?.text().await?;
            assert!(body.contains(expected), "{body} should name {expected}");
            assert_eq!(&ctx.base, base, "the test's server");
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn every_session_has_the_default_window_size() {
    harness::e2e(web().await)
        .run(|ctx| async move {
            let (_, _, width, height) = ctx.client.get_window_rect().await?;
            assert_eq!((width as u32, height as u32), harness::browser::WINDOW_SIZE);
            Ok(())
        })
        .await;
}
