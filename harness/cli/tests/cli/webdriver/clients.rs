//! Stock clients through `run`/`serve --pool`, and the options that go with it.

use super::*;
use crate::browser::selenium_python;

/// A stock Selenium Python client that passes no `--no-sandbox` (Chrome as root needs it): the
/// endpoint's warm sessions have it. Prints the page title of `$WEB_URL`.
const SELENIUM: &str = "import os, sys
from selenium import webdriver
if sys.argv[1] == 'chrome':
    options = webdriver.ChromeOptions()
    options.add_argument('--headless=new')
else:
    options = webdriver.FirefoxOptions()
    options.add_argument('-headless')
assert os.environ['HARNESS_WEBDRIVER_POOL'] == os.environ['WEBDRIVER_URL']
print('webdriver_url=' + os.environ['WEBDRIVER_URL'], flush=True)
driver = webdriver.Remote(command_executor=os.environ['WEBDRIVER_URL'], options=options)
try:
    driver.get(os.environ['WEB_URL'])
    print('title=' + driver.title, flush=True)
    caps = driver.capabilities
    print('profile=' + str(caps.get('chrome', {}).get('userDataDir') or caps.get('moz:profile')), flush=True)
finally:
    driver.quit()
print('SELENIUM-OK', flush=True)";

#[test]
fn a_stock_selenium_client_gets_a_warm_session_through_run_pool() {
    let browser = browser();
    let python = selenium_python();
    let web = format!("web={}", fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--browser",
        browser.name(),
        "--pool",
        "1",
        "--server",
        &web,
        "--",
        python.to_str().expect("a UTF-8 path"),
        "-c",
        SELENIUM,
        browser.name(),
    ]);
    crate::support::without_proxy(&mut cmd);
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("title=fixtures-app"), "{out}");
    assert!(out.stdout.contains("SELENIUM-OK"), "{out}");
    if browser == harness::Browser::Chrome {
        // Selenium's Firefox options ask for acceptInsecureCerts, which only a fresh session
        // honours; its Chrome options ask for nothing a warm session lacks.
        assert!(
            out.stdout.contains("profile=") && out.stdout.contains("harness-pool-chrome-"),
            "a warm session, not a one-off: {out}"
        );
    }
}

#[test]
fn pool_without_browser_is_a_usage_error_naming_browser() {
    let out = crate::support::run(&["run", "--pool", "2", "--", "true"]);
    assert_eq!(out.code(), Some(2), "{out}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "one line: {out}");
    assert!(out.stderr.contains("--browser"), "{out}");
}

#[test]
fn serve_announces_the_pool_as_its_webdriver_url() {
    let serve = Running::start(harness(&[
        "serve",
        "--browser",
        browser().name(),
        "--pool",
        "1",
    ]));
    let line = serve.line(LIMIT, |l| l.starts_with('{'));
    let announced: Value = serde_json::from_str(&line).unwrap();
    let url = announced["webdriver_url"]
        .as_str()
        .expect("a webdriver_url");
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let status = test_support::http::get_ok(&format!("{url}/status"));
    assert!(
        status.contains("harness pooling WebDriver endpoint"),
        "{status}"
    );
    serve.signal("TERM");
    let out = serve.wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
}
