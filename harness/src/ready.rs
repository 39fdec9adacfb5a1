//! When a spawned server counts as ready, and where it listens.
//!
//! Only addresses of this machine are handed out: a handshake naming another host is an error at
//! once, and a [`Ready::line`] capture that is not a usable loopback URL is recorded as
//! [`Seen::Rejected`] for the timeout error to report, while the wait goes on.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use crate::Error;
use crate::handshake::{self, HandshakeError, Quoted};
use capture::{ignored, port_from_capture, set_ip, url_from_capture, url_ip};

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
pub struct Ready(Kind, Option<IpAddr>);

#[derive(Debug, Clone)]
enum Kind {
    Handshake,
    Line(Regex),
    /// The first port the process listens on, except these (a Selenium hub's event bus).
    Listening(Vec<u16>),
}

/// What a readiness rule made of one line.
#[derive(Debug)]
pub(crate) enum Seen {
    /// The server is ready at these named listeners.
    Ready {
        listeners: BTreeMap<String, Url>,
        /// The pid a handshake announced; `None` for a [`Ready::line`] match.
        pid: Option<u32>,
    },
    /// The line was meant as a handshake and is malformed.
    Malformed(HandshakeError),
    /// The line matched a [`Ready::line`] regex but what it captured cannot be connected to (port 0,
    /// port 99999, a `url` group that is not a URL, a host that is not this machine). The wait goes
    /// on (a loose regex may match an earlier line than the one meant); the timeout error should say
    /// what was seen, see [`rejected_note`].
    Rejected {
        /// The line, as checked.
        line: String,
        /// Why it does not count, such as `port 0 is not a real port`.
        why: String,
    },
    /// The server was asked to bind a host (`HARNESS_HOST`) and announced loopback instead: fatal.
    IgnoredHost(String),
    /// Not the line we wait for.
    Nothing,
}

/// How a [`Seen::Rejected`] reads in an error: `saw line "port 0": port 0 is not a real port`.
pub(crate) fn rejected_note(line: &str, why: &str) -> String {
    format!("saw line {}: {why}", Quoted::new(line))
}

/// Prints a warning on stderr, where a library user sees it with or without a `tracing`
/// subscriber (and `tracing` gets it too).
fn warn(text: &str) {
    use std::io::Write;
    tracing::warn!("{text}");
    let _ = writeln!(std::io::stderr().lock(), "harness: warning: {text}");
}

/// The warning for a server that announced a wildcard bind, which the harness connects to on loopback.
pub(crate) fn wildcard_warning(listener: &str, ip: IpAddr, line: &str) -> String {
    format!(
        "server line {}: listener `{listener}` is bound to {}, so the server listens on all \
         network interfaces; it should bind 127.0.0.1 (the harness connects on loopback)",
        Quoted::new(line),
        ip
    )
}

impl Ready {
    /// The v1 handshake line on stdout (the default). See [`handshake`](crate::handshake).
    ///
    /// ```
    /// let server = harness::Server::new("my-server").ready(harness::Ready::handshake());
    /// ```
    pub fn handshake() -> Self {
        Self(Kind::Handshake, None)
    }

    /// A line on stdout or stderr matching `regex`, which must have a named group `url` (a full URL)
    /// or `port` (then the URL is `http://127.0.0.1:PORT/`, or on the address of
    /// [`Server::host`](crate::Server::host) when one is asked for). A `localhost` host in a captured URL is
    /// replaced by `127.0.0.1`, since `localhost` may resolve to `::1`, and a wildcard (`0.0.0.0`,
    /// `[::]`) by the loopback address of its family, with a warning. A match whose capture is not a
    /// port from 1 to 65535, or a URL on a loopback address, does not make the server ready; the
    /// timeout error reports it.
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
        Ok(Self(Kind::Line(compiled), None))
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

