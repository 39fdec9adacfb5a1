//! The TOML configuration files a Selenium Grid 4 server reads (`--config FILE`).
//!
//! Grid ignores `--port 0` on its command line (it binds 4444) but binds an OS-assigned port for
//! `[server] port = 0` in a config file, so the harness always writes one. Every address is
//! written out: nothing binds a wildcard, and each listener is on the address the caller gave.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::Browser;

/// The event bus of a hub: where nodes publish to it and subscribe to it (ZeroMQ over TCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventBus {
    pub(crate) publish: SocketAddr,
    pub(crate) subscribe: SocketAddr,
}

impl EventBus {
    /// Grid's usual ports (4442, 4443) on `host`: a hub's own address keeps two hubs apart.
    pub(crate) fn on(host: IpAddr) -> Self {
        Self {
            publish: SocketAddr::new(host, 4442),
            subscribe: SocketAddr::new(host, 4443),
        }
    }

    fn write(&self, toml: &mut String, bind: bool) {
        toml.push_str("[events]\n");
        let _ = writeln!(toml, "publish = \"tcp://{}\"", self.publish);
        let _ = writeln!(toml, "subscribe = \"tcp://{}\"", self.subscribe);
        let _ = writeln!(toml, "bind = {bind}");
    }
}

/// One browser a node offers: the driver and browser binaries on the node's machine and the
/// options every session of it gets.
#[derive(Debug, Clone)]
pub(crate) struct Offer {
    pub(crate) browser: Browser,
    pub(crate) driver: std::path::PathBuf,
    pub(crate) binary: std::path::PathBuf,
    pub(crate) max_sessions: u32,
}

impl Offer {
    /// The stereotype: what the node advertises and the options its sessions start from
    /// (headless; Chrome without its sandbox when the node runs as root, which it refuses).
    fn stereotype(&self, root: bool) -> serde_json::Value {
        match self.browser {
            Browser::Chrome => {
                let mut args = vec!["--headless=new", "--disable-dev-shm-usage"];
                if root {
                    args.push("--no-sandbox");
                }
                json!({
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": self.binary, "args": args },
                })
            }
            Browser::Firefox => json!({
                "browserName": "firefox",
                "moz:firefoxOptions": { "binary": self.binary, "args": ["-headless"] },
            }),
        }
    }

    fn write(&self, toml: &mut String, root: bool) {
        toml.push_str("[[node.driver-configuration]]\n");
        let _ = writeln!(toml, "display-name = {}", quoted(self.browser.name()));
        let _ = writeln!(
            toml,
            "webdriver-executable = {}",
            quoted(&self.driver.display().to_string())
        );
        let _ = writeln!(toml, "max-sessions = {}", self.max_sessions);
        let _ = writeln!(
            toml,
            "stereotype = {}",
            quoted(&self.stereotype(root).to_string())
        );
    }
}

/// The browsers a node (or standalone Grid) serves, and how many sessions of each at once.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    pub(crate) browsers: Vec<Browser>,
    pub(crate) max_sessions: u32,
}

impl Default for Slots {
    fn default() -> Self {
        Self {
            browsers: Vec::new(),
            max_sessions: 2,
        }
    }
}

impl Slots {
    /// Adds `browser`, once.
    pub(crate) fn add(&mut self, browser: Browser) {
        if !self.browsers.contains(&browser) {
            self.browsers.push(browser);
        }
    }

    /// The drivers and binaries of the browsers on this machine.
    pub(crate) fn offers(&self) -> Result<Vec<Offer>, crate::Error> {
        self.browsers
            .iter()
            .map(|&browser| {
                Ok(Offer {
                    browser,
                    driver: browser.find_driver()?,
                    binary: browser.find_binary()?,
                    max_sessions: self.max_sessions,
                })
            })
            .collect()
    }
}

/// What a hub or standalone server is asked for beyond its address.
#[derive(Debug, Clone, Default)]
pub(crate) struct Queue {
    pub(crate) session_request_timeout: Option<Duration>,
    pub(crate) reject_unsupported_caps: bool,
}

impl Queue {
    fn write(&self, toml: &mut String) {
        if let Some(timeout) = self.session_request_timeout {
            toml.push_str("[sessionqueue]\n");
            let _ = writeln!(
                toml,
                "session-request-timeout = {}",
                timeout.as_secs().max(1)
            );
        }
        toml.push_str("[distributor]\n");
        let _ = writeln!(
            toml,
            "reject-unsupported-caps = {}",
            self.reject_unsupported_caps
        );
    }
}

fn server(toml: &mut String, host: IpAddr, port: u16) {
    toml.push_str("[server]\n");
    let _ = writeln!(toml, "host = {}", quoted(&host.to_string()));
    let _ = writeln!(toml, "port = {port}\n");
}

