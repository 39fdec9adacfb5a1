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

fn is_root() -> bool {
    #[cfg(unix)]
    return rustix::process::geteuid().is_root();
    #[cfg(not(unix))]
    false
}