    /// The first TCP port the server process listens on (else any process of its process group:
    /// the real server behind `npm start` or a shell wrapper), learned from the OS (Linux only:
    /// read from `/proc`, checked every 20 ms, since there is no event for it). For servers that print nothing
    /// usable, such as a Node.js server that calls `server.listen(0)` and logs nothing, or a
    /// Selenium Grid 4 given `[server] port = 0`, which logs `:0` (`harness::grid` does this).
    ///
    /// ```no_run
    /// use harness::{Ready, Server};
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = Server::new("node")
    ///     .args(["-e", "require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1')"])
    ///     .ready(Ready::listening())
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn listening() -> Self {
        Self(Kind::Listening(Vec::new()), None)
    }

    /// [`listening`](Self::listening), on a port other than `ports` (which the server listens on
    /// too, for something else than HTTP).
    #[cfg_attr(not(feature = "browser"), allow(dead_code))]
    pub(crate) fn listening_except(ports: Vec<u16>) -> Self {
        Self(Kind::Listening(ports), None)
    }

    /// The ports a [`listening`](Self::listening) rule passes over.
    pub(crate) fn skipped_ports(&self) -> &[u16] {
        match &self.0 {
            Kind::Listening(skip) => skip,
            _ => &[],
        }
    }

    /// The rule for a server asked to bind `host` ([`Server::host`](crate::Server::host)): that
    /// address is accepted, wildcards are connected to on it, and a loopback address other
    /// than it fails the start.
    pub(crate) fn on_host(mut self, host: Option<IpAddr>) -> Self {
        self.1 = host;
        self
    }

    /// Whether the rule is found by watching the process rather than reading its output.
    pub(crate) fn is_listening(&self) -> bool {
        matches!(self.0, Kind::Listening(_))
    }

    /// Whether the port comes from a regex over the server's output, which may match the wrong
    /// number: the harness then confirms that the server's group listens there.
    pub(crate) fn is_line(&self) -> bool {
        matches!(self.0, Kind::Line(_))
    }

    /// Whether this rule waits for the harness handshake.
    pub(crate) fn is_handshake(&self) -> bool {
        matches!(self.0, Kind::Handshake)
    }

    /// Whether this rule reads stderr as well as stdout.
    pub(crate) fn reads_stderr(&self) -> bool {
        matches!(self.0, Kind::Line(_))
    }

    /// Checks one line (already cleaned of ANSI codes and CR).
    pub(crate) fn check(&self, line: &str) -> Seen {
        match &self.0 {
            Kind::Handshake => match handshake::detect_allowing(line, self.1.as_slice()) {
                None => Seen::Nothing,
                Some(Err(e)) => Seen::Malformed(e),
                Some(Ok(hs)) => {
                    let mut listeners = BTreeMap::new();
                    for (name, mut l) in hs.listening {
                        let ip = l.addr.ip();
                        if ip.is_unspecified() && self.1.is_none() {
                            warn(&wildcard_warning(&name, ip, line));
                        }
                        if let Some(host) = self.1 {
                            match crate::urls::connect_ip_on(ip, Some(host)) {
                                Ok(ip) => set_ip(&mut l.url, ip),
                                Err(why) => return ignored(line, &why),
                            }
                        }
                        listeners.insert(name, l.url);
                    }
                    Seen::Ready {
                        listeners,
                        pid: Some(hs.pid),
                    }
                }
            },
            Kind::Line(regex) => {
                let Some(caps) = regex.captures(line) else {
                    return Seen::Nothing;
                };
                let host = self.1.unwrap_or(Ipv4Addr::LOCALHOST.into());
                let url = if let Some(url) = caps.name("url") {
                    url_from_capture(url.as_str(), line, self.1)
                } else if let Some(port) = caps.name("port") {
                    port_from_capture(port.as_str()).map(|p| {
                        let addr = std::net::SocketAddr::new(host, p);
                        Url::parse(&format!("http://{addr}/")).expect("valid URL")
                    })
                } else {
                    Err("the regex matched but its `url` and `port` groups captured nothing".into())
                };
                match url {
                    Ok(url) if self.1.is_some() => {
                        match url_ip(&url).map(|ip| crate::urls::connect_ip_on(ip, self.1)) {
                            Some(Err(why)) => ignored(line, &why),
                            _ => Seen::Ready {
                                listeners: BTreeMap::from([(crate::urls::PRIMARY.to_owned(), url)]),
                                pid: None,
                            },
                        }
                    }
                    Ok(url) => Seen::Ready {
                        listeners: BTreeMap::from([(crate::urls::PRIMARY.to_owned(), url)]),
                        pid: None,
                    },
                    Err(why) => Seen::Rejected {
                        line: line.to_owned(),
                        why,
                    },
                }
            }
            Kind::Listening(_) => Seen::Nothing,
        }
    }
}

