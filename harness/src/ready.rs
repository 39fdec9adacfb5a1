//! When a spawned server counts as ready, and where it listens.

use std::collections::BTreeMap;

use regex::Regex;
use url::Url;

use crate::Error;
use crate::handshake::{self, HandshakeError};

/// How the harness learns that a server is ready and where it listens.
///
/// ```
/// use harness::Ready;
///
/// // The default: the server prints a v1 handshake line on stdout.
/// let _ = Ready::handshake();
/// // A server we do not own: a regex with a named group `url` or `port`, tried on every
/// // stdout and stderr line after ANSI codes are stripped.
/// let _ = Ready::line(r"Serving HTTP on \S+ port (?P<port>\d+)")?;
/// # Ok::<(), harness::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ready(Kind);

#[derive(Debug, Clone)]
enum Kind {
    Handshake,
    Line(Regex),
    Listening,
}

/// What a readiness rule made of one line.
#[derive(Debug)]
pub(crate) enum Seen {
    /// The server is ready at these named listeners.
    Ready(BTreeMap<String, Url>),
    /// The line was meant as a handshake and is malformed.
    Malformed(HandshakeError),
    /// Not the line we wait for.
    Nothing,
}

impl Ready {
    /// The v1 handshake line on stdout (the default). See [`handshake`](crate::handshake).
    ///
    /// ```
    /// let server = harness::Server::new("my-server").ready(harness::Ready::handshake());
    /// ```
    pub fn handshake() -> Self {
        Self(Kind::Handshake)
    }

    /// A line on stdout or stderr matching `regex`, which must have a named group `url` (a full URL)
    /// or `port` (then the URL is `http://127.0.0.1:PORT/`). A `localhost` host in a captured URL is
    /// replaced by `127.0.0.1`, since `localhost` may resolve to `::1`.
    ///
    /// ```
    /// use harness::Ready;
    /// // Vite prints `Local:   http://localhost:5173/`.
    /// let vite = Ready::line(r"Local:\s+(?P<url>\S+)")?;
    /// assert!(Ready::line(r"port (\d+)").is_err()); // no `url` or `port` group
    /// # Ok::<(), harness::Error>(())
    /// ```
    pub fn line(regex: &str) -> Result<Self, Error> {
        let compiled = Regex::new(regex).map_err(|source| Error::BadRegex {
            regex: regex.to_owned(),
            source,
        })?;
        let has = |group| compiled.capture_names().flatten().any(|n| n == group);
        if !has("url") && !has("port") {
            return Err(Error::RegexWithoutGroup {
                regex: regex.to_owned(),
            });
        }
        Ok(Self(Kind::Line(compiled)))
    }

    /// chromedriver's `ChromeDriver was started successfully on port N.`
    ///
    /// ```no_run
    /// use harness::{Ready, Server};
    /// # async fn f() -> Result<(), harness::Error> {
    /// let driver = Server::new("chromedriver")
    ///     .arg("--port=0")
    ///     .ready(Ready::chromedriver())
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn chromedriver() -> Self {
        Self::line(r"ChromeDriver was started successfully on port (?P<port>\d+)")
            .expect("valid preset")
    }

    /// geckodriver's `Listening on IP:N`.
    ///
    /// ```no_run
    /// use harness::{Ready, Server};
    /// # async fn f() -> Result<(), harness::Error> {
    /// let driver = Server::new("geckodriver")
    ///     .args(["--port", "0", "--websocket-port", "0", "--host", "127.0.0.1"])
    ///     .ready(Ready::geckodriver())
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn geckodriver() -> Self {
        Self::line(r"Listening on (?P<url>\S+:\d+)").expect("valid preset")
    }

    /// The first TCP port the server process listens on, learned from the OS (Linux only: read from
    /// `/proc`, checked every 20 ms, since there is no event for it). For servers that print nothing
    /// usable, such as a Selenium 3 hub started with `-port 0`, which binds a free port and logs `0`.
    ///
    /// ```no_run
    /// use harness::{Ready, Server};
    /// # async fn f() -> Result<(), harness::Error> {
    /// let hub = Server::new("java")
    ///     .args(["-jar", "selenium-server-standalone.jar", "-role", "hub", "-port", "0"])
    ///     .ready(Ready::listening())
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn listening() -> Self {
        Self(Kind::Listening)
    }

    /// Whether the rule is found by watching the process rather than reading its output.
    pub(crate) fn is_listening(&self) -> bool {
        matches!(self.0, Kind::Listening)
    }

