//! What a client's `POST /session` asks for, and whether the pool's warm sessions can honour it.
//!
//! A warm session is the library's session (headless, `--no-sandbox` as root, 1280×800, its own
//! profile). A request matches when every capability it sets is one such a session already has
//! or one that needs nothing of the browser: `timeouts` (applied at lease), `webSocketUrl`
//! (stripped: BiDi is not proxied), and vendor capabilities of other browsers (ignored, as their
//! drivers do).

use std::path::Path;

use harness::Browser;
use serde_json::{Map, Value};

/// Browser arguments the warm sessions already run with (or that change nothing for them).
pub(crate) const COMPATIBLE_ARGS: &[&str] = &[
    "--headless",
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,800",
    "-headless",
];

/// What to do with one new-session request.
#[derive(Debug, PartialEq)]
pub(crate) enum Wanted {
    /// A warm session will do; apply these timeouts at lease.
    Warm {
        /// The request's `timeouts` capability, if any.
        timeouts: Option<Value>,
    },
    /// Only a fresh session will do: these are the client's capabilities (without
    /// `webSocketUrl`), to merge over the library's; `why` says what the warm ones lack.
    OneOff {
        /// The client's capabilities.
        caps: Map<String, Value>,
        /// Why no warm session matched.
        why: String,
    },
}

/// Reads a W3C new-session body (`capabilities.alwaysMatch` merged with each `firstMatch`; the
/// legacy `desiredCapabilities` when there is no `capabilities`) for a pool of `browser` whose
/// browser binary is `binary`. `Err` (a W3C `session not created` message) when no candidate is
/// for this browser at all.
pub(crate) fn wanted(body: &Value, browser: Browser, binary: &Path) -> Result<Wanted, String> {
    let candidates = candidates(body)?;
    let mut reasons = Vec::new();
    let mut first_own = None;
    for candidate in candidates {
        match candidate.get("browserName").and_then(Value::as_str) {
            Some(name) if name.parse::<Browser>().ok() != Some(browser) => {
                reasons.push(format!(
                    "browserName {name:?} is not this endpoint's browser ({browser})"
                ));
                continue;
            }
            _ => {}
        }
        match unmet(&candidate, browser, binary) {
            None => {
                return Ok(Wanted::Warm {
                    timeouts: candidate.get("timeouts").cloned(),
                });
            }
            Some(why) => {
                reasons.push(why);
                first_own.get_or_insert(candidate);
            }
        }
    }
    match first_own {
        Some(mut caps) => {
            caps.remove("webSocketUrl");
            Ok(Wanted::OneOff {
                caps,
                why: reasons.join("; "),
            })
        }
        None => Err(format!(
            "this harness endpoint serves {browser} sessions only: {}",
            reasons.join("; ")
        )),
    }
}

/// The merged candidates of a new-session body.
fn candidates(body: &Value) -> Result<Vec<Map<String, Value>>, String> {
    let object = |value: Option<&Value>, what: &str| match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(other) => Err(format!("{what} must be a JSON object, got {other}")),
    };
    let Some(capabilities) = body.get("capabilities") else {
        return Ok(vec![object(
            body.get("desiredCapabilities"),
            "desiredCapabilities",
        )?]);
    };
    let always = object(capabilities.get("alwaysMatch"), "alwaysMatch")?;
    let firsts = match capabilities.get("firstMatch") {
        None | Some(Value::Null) => vec![Value::Object(Map::new())],
        Some(Value::Array(list)) if list.is_empty() => vec![Value::Object(Map::new())],
        Some(Value::Array(list)) => list.clone(),
        Some(other) => return Err(format!("firstMatch must be a JSON array, got {other}")),
    };
    firsts
        .iter()
        .map(|first| {
            let mut merged = always.clone();
            merged.extend(object(Some(first), "a firstMatch entry")?);
            Ok(merged)
        })
        .collect()
}

