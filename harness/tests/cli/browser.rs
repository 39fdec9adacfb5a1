//! `--browser`: a real driver on an OS-assigned port, exported as `WEBDRIVER_URL`.

use crate::support::{LIMIT, Running, harness, run};

/// A Python one-liner: prints `url=$WEBDRIVER_URL` and the body of `GET $WEBDRIVER_URL/status`.
const STATUS: &str = "import os, urllib.request as u
url = os.environ['WEBDRIVER_URL']
print('url=' + url, flush=True)
opener = u.build_opener(u.ProxyHandler({}))
print(opener.open(url.rstrip('/') + '/status', timeout=10).read().decode(), flush=True)";

fn driver_answers(browser: &str) {
    let out = run(&["run", "--browser", browser, "--", "python3", "-c", STATUS]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("url=http://127.0.0.1:"), "{out}");
    let body: String = out.stdout.split_whitespace().collect();
    assert!(
        body.contains("\"ready\":true"),
        "the driver is ready: {out}"
    );
}

/// The browser of this run, as for the rest of the suite: `HARNESS_BROWSER` (Chrome by default),
/// so `HARNESS_BROWSER=firefox cargo test --workspace` covers geckodriver.
#[test]
fn the_driver_of_this_runs_browser_is_started_and_exported() {
    let browser = harness::Browser::from_env().expect("HARNESS_BROWSER is chrome or firefox");
    driver_answers(browser.name());
}

#[test]
fn a_missing_driver_is_bad_input_naming_the_install_command() {
    let mut cmd = harness(&["run", "--browser", "chrome", "--", "true"]);
    cmd.env("CHROMEDRIVER", "/nonexistent/chromedriver");
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(2), "{out}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "one line: {out}");
    assert!(out.stderr.contains("/nonexistent/chromedriver"), "{out}");
    assert!(
        out.stderr
            .contains("apt-get install chromium chromium-driver"),
        "{out}"
    );
}
