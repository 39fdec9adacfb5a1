//! Other languages' parallel runners through `harness run --pool N`: pytest-xdist workers, each a
//! process of its own, all lease from the same warm sessions.

use super::*;
use crate::browser::selenium_python;

/// Eight tests for four xdist workers: each opens a Selenium session on `WEBDRIVER_URL`, finds
/// nothing of the test before it (no cookie, `about:blank`), loads `WEB_URL`, and leaves a cookie
/// for the next one to not find.
const XDIST_TESTS: &str = r#"import os
import pytest
from selenium import webdriver

def options():
    if os.environ["HARNESS_BROWSER"] == "chrome":
        return webdriver.ChromeOptions()
    return webdriver.FirefoxOptions()

@pytest.mark.parametrize("n", range(8))
def test_a_clean_warm_session(n):
    driver = webdriver.Remote(command_executor=os.environ["WEBDRIVER_URL"], options=options())
    try:
        assert driver.current_url == "about:blank"
        assert len(driver.window_handles) == 1
        driver.get(os.environ["WEB_URL"] + "hello")
        assert driver.get_cookies() == [], "a cookie of an earlier test"
        assert "Hello World" in driver.page_source
        driver.add_cookie({"name": "left", "value": str(n)})
        driver.execute_script("localStorage.setItem('left', arguments[0])", str(n))
        driver.get(os.environ["WEB_URL"] + "hello")
        assert driver.execute_script("return localStorage.getItem('left')") == str(n)
    finally:
        driver.quit()
"#;

#[test]
fn pytest_xdist_workers_share_the_warm_sessions_through_run_pool() {
    let browser = browser();
    let python = selenium_python();
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("test_warm.py");
    std::fs::write(&tests, XDIST_TESTS).unwrap();
    // The driver behind a wrapper that counts its starts: one chromedriver for every worker.
    let starts = crate::support::DriverStarts::new(browser, dir.path());
    let web = format!("web={}", fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--browser",
        browser.name(),
        "--pool",
        "2",
        "--server",
        &web,
        "--",
        python.to_str().expect("a UTF-8 path"),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "4",
        tests.to_str().expect("a UTF-8 path"),
    ]);
    crate::support::without_proxy(&mut cmd)
        .env(starts.var, &starts.wrapper)
        .env("HARNESS_BROWSER", browser.name());
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("8 passed"), "{out}");
    if browser == harness::Browser::Chrome {
        assert_eq!(starts.count(), 1, "four workers, one chromedriver: {out}");
    }
}