    /// Whether this rule reads stderr as well as stdout.
    pub(crate) fn reads_stderr(&self) -> bool {
        matches!(self.0, Kind::Line(_))
    }

    /// Checks one line (already cleaned of ANSI codes and CR).
    pub(crate) fn check(&self, line: &str) -> Seen {
        match &self.0 {
            Kind::Handshake => match handshake::detect(line) {
                None => Seen::Nothing,
                Some(Err(e)) => Seen::Malformed(e),
                Some(Ok(hs)) => Seen::Ready(
                    hs.listening
                        .into_iter()
                        .map(|(name, l)| (name, l.url))
                        .collect(),
                ),
            },
            Kind::Line(regex) => {
                let Some(caps) = regex.captures(line) else {
                    return Seen::Nothing;
                };
                let url = if let Some(url) = caps.name("url") {
                    url_from_capture(url.as_str())
                } else {
                    caps.name("port")
                        .and_then(|p| p.as_str().parse::<u16>().ok())
                        .filter(|p| *p != 0)
                        .and_then(|p| Url::parse(&format!("http://127.0.0.1:{p}/")).ok())
                };
                match url {
                    Some(url) => Seen::Ready(BTreeMap::from([("http".to_owned(), url)])),
                    None => Seen::Nothing,
                }
            }
            Kind::Listening => Seen::Nothing,
        }
    }
}

impl Default for Ready {
    fn default() -> Self {
        Self::handshake()
    }
}

fn url_from_capture(text: &str) -> Option<Url> {
    let text = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let mut url = Url::parse(&text).ok()?;
    match url.host_str() {
        Some("localhost" | "0.0.0.0") => url.set_host(Some("127.0.0.1")).ok()?,
        Some("[::]") => url.set_host(Some("[::1]")).ok()?,
        _ => {}
    }
    if url.port_or_known_default()? == 0 {
        return None;
    }
    crate::handshake::ensure_trailing_slash(&mut url);
    Some(url)
}

/// The `http` listener map for a socket address, connecting on loopback when it is unspecified.
pub(crate) fn listener_url(addr: std::net::SocketAddr) -> BTreeMap<String, Url> {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    let url = Url::parse(&format!(
        "http://{}/",
        std::net::SocketAddr::new(ip, addr.port())
    ))
    .expect("a socket address makes a URL");
    BTreeMap::from([("http".to_owned(), url)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready_url(ready: &Ready, line: &str) -> String {
        match ready.check(line) {
            Seen::Ready(map) => map["http"].to_string(),
            other => panic!("not ready on {line:?}: {other:?}"),
        }
    }

    #[test]
    fn presets_match_real_driver_lines() {
        assert_eq!(
            ready_url(
                &Ready::chromedriver(),
                "ChromeDriver was started successfully on port 39401."
            ),
            "http://127.0.0.1:39401/"
        );
        assert_eq!(
            ready_url(
                &Ready::geckodriver(),
                "1700000000000\tgeckodriver\tINFO\tListening on 127.0.0.1:4444"
            ),
            "http://127.0.0.1:4444/"
        );
    }

    #[test]
    fn url_group_rewrites_localhost() {
        let ready = Ready::line(r"Local:\s+(?P<url>\S+)").unwrap();
        assert_eq!(
            ready_url(&ready, "  ➜  Local:   http://localhost:5173/"),
            "http://127.0.0.1:5173/"
        );
    }

    #[test]
    fn regex_needs_a_url_or_port_group() {
        let e = Ready::line(r"listening on (\d+)").unwrap_err().to_string();
        assert!(e.contains("no named group `url` or `port`"), "{e}");
        assert!(Ready::line(r"(?P<port>").is_err());
    }

    #[test]
    fn url_group_connects_on_loopback_and_keeps_a_base_path() {
        let ready = Ready::line(r"on (?P<url>\S+)").unwrap();
        assert_eq!(
            ready_url(&ready, "on http://0.0.0.0:8000"),
            "http://127.0.0.1:8000/"
        );
        assert_eq!(
            ready_url(&ready, "on http://[::]:8000/app"),
            "http://[::1]:8000/app/"
        );
        assert!(matches!(
            ready.check("on http://127.0.0.1:0/"),
            Seen::Nothing
        ));
    }

    #[test]
    fn port_zero_is_not_ready() {
        let ready = Ready::line(r"port (?P<port>\d+)").unwrap();
        assert!(matches!(ready.check("port 0"), Seen::Nothing));
        assert!(matches!(ready.check("port 99999"), Seen::Nothing));
    }
}