impl Default for Ready {
    fn default() -> Self {
        Self::handshake()
    }
}

/// Text that looks like a server announcing where it listens: a URL with a port, an `IP:port`, a
/// `localhost:port`, or `port N`.
static ANNOUNCEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        https?://[^\s/\x22']+:\d+[^\s\x22']*
        | \blocalhost:\d+\b
        | \b(?:\d{1,3}\.){3}\d{1,3}:\d+\b
        | \[[0-9a-fA-F:.]+\]:\d+
        | \b[Pp][Oo][Rr][Tt]\b[\s:=\x22']*\d+
        ",
    )
    .expect("valid regex")
});

/// The part of `line` that looks like a server announcing an address although the line is not a
/// handshake (` * Running on http://127.0.0.1:5000`, `listening on http://127.0.0.1:41123`,
/// `port 0`), for a timeout to hint at `Ready::line` / `--ready`. `None` for other lines, a
/// handshake line included.
pub(crate) fn looks_like_announcement(line: &str) -> Option<String> {
    let cleaned = handshake::clean_line(line);
    if handshake::detect(&cleaned).is_some() {
        return None;
    }
    ANNOUNCEMENT.find(&cleaned).map(|m| m.as_str().to_owned())
}

/// The `http` listener map for a socket address, connecting on loopback (or `host`, see
/// [`crate::urls::connect_ip_on`]) when it is unspecified.
pub(crate) fn listener_url(
    addr: std::net::SocketAddr,
    host: Option<IpAddr>,
) -> Result<BTreeMap<String, Url>, String> {
    // A JVM listens on IPv6 sockets that take IPv4 too: `::ffff:127.0.0.1` is 127.0.0.1.
    let ip = crate::urls::connect_ip_on(addr.ip().to_canonical(), host)?;
    let url = Url::parse(&format!(
        "http://{}/",
        std::net::SocketAddr::new(ip, addr.port())
    ))
    .expect("a socket address makes a URL");
    Ok(BTreeMap::from([(crate::urls::PRIMARY.to_owned(), url)]))
}

/// Checks the pid a handshake announced against the server the harness started, `leader`, which
/// leads its own process group: the leader itself, or any member of its group (the real server
/// behind a `sh -c` wrapper), is fine. Any other pid gets a warning, not a refusal: it is not
/// wrong in every setup (a server in a container announces its pid in the container's pid
/// namespace), but if it is a real process outside the group, the harness cannot stop it.
/// Warns once, at readiness; returns the warning for tests. Unix only: elsewhere nothing is checked.
pub(crate) fn check_announced_pid(server: &str, announced: u32, leader: u32) -> Option<String> {
    if announced == leader {
        return None;
    }
    #[cfg(unix)]
    {
        let pgid = rustix::process::Pid::from_raw(i32::try_from(announced).ok()?)
            .and_then(|pid| rustix::process::getpgid(Some(pid)).ok());
        if pgid.is_some_and(|g| g.as_raw_pid().cast_unsigned() == leader) {
            return None;
        }
        let text = format!(
            "server `{server}` announced pid {announced} in its handshake, but the harness              started pid {leader} and pid {announced} is not in its process group (another pid              namespace, or a process that left the group): the harness stops only pid {leader}'s              group"
        );
        warn(&text);
        Some(text)
    }
    #[cfg(not(unix))]
    {
        let _ = server;
        None
    }
}

mod capture;
#[cfg(test)]
mod tests;