/// What `caps` asks for that a warm session of `browser` does not have, if anything.
fn unmet(caps: &Map<String, Value>, browser: Browser, binary: &Path) -> Option<String> {
    let (own_prefix, options_key) = match browser {
        Browser::Chrome => ("goog:", "goog:chromeOptions"),
        Browser::Firefox => ("moz:", "moz:firefoxOptions"),
    };
    for (key, value) in caps {
        let fine = match key.as_str() {
            "browserName" | "timeouts" | "webSocketUrl" => true,
            "pageLoadStrategy" => value == "normal",
            "acceptInsecureCerts" | "strictFileInteractability" => value == false,
            "platformName" => value
                .as_str()
                .is_some_and(|p| p.eq_ignore_ascii_case("linux") || p.eq_ignore_ascii_case("any")),
            // The warm Chrome sessions keep the browser log, as the library's do.
            "goog:loggingPrefs" => browser == Browser::Chrome,
            // Selenium asks for Firefox's CDP address by default; nothing uses it through here.
            "moz:debuggerAddress" => true,
            key if key == options_key => match options_unmet(value, binary) {
                None => true,
                Some(why) => return Some(format!("{options_key}: {why}")),
            },
            key if key.contains(':') && !key.starts_with(own_prefix) => true,
            _ => false,
        };
        if !fine {
            return Some(format!("warm sessions cannot honour {key}: {value}"));
        }
    }
    None
}

/// What browser options ask for that warm sessions do not have.
fn options_unmet(options: &Value, binary: &Path) -> Option<String> {
    let Some(options) = options.as_object() else {
        return Some(format!("must be an object, got {options}"));
    };
    for (key, value) in options {
        let fine = match key.as_str() {
            "args" => {
                let list = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if let Some(arg) = list
                    .iter()
                    .find(|a| !a.as_str().is_some_and(|a| COMPATIBLE_ARGS.contains(&a)))
                {
                    return Some(format!(
                        "argument {arg} is not one warm sessions run with (those are {})",
                        COMPATIBLE_ARGS.join(" ")
                    ));
                }
                value.is_array()
            }
            "extensions" => value.as_array().is_some_and(Vec::is_empty),
            // Selenium's Firefox options turn off CDP, which the warm sessions do not use.
            "prefs" => value.as_object().is_some_and(|prefs| {
                prefs
                    .iter()
                    .all(|(k, v)| k == "remote.active-protocols" && v == 1)
            }),
            "w3c" => value == true,
            "binary" => value
                .as_str()
                .is_some_and(|given| same_file(Path::new(given), binary)),
            _ => false,
        };
        if !fine {
            return Some(format!("warm sessions cannot honour {key}: {value}"));
        }
    }
    None
}

