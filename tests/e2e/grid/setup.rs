//! What the Grid tests need from the machine: the jar, and timings to report.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use harness::{Browser, Driver};

const JAR_ENV: &str = "SELENIUM_JAR";
const JAR_IN_TARGET: &str = "target/selenium/selenium-server-4.20.0.jar";

/// The Grid 4 jar: `$SELENIUM_JAR`, else where `.ci/install grid` puts it.
pub(crate) fn jar() -> PathBuf {
    let jar = std::env::var_os(JAR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(JAR_IN_TARGET));
    assert!(
        jar.is_file(),
        "Selenium Grid 4 jar not found at {} (set ${JAR_ENV}); install it and Java 17 with \
         `.ci/install grid`",
        jar.display()
    );
    jar
}

/// The median time to open (and load `about:blank` in) a session of `browser` at `url`, over
/// `n` sessions, each closed before the next.
pub(crate) async fn median_session(url: &str, browser: Browser, n: usize) -> Duration {
    let driver = Driver::remote(url, browser).unwrap();
    let mut times = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let session = driver
            .session()
            .await
            .unwrap_or_else(|e| panic!("a {browser} session through the Grid at {url}: {e:?}"));
        session.goto("about:blank").await.unwrap();
        times.push(started.elapsed());
        session.close().await.unwrap();
    }
    times.sort();
    times[times.len() / 2]
}
