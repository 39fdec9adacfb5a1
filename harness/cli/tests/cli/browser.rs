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

/// A stock Selenium Python client, unaware of harness: opens a session on `$WEBDRIVER_URL`
/// (`sys.argv[1]` is `chrome` or `firefox`), loads `$WEB_URL` + `hello` and checks the text.
const SELENIUM: &str = "import os, shutil, sys
from selenium import webdriver
from selenium.webdriver.common.by import By
if sys.argv[1] == 'chrome':
    options = webdriver.ChromeOptions()
    options.add_argument('--headless=new')
    if os.geteuid() == 0:
        options.add_argument('--no-sandbox')
    binary = os.environ.get('CHROME_BIN')
else:
    options = webdriver.FirefoxOptions()
    options.add_argument('-headless')
    # Debian's Firefox may be `firefox-esr` only, where geckodriver does not look.
    binary = os.environ.get('FIREFOX_BIN') or shutil.which('firefox') or shutil.which('firefox-esr')
if binary:
    options.binary_location = binary
print('webdriver_url=' + os.environ['WEBDRIVER_URL'], flush=True)
driver = webdriver.Remote(command_executor=os.environ['WEBDRIVER_URL'], options=options)
try:
    driver.get(os.environ['WEB_URL'] + 'hello')
    text = driver.find_element(By.TAG_NAME, 'body').text
    print('text=' + text, flush=True)
    assert 'Hello World' in text, text
finally:
    driver.quit()
print('SELENIUM-OK', flush=True)";

/// What `target/selenium-venv` holds: the stock Selenium client, and pytest with pytest-xdist for
/// the per-worker tests (the same list as `.ci/install`).
const SELENIUM_VENV_PACKAGES: [&str; 3] =
    ["selenium==4.51.0", "pytest==9.2.0", "pytest-xdist==3.8.0"];

/// The Python of `target/selenium-venv`, with [`SELENIUM_VENV_PACKAGES`] in it. `.ci/install`
/// makes it; when it is missing, this makes it the same way (PyPI, once per target folder), so
/// the README's `cargo test --workspace` works on a fresh machine. Built in a folder of its own
/// and renamed into place, so a half-made venv is never used; an older venv that lacks a package
/// gets it installed in place (pip installs each package whole or not at all).
pub(crate) fn selenium_python() -> std::path::PathBuf {
    use std::process::Command;
    // This package is `harness/cli/`: the workspace root is two levels up.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root");
    let venv = root.join("target/selenium-venv");
    let python = venv.join("bin/python");
    let installed = |python: &std::path::Path| {
        Command::new(python)
            .args(["-c", "import selenium, pytest, xdist"])
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if installed(&python) {
        return python;
    }
    let pip_install = |venv: &std::path::Path| {
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(SELENIUM_VENV_PACKAGES)
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.is_file() {
        pip_install(&venv);
    } else {
        let building = root.join(format!("target/selenium-venv.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&building)
            .status()
            .is_ok_and(|s| s.success())
            && pip_install(&building);
        // Another run may have won the race; either venv will do.
        if !made || std::fs::rename(&building, &venv).is_err() {
            let _ = std::fs::remove_dir_all(&building);
        }
    }
    assert!(
        installed(&python),
        "no Selenium client and pytest-xdist at {} and making them failed (python3 -m venv + pip \
         install {}): run `.ci/install chrome`, which installs python3-venv too",
        python.display(),
        SELENIUM_VENV_PACKAGES.join(" ")
    );
    python
}

/// `WEBDRIVER_URL` is what stock clients expect: Selenium appends `/session`, so a trailing `/`
/// would make chromedriver answer `unknown command` to `//session`.
#[test]
fn a_stock_selenium_client_drives_the_browser_through_webdriver_url() {
    let browser = harness::Browser::from_env().expect("HARNESS_BROWSER is chrome or firefox");
    let python = selenium_python();
    let web = format!("web={}", crate::support::fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--browser",
        browser.name(),
        "--server",
        &web,
        "--",
        python.to_str().expect("a UTF-8 path"),
        "-c",
        SELENIUM,
        browser.name(),
    ]);
    // Selenium sends its commands through any proxy in the environment; the driver is local.
    crate::support::without_proxy(&mut cmd);
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("text=Hello World"), "{out}");
    assert!(out.stdout.contains("SELENIUM-OK"), "{out}");
    let url = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("webdriver_url="))
        .expect("the script printed WEBDRIVER_URL");
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with('/'),
        "WEBDRIVER_URL {url:?} has no trailing slash: {out}"
    );
}
