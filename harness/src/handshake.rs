//! Handshake protocol v1: how a server tells the harness where it listens.
//!
//! A server binds port 0, lets the OS pick a free port, and then prints **one line** on stdout:
//!
//! ```text
//! {"harness":1,"pid":4242,"listening":{"http":"http://127.0.0.1:41507"}}
//! ```
//!
//! - `harness`: the protocol version, the integer `1`.
//! - `pid`: the server's process id, an integer. The harness checks it against the process it
//!   started: that process, or any member of its process group (the real server behind a `sh -c`
//!   wrapper), is fine; any other pid gets a warning, not an error, since a server in a container
//!   announces its pid in the container's pid namespace.
//! - `listening`: one or more named listeners, each a full `http` or `https` URL with the literal bound
//!   IP address (never a host name such as `localhost`, which may resolve to `::1`) and an explicit,
//!   non-zero port. An optional path is kept (`http://127.0.0.1:41507/app/`).
//! - The address must be a loopback address of this machine (`127.0.0.1`, any `127.x.y.z`, `::1`):
//!   the harness only connects to servers on this machine, so `10.1.2.3` or `8.8.8.8` is refused
//!   with an error naming it. A wildcard bind (`0.0.0.0`, `::`) is accepted and connected to on the
//!   loopback address of its family (the harness warns that such a server listens on all interfaces
//!   and should bind `127.0.0.1`). [`parse_allowing`] accepts further addresses of this machine.
//!
//! Any other output may come before and after the line, on stdout and stderr. The reader tolerates
//! CRLF line endings, ANSI colour codes, a leading byte-order mark (`U+FEFF`), NUL bytes and white
//! space around the line, and a line that arrives split across several reads. A
//! line is taken for a handshake when it is a JSON object with a top-level `"harness"` key
//! ([`detect`]); such a line that breaks a rule above is an error that quotes it, never silently
//! skipped.
//!
//! This module needs only `serde_json` and `url`: build `harness` with `default-features = false` to
//! use [`announce`] from a server without compiling tokio's process support, reqwest or fantoccini.
//!
//! ```
//! use std::net::TcpListener;
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! harness::handshake::announce([("http", listener.local_addr()?)])?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

use serde_json::{Map, Value};
use url::Url;

mod error;
mod lines;

pub use error::{HandshakeError, Quoted};
pub use lines::clean_line;
#[cfg(feature = "server")]
pub(crate) use lines::{LineSplitter, strip_ansi};

/// The protocol version this crate reads and writes.
///
/// ```
/// let line = harness::handshake::line(7, [("http", "127.0.0.1:8080".parse().unwrap())]);
/// assert!(line.starts_with(&format!(r#"{{"harness":{}"#, harness::handshake::VERSION)));
/// ```
pub const VERSION: u64 = 1;

/// The top-level key that marks a handshake line and carries [`VERSION`].
///
/// ```
/// use harness::handshake::{KEY, VERSION};
/// let line: serde_json::Value = serde_json::from_str(r#"{"harness":1,"pid":7}"#).unwrap();
/// assert_eq!(line[KEY], VERSION);
/// ```
pub const KEY: &str = "harness";

/// A parsed handshake line.
///
/// ```
/// let line = r#"{"harness":1,"pid":7,"listening":{"http":"http://127.0.0.1:8080"}}"#;
/// let hs = harness::handshake::parse(line)?;
/// assert_eq!(hs.pid, 7);
/// assert_eq!(hs.listening["http"].url.as_str(), "http://127.0.0.1:8080/");
/// # Ok::<(), harness::handshake::HandshakeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The process id the server reported for itself.
    pub pid: u32,
    /// The named listeners, sorted by name.
    pub listening: BTreeMap<String, Listener>,
}

/// One listener of a [`Handshake`].
///
/// ```
/// let line = r#"{"harness":1,"pid":7,"listening":{"http":"http://0.0.0.0:8080"}}"#;
/// let http = &harness::handshake::parse(line)?.listening["http"];
/// assert_eq!(http.addr.to_string(), "0.0.0.0:8080");
/// assert_eq!(http.url.as_str(), "http://127.0.0.1:8080/");
/// # Ok::<(), harness::handshake::HandshakeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The URL to connect to. An unspecified bind address (`0.0.0.0`, `::`) is replaced by the
    /// loopback address of the same family, since a socket bound there answers on loopback too.
    pub url: Url,
    /// The address and port the server reported.
    pub addr: SocketAddr,
}

impl Handshake {
    /// The listener a caller means when it names none: `http` if present, else the first by name.
    ///
    /// ```
    /// let (admin, http) = ("127.0.0.1:9090".parse().unwrap(), "127.0.0.1:8080".parse().unwrap());
    /// let line = harness::handshake::line(7, [("admin", admin), ("http", http)]);
    /// let hs = harness::handshake::parse(&line)?;
    /// assert_eq!(hs.primary().addr.port(), 8080);
    /// # Ok::<(), harness::handshake::HandshakeError>(())
    /// ```
    pub fn primary(&self) -> &Listener {
        crate::urls::primary(&self.listening).expect("a parsed handshake has at least one listener")
    }
}

