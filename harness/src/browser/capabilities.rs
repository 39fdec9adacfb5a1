//! What the library's own sessions ask the browser for: the options that make each run alike.

use std::path::{Path, PathBuf};

use fantoccini::wd::Capabilities;
use serde_json::{Value, json};

use super::kind::Browser;

/// The window size every session starts with, so screenshots and layouts are reproducible.
///
/// ```
/// let (width, height) = harness::browser::WINDOW_SIZE;
/// assert_eq!((width, height), (1280, 800));
/// ```
pub const WINDOW_SIZE: (u32, u32) = (1280, 800);

/// The capabilities of the library's own sessions of `browser` (headless unless `HARNESS_HEADFUL`,
/// `--no-sandbox` only as root, [`WINDOW_SIZE`], the flags that keep resets fast), with `profile`
/// as the browser profile and `binary` as the browser binary when given.
pub(crate) fn session_capabilities(
    browser: Browser,
    binary: Option<PathBuf>,
    profile: &Path,
) -> Capabilities {
    let headful = std::env::var_os("HARNESS_HEADFUL").is_some_and(|v| v != "0" && !v.is_empty());
    let (width, height) = WINDOW_SIZE;
    let caps = match browser {
        Browser::Chrome => {
            let mut args = vec![
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={width},{height}"),
                "--no-first-run".into(),
                "--no-default-browser-check".into(),
                "--disable-background-networking".into(),
                "--disable-component-update".into(),
                "--disable-sync".into(),
                "--disable-quic".into(),
                "--disable-dev-shm-usage".into(),
                "--disable-gpu".into(),
                // Each browser-initiated navigation would otherwise swap to a new renderer
                // process, and the back-forward cache keeps old pages alive: a pooled
                // session's reset to about:blank costs ~90 ms with them and ~30 ms without.
                "--disable-features=ProactivelySwapBrowsingInstance,BackForwardCache,RenderDocument"
                    .into(),
            ];
            if !headful {
                args.push("--headless".into());
            }
            if is_root() {
                // Chrome's sandbox refuses to run as root; only then is it turned off.
                args.push("--no-sandbox".into());
            }
            let mut options = json!({ "args": args });
            if let Some(binary) = &binary {
                options["binary"] = json!(binary);
            }
            json!({
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "goog:loggingPrefs": { "browser": "ALL" },
            })
        }
        Browser::Firefox => {
            let mut args = vec!["-profile".to_owned(), profile.display().to_string()];
            if !headful {
                args.push("-headless".into());
            }
            let mut options = json!({
                "args": args,
                "prefs": {
                    "app.update.enabled": false,
                    "browser.shell.checkDefaultBrowser": false,
                    "datareporting.policy.dataSubmissionEnabled": false,
                    "network.captive-portal-service.enabled": false,
                    "network.connectivity-service.enabled": false,
                    "toolkit.telemetry.enabled": false,
                },
            });
            if let Some(binary) = &binary {
                options["binary"] = json!(binary);
            }
            json!({ "browserName": "firefox", "moz:firefoxOptions": options })
        }
    };
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("built as an object"),
    }
}

/// Whether the browsers of the endpoint at `url` run on another machine: its host is neither a
/// loopback address nor `localhost`. Their sessions must not name this machine's paths.
pub(crate) fn on_another_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !crate::urls::is_loopback(ip.into()),
        Some(url::Host::Domain(name)) => !name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `caps` for browsers on another machine (a Grid's nodes): without this machine's browser
/// binary and profile folder (the node's own driver makes a profile there, and deletes it), and
/// without `--no-sandbox`, which is this machine's user's business; the node's stereotype says
/// what its machine needs.
pub(crate) fn for_another_host(caps: &mut Capabilities) {
    for key in ["goog:chromeOptions", "moz:firefoxOptions"] {
        let Some(Value::Object(options)) = caps.get_mut(key) else {
            continue;
        };
        options.remove("binary");
        if let Some(Value::Array(args)) = options.get_mut("args") {
            let mut kept = Vec::new();
            let mut skip_next = false;
            for arg in args.drain(..) {
                let text = arg.as_str().unwrap_or_default();
                if std::mem::take(&mut skip_next) {
                    continue;
                }
                if text == "-profile" {
                    skip_next = true;
                } else if !text.starts_with("--user-data-dir=") && text != "--no-sandbox" {
                    kept.push(arg);
                }
            }
            *args = kept;
        }
    }
}

fn is_root() -> bool {
    #[cfg(unix)]
    return rustix::process::geteuid().is_root();
    #[cfg(not(unix))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_on_another_host_name_no_path_of_this_machine() {
        for browser in [Browser::Chrome, Browser::Firefox] {
            let profile = Path::new("/tmp/harness-profiles-x/p");
            let mut caps = session_capabilities(browser, Some("/usr/bin/b".into()), profile);
            for_another_host(&mut caps);
            let text = Value::Object(caps).to_string();
            assert!(!text.contains("/tmp/harness-profiles-x"), "{text}");
            assert!(!text.contains("/usr/bin/b"), "{text}");
            assert!(!text.contains("--no-sandbox"), "{text}");
            assert!(text.contains("headless"), "{text}");
        }
    }

    #[test]
    fn loopback_and_localhost_are_this_machine() {
        let host = |u: &str| on_another_host(&url::Url::parse(u).unwrap());
        assert!(!host("http://127.0.0.1:4444/"));
        assert!(!host("http://[::1]:4444/"));
        assert!(!host("http://localhost:4444/"));
        assert!(host("http://198.18.3.1:4444/"));
        assert!(host("http://grid.internal:4444/wd/hub"));
    }
}
