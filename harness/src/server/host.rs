//! The address a server binds when remote browsers must reach it ([`Server::host`]), checked
//! before anything starts: an address of this machine, never a wildcard. And the warning for a
//! server left on loopback while `WEBDRIVER_URL` names a WebDriver endpoint on another host,
//! whose browsers cannot reach it.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use url::{Host, Url};

use super::Server;
use crate::Error;

/// The environment variable that names the host to bind: read from the test process as the
/// default of [`Server::host`], and passed to the server.
pub(crate) const HOST_ENV: &str = "HARNESS_HOST";

impl Server {
    /// Makes the server reachable from other machines (browsers of a Selenium Grid): it is asked
    /// to bind `ip`, an address of this machine, through `HARNESS_HOST=<ip>` in its environment,
    /// and its URL uses `ip`. Default: `HARNESS_HOST` of this process when set and not empty,
    /// else loopback. A wildcard (`0.0.0.0`) or an address that is not on this machine is refused
    /// before anything starts; a server that announces loopback instead fails at once.
    ///
    /// ```no_run
    /// use std::net::Ipv4Addr;
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .host(Ipv4Addr::new(127, 0, 0, 2).into())
    ///     .spawn()
    ///     .await?;
    /// assert_eq!(web.url().host_str(), Some("127.0.0.2"));
    /// # Ok(()) }
    /// ```
    pub fn host(mut self, ip: IpAddr) -> Self {
        self.host = Some(ip);
        self
    }

    /// The host the server must bind: the one given to [`host`](Self::host), else
    /// `HARNESS_HOST` when set and not empty, checked; `None`: loopback, as by default.
    pub(crate) fn checked_host(&self) -> Result<Option<IpAddr>, Error> {
        let host = match self.host {
            Some(ip) => ip,
            None => match std::env::var(HOST_ENV) {
                Ok(value) if !value.is_empty() => {
                    value.trim().parse().map_err(|_| Error::BadHost {
                        host: value.clone(),
                        reason: format!(
                            "${HOST_ENV} = {value:?} is not an IP address; give an address of \
                             this machine, e.g. HARNESS_HOST=127.0.0.1"
                        ),
                    })?
                }
                Ok(_) | Err(std::env::VarError::NotPresent) => return Ok(None),
                Err(std::env::VarError::NotUnicode(value)) => {
                    return Err(Error::BadHost {
                        host: value.to_string_lossy().into_owned(),
                        reason: format!("${HOST_ENV} is not valid UTF-8; give an IP address"),
                    });
                }
            },
        };
        check(host)?;
        Ok(Some(host))
    }
}

/// Refuses a wildcard and an address that is not on this machine (it cannot be bound).
fn check(host: IpAddr) -> Result<(), Error> {
    let bad = |reason: String| Error::BadHost {
        host: host.to_string(),
        reason,
    };
    if host.is_unspecified() {
        return Err(bad(
            "never advertise 0.0.0.0: give an address of this machine that the browsers can \
             reach, e.g. the bridge address"
                .into(),
        ));
    }
    std::net::TcpListener::bind((host, 0)).map_err(|e| {
        bad(format!(
            "{host} is not an address of this machine (bind failed: {e}); give one that the \
             browsers can reach, e.g. the bridge address"
        ))
    })?;
    Ok(())
}

/// Warns, once per process, when `WEBDRIVER_URL` names an endpoint on another host and server
/// `name`, ready at `url`, is on loopback: the endpoint's browsers would open their own
/// machine's loopback. A server given a loopback [`Server::host`] on purpose (as the harness's
/// own drivers are) is not warned about: pass `asked` = the host it was asked to bind.
pub(crate) fn warn_if_unreachable(name: &str, url: &Url, asked: Option<IpAddr>) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if asked.is_some() || WARNED.load(Ordering::Relaxed) {
        return;
    }
    let Some(webdriver) = std::env::var("WEBDRIVER_URL").ok() else {
        return;
    };
    if let Some(text) = unreachable_warning(name, url, &webdriver)
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        use std::io::Write;
        // At info, not warn: the CLI shows warn events on stderr, where this line already is.
        tracing::info!("{text}");
        let _ = writeln!(std::io::stderr().lock(), "harness: warning: {text}");
    }
}

/// The warning for server `name` at `url` when the WebDriver endpoint `webdriver` is on another
/// host and `url` on loopback; shown without the endpoint's user name and password.
fn unreachable_warning(name: &str, url: &Url, webdriver: &str) -> Option<String> {
    let mut endpoint = Url::parse(webdriver.trim()).ok()?;
    if is_loopback(endpoint.host()?) || !url.host().is_some_and(is_loopback) {
        return None;
    }
    // Only URLs that cannot have a user name refuse these; those have none to remove.
    let _ = endpoint.set_username("");
    let _ = endpoint.set_password(None);
    Some(format!(
        "server `{name}` is at {url}, which the browsers of the WebDriver endpoint at {endpoint} \
         (another host) cannot reach; bind an address they can reach with HARNESS_HOST=ADDR \
         (Server::host, harness run --host)"
    ))
}

fn is_loopback(host: Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::unreachable_warning;

    #[test]
    fn only_a_loopback_server_with_a_remote_endpoint_is_warned_about() {
        let local = Url::parse("http://127.0.0.1:4101/").unwrap();
        let warning =
            unreachable_warning("web", &local, "http://grid:s3cret@198.18.3.1:4444/wd/hub")
                .expect("a remote endpoint");
        assert_eq!(
            warning,
            "server `web` is at http://127.0.0.1:4101/, which the browsers of the WebDriver \
             endpoint at http://198.18.3.1:4444/wd/hub (another host) cannot reach; bind an \
             address they can reach with HARNESS_HOST=ADDR (Server::host, harness run --host)"
        );
        let ipv6 = Url::parse("http://[::1]:4101/").unwrap();
        assert!(unreachable_warning("web", &ipv6, "http://selenium-hub:4444").is_some());
        for endpoint in [
            "http://127.0.0.1:4444/wd/hub",
            "http://127.8.0.1:4444",
            "http://localhost:4444",
            "http://[::1]:4444",
            "not a url",
        ] {
            assert_eq!(
                unreachable_warning("web", &local, endpoint),
                None,
                "{endpoint}"
            );
        }
        let reachable = Url::parse("http://198.18.3.9:4101/").unwrap();
        assert_eq!(
            unreachable_warning("web", &reachable, "http://198.18.3.1:4444"),
            None
        );
    }
}