/// Tells whether `line` is meant as a handshake, and if so parses it.
///
/// Returns `None` for ordinary log output, including JSON log lines without a top-level `"harness"`
/// key. A line that looks like a handshake (it starts with `{` and mentions `"harness"`) but is not
/// valid JSON is reported as an error rather than skipped, so a truncated handshake fails loudly.
///
/// ```
/// use harness::handshake::detect;
/// assert!(detect("INFO starting up").is_none());
/// assert!(detect(r#"{"level":"info","msg":"bound"}"#).is_none());
/// assert!(detect(r#"{"harness":1,"pid":7}"#).unwrap().is_err()); // no listeners
/// ```
pub fn detect(line: &str) -> Option<Result<Handshake, HandshakeError>> {
    detect_allowing(line, &[])
}

/// [`detect`], accepting the addresses in `also_local` as well as loopback (see [`parse_allowing`]).
///
/// ```
/// use harness::handshake::detect_allowing;
/// let line = r#"{"harness":1,"pid":7,"listening":{"http":"http://192.168.1.5:8080"}}"#;
/// assert!(detect_allowing(line, &[]).unwrap().is_err());
/// let lan = "192.168.1.5".parse().unwrap();
/// assert!(detect_allowing(line, &[lan]).unwrap().is_ok());
/// ```
pub fn detect_allowing(
    line: &str,
    also_local: &[IpAddr],
) -> Option<Result<Handshake, HandshakeError>> {
    let cleaned = clean_line(line);
    if !cleaned.starts_with('{') || !cleaned.contains("\"harness\"") {
        return None;
    }
    match serde_json::from_str::<Value>(&cleaned) {
        Ok(Value::Object(map)) if !map.contains_key(KEY) => None,
        _ => Some(parse_allowing(line, also_local)),
    }
}

/// Whether the harness may connect to `ip`: a loopback address (IPv4-mapped `::ffff:127.0.0.1`
/// too), or one of `also_local`, addresses of this machine the user asked for. Wildcards are handled
/// before this: they are rewritten to loopback.
///
/// ```
/// use harness::handshake::is_ours;
/// assert!(is_ours("127.0.0.1".parse().unwrap(), &[]));
/// assert!(is_ours("::1".parse().unwrap(), &[]));
/// assert!(!is_ours("10.1.2.3".parse().unwrap(), &[]));
/// assert!(is_ours("10.1.2.3".parse().unwrap(), &["10.1.2.3".parse().unwrap()]));
/// ```
pub fn is_ours(ip: IpAddr, also_local: &[IpAddr]) -> bool {
    crate::urls::is_loopback(ip) || also_local.contains(&ip)
}

/// Parses one line as a v1 handshake, after [`clean_line`].
///
/// ```
/// let hs = harness::handshake::parse(r#"{"harness":1,"pid":7,"listening":{"http":"http://127.0.0.1:41507"}}"#)?;
/// assert_eq!(hs.primary().url.as_str(), "http://127.0.0.1:41507/");
/// assert_eq!(hs.primary().addr.port(), 41507);
/// # Ok::<(), harness::handshake::HandshakeError>(())
/// ```
pub fn parse(line: &str) -> Result<Handshake, HandshakeError> {
    parse_allowing(line, &[])
}

