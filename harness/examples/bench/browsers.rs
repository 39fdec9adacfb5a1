//! Row d: a fresh browser session per test against a pooled one, reset between tests.
//!
//! Fresh: `driver.session()`, open a fixtures-app page, `close()`. Pooled: `pool.acquire()` (which
//! resets the session: windows, storage, cookies, `about:blank`), open the same page, drop it back
//! into the pool. Interleaved, after one unrecorded round of each.

use std::time::{Duration, Instant};

use anyhow::Context;
use harness::{Browser, Driver, Error, Server, SessionPool};

use super::report::{Line, Report};
use super::stats::{Samples, fmt_ms};

/// Measured sessions per method and browser.
const N: usize = 20;
/// The ratio row d aims for.
const TARGET_RATIO: f64 = 0.15;

/// Runs row d for Chrome, and for Firefox when it and geckodriver are installed.
pub(crate) async fn run(server: &Server, report: &mut Report) -> anyhow::Result<()> {
    let web = server.spawn().await?;
    let page = web.url().join("form")?.to_string();
    for browser in [Browser::Chrome, Browser::Firefox] {
        let key = format!("pooled_vs_fresh_{browser}");
        let driver = match Driver::start(browser).await {
            Ok(driver) => driver,
            Err(e @ (Error::DriverNotFound { .. } | Error::BrowserNotFound { .. }))
                if browser == Browser::Firefox =>
            {
                eprintln!("bench: d. skipping Firefox: {e}");
                report.set(&key, serde_json::Value::Null);
                report.set("firefox_absent_reason", e.to_string());
                report.line(Line {
                    row: "d. Firefox sessions".into(),
                    measured: "pooled vs. fresh".into(),
                    result: "not measured: Firefox or geckodriver is not installed".into(),
                    target: format!("≤ {TARGET_RATIO:.2}×"),
                    met: None,
                });
                continue;
            }
            Err(e) => return Err(e).context(format!("failed to start the {browser} driver")),
        };
        eprintln!("bench: d. {browser}: {N} fresh and {N} pooled sessions, interleaved");
        let measured = measure(&driver, &page).await;
        driver.stop().await?;
        let Measured {
            fresh,
            pooled,
            acquire,
        } = measured?;
        let ratio = pooled.median_ms() / fresh.median_ms();
        report.num(&key, ratio);
        report.num(&format!("{browser}_fresh_median_ms"), fresh.median_ms());
        report.num(&format!("{browser}_fresh_p95_ms"), fresh.p95_ms());
        report.num(&format!("{browser}_pooled_median_ms"), pooled.median_ms());
        report.num(&format!("{browser}_pooled_p95_ms"), pooled.p95_ms());
        report.num(
            &format!("{browser}_pooled_acquire_median_ms"),
            acquire.median_ms(),
        );
        let name = match browser {
            Browser::Chrome => "Chrome",
            Browser::Firefox => "Firefox",
        };
        report.line(Line {
            row: format!("d. {name} sessions"),
            measured: format!(
                "pooled (`acquire` with reset + `goto` + drop) vs. fresh (`session` + `goto` + `close`); n={N} each"
            ),
            result: format!(
                "{} (of which `acquire` {} ms) vs. {}: **{ratio:.2}×**",
                pooled.summary(),
                fmt_ms(acquire.median_ms()),
                fresh.summary()
            ),
            target: format!("≤ {TARGET_RATIO:.2}×"),
            met: Some(ratio <= TARGET_RATIO),
        });
    }
    web.stop().await?;
    Ok(())
}

/// What one browser's sessions took.
#[derive(Debug, Default)]
struct Measured {
    fresh: Samples,
    pooled: Samples,
    /// The `acquire` part of `pooled`: the reset.
    acquire: Samples,
}

/// Fresh and pooled sessions, interleaved.
async fn measure(driver: &Driver, page: &str) -> anyhow::Result<Measured> {
    let pool = SessionPool::new(driver);
    let mut m = Measured::default();
    for round in 0..=N {
        // Alternate which goes first, so neither always runs on a machine the other just warmed.
        let (fresh_took, (pooled_took, acquire_took)) = if round.is_multiple_of(2) {
            let f = fresh_one(driver, page).await?;
            (f, pooled_one(&pool, page).await?)
        } else {
            let p = pooled_one(&pool, page).await?;
            (fresh_one(driver, page).await?, p)
        };
        // Round 0 warms the browser's files into the page cache and fills the pool.
        if round > 0 {
            m.fresh.push(fresh_took);
            m.pooled.push(pooled_took);
            m.acquire.push(acquire_took);
        }
    }
    pool.close_idle().await;
    assert_eq!(m.fresh.len(), N);
    Ok(m)
}

async fn fresh_one(driver: &Driver, page: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let session = driver.session().await?;
    session.goto(page).await?;
    session.close().await?;
    Ok(started.elapsed())
}

/// The whole pooled round, and its `acquire` part.
async fn pooled_one(pool: &SessionPool, page: &str) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    let session = pool.acquire().await?;
    let acquired = started.elapsed();
    session.goto(page).await?;
    drop(session);
    Ok((started.elapsed(), acquired))
}
