//! The address a server binds when remote browsers must reach it ([`Server::host`]), checked
//! before anything starts: an address of this machine, never a wildcard.

use std::net::IpAddr;

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