/// [`parse`], accepting the addresses in `also_local` as well as loopback: the hook for an address of
/// this machine the user asked the harness to trust (a LAN address a server must bind, say). Any
/// other address is [`HandshakeError::NotLoopback`].
///
/// ```
/// use harness::handshake::{HandshakeError, parse_allowing};
/// let line = r#"{"harness":1,"pid":7,"listening":{"http":"http://192.168.1.5:8080"}}"#;
/// assert!(matches!(parse_allowing(line, &[]), Err(HandshakeError::NotLoopback { .. })));
/// let hs = parse_allowing(line, &["192.168.1.5".parse().unwrap()])?;
/// assert_eq!(hs.primary().url.as_str(), "http://192.168.1.5:8080/");
/// # Ok::<(), HandshakeError>(())
/// ```
pub fn parse_allowing(line: &str, also_local: &[IpAddr]) -> Result<Handshake, HandshakeError> {
    let cleaned = clean_line(line);
    let quoted = || Quoted::new(&cleaned);
    let map: Map<String, Value> = match serde_json::from_str::<Value>(&cleaned) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(HandshakeError::NotJson {
                line: quoted(),
                reason: "not an object".into(),
            });
        }
        Err(e) => {
            return Err(HandshakeError::NotJson {
                line: quoted(),
                reason: e.to_string(),
            });
        }
    };
    match map.get(KEY) {
        None => return Err(HandshakeError::MissingVersion { line: quoted() }),
        Some(Value::Number(n)) if n.as_u64() == Some(VERSION) => {}
        Some(other) => {
            return Err(HandshakeError::UnsupportedVersion {
                found: other.to_string(),
                line: quoted(),
            });
        }
    }
    let field = |field, problem| HandshakeError::Field {
        field,
        problem,
        line: quoted(),
    };
    let pid = match map.get("pid") {
        None => return Err(field("pid", "is missing")),
        Some(v) => v
            .as_u64()
            .and_then(|p| u32::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| field("pid", "must be a positive integer"))?,
    };
    let listeners = match map.get("listening") {
        None => return Err(field("listening", "is missing")),
        Some(Value::Object(l)) if l.is_empty() => {
            return Err(field("listening", "must name at least one listener"));
        }
        Some(Value::Object(l)) => l,
        Some(_) => return Err(field("listening", "must be an object of name to URL")),
    };
    let mut listening = BTreeMap::new();
    for (name, value) in listeners {
        let bad = |url: &str, problem: String| HandshakeError::Listener {
            name: name.clone(),
            url: url.to_owned(),
            problem,
            line: quoted(),
        };
        let Some(raw) = value.as_str() else {
            return Err(bad(&value.to_string(), "must be a string".into()));
        };
        let listener = parse_listener_url(raw).map_err(|problem| bad(raw, problem))?;
        let ip = listener.addr.ip();
        if !ip.is_unspecified() && !is_ours(ip, also_local) {
            return Err(HandshakeError::NotLoopback {
                name: name.clone(),
                host: ip,
                line: quoted(),
            });
        }
        listening.insert(name.clone(), listener);
    }
    Ok(Handshake { pid, listening })
}

/// Checks one listener URL against the protocol's rules.
fn parse_listener_url(raw: &str) -> Result<Listener, String> {
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| "expected scheme://ip:port".to_owned())?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme must be http or https, not {scheme:?}"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| "unclosed [ in IPv6 address".to_owned())?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = port.ok_or_else(|| "no port; the URL must name the bound port".to_owned())?;
    let port: u16 = match port.parse::<u64>() {
        Ok(p) if p > u64::from(u16::MAX) => {
            return Err(format!("port {p} is out of range (1-65535)"));
        }
        Ok(p) => p as u16,
        Err(_) => return Err(format!("port {port:?} is not a number")),
    };
    if port == 0 {
        return Err(
            "port 0 is not a bound port; print the address the listener actually got".to_owned(),
        );
    }
    let ip: IpAddr = host.parse().map_err(|_| {
        format!(
            "host {host:?} is not a literal IP address; announce the bound loopback address \
             (127.0.0.1), never a host name"
        )
    })?;
    let addr = SocketAddr::new(ip, port);
    let connect_ip = crate::urls::connect_ip(ip);
    let mut url = Url::parse(raw).map_err(|e| e.to_string())?;
    url.set_ip_host(connect_ip)
        .map_err(|()| "cannot set host".to_owned())?;
    crate::urls::ensure_trailing_slash(&mut url);
    // `Url` drops a port equal to the scheme's default; the handshake's port is explicit anyway.
    Ok(Listener { url, addr })
}

/// Builds a handshake line for the given listeners, each served over plain `http`.
///
/// ```
/// let addr = "127.0.0.1:41507".parse().unwrap();
/// let line = harness::handshake::line(4242, [("http", addr)]);
/// assert_eq!(line, r#"{"harness":1,"pid":4242,"listening":{"http":"http://127.0.0.1:41507"}}"#);
/// ```
pub fn line<N: AsRef<str>>(
    pid: u32,
    listeners: impl IntoIterator<Item = (N, SocketAddr)>,
) -> String {
    let listening: Map<String, Value> = listeners
        .into_iter()
        .map(|(name, addr)| {
            (
                name.as_ref().to_owned(),
                Value::String(format!("http://{addr}")),
            )
        })
        .collect();
    // Written by hand to keep the documented field order (serde_json sorts map keys).
    format!(
        "{{\"{KEY}\":{VERSION},\"pid\":{pid},\"listening\":{}}}",
        Value::Object(listening)
    )
}

/// Prints the handshake line for this process's bound listeners on stdout and flushes it.
///
/// Call it once, after every listener is bound (so the port is real) and before serving. The
/// addresses are printed as bound; pass `listener.local_addr()?`, never the address you asked for.
/// Bind `127.0.0.1`: the harness refuses any address that is not loopback, and warns about
/// `0.0.0.0`, which exposes a test server to the network.
///
/// ```
/// use std::net::TcpListener;
///
/// let http = TcpListener::bind("127.0.0.1:0")?;
/// let admin = TcpListener::bind("127.0.0.1:0")?;
/// harness::handshake::announce([("http", http.local_addr()?), ("admin", admin.local_addr()?)])?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn announce<N: AsRef<str>>(
    listeners: impl IntoIterator<Item = (N, SocketAddr)>,
) -> io::Result<()> {
    let line = line(std::process::id(), listeners);
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

#[cfg(test)]
mod tests;