/// Whether two paths name the same file (symbolic links followed).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// `client` merged over the library's capabilities `base`: the client's keys win, except that
/// browser arguments are added to the library's (and `prefs` merged), so a one-off session keeps
/// its temporary profile, headless mode and `--no-sandbox` as root unless the client overrides
/// them.
pub(crate) fn merge_over(
    mut base: Map<String, Value>,
    client: Map<String, Value>,
    browser: Browser,
) -> Map<String, Value> {
    let options_key = match browser {
        Browser::Chrome => "goog:chromeOptions",
        Browser::Firefox => "moz:firefoxOptions",
    };
    for (key, value) in client {
        match (key.as_str(), base.get_mut(&key), value) {
            ("webSocketUrl", _, _) => {}
            (k, Some(Value::Object(ours)), Value::Object(theirs)) if k == options_key => {
                for (option, value) in theirs {
                    match (option.as_str(), ours.get_mut(&option), value) {
                        ("args", Some(Value::Array(args)), Value::Array(more)) => {
                            for arg in more {
                                if !args.contains(&arg) {
                                    args.push(arg);
                                }
                            }
                        }
                        ("prefs", Some(Value::Object(prefs)), Value::Object(more)) => {
                            prefs.extend(more);
                        }
                        (_, _, value) => {
                            ours.insert(option, value);
                        }
                    }
                }
            }
            (_, _, value) => {
                base.insert(key, value);
            }
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chrome(body: Value) -> Result<Wanted, String> {
        wanted(&body, Browser::Chrome, Path::new("/usr/bin/chromium"))
    }

    #[test]
    fn stock_clients_match_the_warm_sessions() {
        // fantoccini's request for {"browserName":"chrome"}.
        let fantoccini = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"w3c": true}}, "firstMatch": [{}]}});
        assert_eq!(chrome(fantoccini), Ok(Wanted::Warm { timeouts: None }));
        // Selenium 4's ChromeOptions with --headless=new, and a BiDi request.
        let selenium = json!({"capabilities": {"firstMatch": [{}], "alwaysMatch": {
            "browserName": "chrome", "pageLoadStrategy": "normal", "webSocketUrl": true,
            "timeouts": {"implicit": 500},
            "goog:chromeOptions": {"extensions": [], "args": ["--headless=new"]}}}});
        assert_eq!(
            chrome(selenium),
            Ok(Wanted::Warm {
                timeouts: Some(json!({"implicit": 500}))
            })
        );
        assert_eq!(chrome(json!({})), Ok(Wanted::Warm { timeouts: None }));
    }

    #[test]
    fn seleniums_firefox_defaults_ask_for_insecure_certificates_only_a_fresh_session_accepts() {
        let body = json!({"capabilities": {"alwaysMatch": {"browserName": "firefox",
            "acceptInsecureCerts": true, "moz:debuggerAddress": true, "pageLoadStrategy": "normal",
            "moz:firefoxOptions": {"prefs": {"remote.active-protocols": 1}, "args": ["-headless"]}}}});
        let firefox = |body: &Value| wanted(body, Browser::Firefox, Path::new("/usr/bin/firefox"));
        let Ok(Wanted::OneOff { why, .. }) = firefox(&body) else {
            panic!("a one-off session");
        };
        assert!(why.contains("acceptInsecureCerts"), "{why}");
        let mut secure = body.clone();
        secure["capabilities"]["alwaysMatch"]["acceptInsecureCerts"] = json!(false);
        assert_eq!(firefox(&secure), Ok(Wanted::Warm { timeouts: None }));
    }

    #[test]
    fn what_warm_sessions_lack_gets_a_one_off_session_saying_why() {
        let body = json!({"capabilities": {"alwaysMatch": {"webSocketUrl": true,
            "goog:chromeOptions": {"args": ["--lang=fr"]}}}});
        let Ok(Wanted::OneOff { caps, why }) = chrome(body) else {
            panic!("a one-off session");
        };
        assert!(why.contains("--lang=fr"), "{why}");
        assert!(!caps.contains_key("webSocketUrl"), "{caps:?}");
        let eager = json!({"capabilities": {"alwaysMatch": {"pageLoadStrategy": "eager"}}});
        assert!(matches!(chrome(eager), Ok(Wanted::OneOff { .. })));
    }

    #[test]
    fn another_browser_is_refused_naming_it() {
        let body = json!({"capabilities": {"alwaysMatch": {"browserName": "firefox"}}});
        let why = chrome(body).unwrap_err();
        assert!(
            why.contains("\"firefox\"") && why.contains("chrome"),
            "{why}"
        );
        let bad = json!({"capabilities": {"alwaysMatch": 3}});
        assert!(chrome(bad).unwrap_err().contains("alwaysMatch"));
    }

    #[test]
    fn one_off_capabilities_keep_the_librarys_arguments() {
        let base = json!({"browserName": "chrome", "goog:chromeOptions": {"args": ["--headless"]}});
        let client = json!({"goog:chromeOptions": {"args": ["--lang=fr", "--headless"]},
            "webSocketUrl": true, "acceptInsecureCerts": true});
        let merged = merge_over(
            base.as_object().unwrap().clone(),
            client.as_object().unwrap().clone(),
            Browser::Chrome,
        );
        assert_eq!(
            Value::Object(merged),
            json!({"browserName": "chrome", "acceptInsecureCerts": true,
                "goog:chromeOptions": {"args": ["--headless", "--lang=fr"]}})
        );
    }
}