fn node(toml: &mut String, offers: &[Offer], root: bool) {
    let total: u32 = offers.iter().map(|o| o.max_sessions).sum();
    toml.push_str("[node]\n");
    // Never look for drivers on PATH or download one (Selenium Manager needs the internet).
    toml.push_str("detect-drivers = false\nselenium-manager = false\n");
    // Grid caps a node at its CPU count unless told otherwise.
    let _ = writeln!(toml, "max-sessions = {total}\noverride-max-sessions = true");
    for offer in offers {
        offer.write(toml, root);
    }
}

/// A standalone server (hub and node in one process) on `host`, port 0.
pub(crate) fn standalone(host: IpAddr, queue: &Queue, offers: &[Offer], root: bool) -> String {
    let mut toml = String::new();
    server(&mut toml, host, 0);
    queue.write(&mut toml);
    node(&mut toml, offers, root);
    toml
}

/// A hub on `host`, port 0, with its event bus bound at `events`.
pub(crate) fn hub(host: IpAddr, events: &EventBus, queue: &Queue) -> String {
    let mut toml = String::new();
    server(&mut toml, host, 0);
    events.write(&mut toml, true);
    queue.write(&mut toml);
    toml
}

/// A node on `host:port` (the URI it registers with) joining the hub whose bus is `events`.
pub(crate) fn node_of(
    host: IpAddr,
    port: u16,
    events: &EventBus,
    offers: &[Offer],
    root: bool,
) -> String {
    let mut toml = String::new();
    server(&mut toml, host, port);
    events.write(&mut toml, false);
    node(&mut toml, offers, root);
    toml
}

/// A TOML basic string: JSON's escapes are TOML's for the characters a path or JSON holds.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Writes `toml` as `name` in `dir`.
pub(crate) fn write(dir: &Path, name: &str, toml: &str) -> Result<std::path::PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, toml)
        .map_err(|e| format!("cannot write the Grid config {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn chrome() -> Offer {
        Offer {
            browser: Browser::Chrome,
            driver: "/usr/bin/chromedriver".into(),
            binary: "/usr/bin/chromium".into(),
            max_sessions: 2,
        }
    }

    #[test]
    fn a_hub_binds_its_own_address_on_port_0_and_its_bus_there() {
        let host = IpAddr::V4(Ipv4Addr::new(198, 18, 3, 1));
        let toml = hub(host, &EventBus::on(host), &Queue::default());
        assert!(toml.contains("host = \"198.18.3.1\"\nport = 0\n"), "{toml}");
        assert!(
            toml.contains("publish = \"tcp://198.18.3.1:4442\""),
            "{toml}"
        );
        assert!(
            toml.contains("subscribe = \"tcp://198.18.3.1:4443\""),
            "{toml}"
        );
        assert!(toml.contains("bind = true"), "{toml}");
        assert!(!toml.contains("0.0.0.0"), "{toml}");
    }

    #[test]
    fn a_node_offers_its_browsers_headless_and_asks_for_no_download() {
        let host = IpAddr::V4(Ipv4Addr::new(198, 18, 3, 2));
        let bus = EventBus::on(IpAddr::V4(Ipv4Addr::new(198, 18, 3, 1)));
        let toml = node_of(host, 5555, &bus, &[chrome()], true);
        assert!(toml.contains("port = 5555"), "{toml}");
        assert!(toml.contains("bind = false"), "{toml}");
        assert!(toml.contains("selenium-manager = false"), "{toml}");
        assert!(toml.contains("webdriver-executable = \"/usr/bin/chromedriver\""));
        // The stereotype is a TOML string holding JSON: its quotes are escaped.
        assert!(toml.contains(r#"\"--headless=new\""#), "{toml}");
        assert!(toml.contains(r#"\"--no-sandbox\""#), "{toml}");
        let not_root = node_of(host, 5555, &bus, &[chrome()], false);
        assert!(!not_root.contains("--no-sandbox"), "{not_root}");
    }

    #[test]
    fn queue_settings_are_written_only_when_asked() {
        let queue = Queue {
            session_request_timeout: Some(Duration::from_secs(5)),
            reject_unsupported_caps: true,
        };
        let toml = standalone(IpAddr::V4(Ipv4Addr::LOCALHOST), &queue, &[chrome()], false);
        assert!(toml.contains("session-request-timeout = 5"), "{toml}");
        assert!(toml.contains("reject-unsupported-caps = true"), "{toml}");
        let plain = standalone(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            &Queue::default(),
            &[chrome()],
            false,
        );
        assert!(!plain.contains("session-request-timeout"), "{plain}");
    }
}
