//! What a [`Ready::line`](super::Ready::line) capture means: a port from 1 to 65535, or a URL on
//! an address of this machine (loopback, or the host the server was asked to bind).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

use super::{Seen, warn, wildcard_warning};
use crate::handshake::{self, Quoted};

/// A `port` capture as a real port, or why it is not one.
pub(super) fn port_from_capture(text: &str) -> Result<u16, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("port 0 is not a real port (the server printed the port it asked for, not the one it got)".into()),
        Ok(p) => u16::try_from(p).map_err(|_| format!("port {p} is out of range (1-65535)")),
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("port {text} is out of range (1-65535)"))
        }
        Err(_) => Err(format!("port group captured {text:?}, which is not a number")),
    }
}

/// The fatal [`Seen::IgnoredHost`] for `line`.
pub(super) fn ignored(line: &str, why: &str) -> Seen {
    Seen::IgnoredHost(format!("server line {}: {why}", Quoted::new(line)))
}

/// The IP address of an `http` URL's host.
pub(super) fn url_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(v4.into()),
        url::Host::Ipv6(v6) => Some(v6.into()),
        url::Host::Domain(_) => None,
    }
}

/// Puts `ip` in `url`'s host.
pub(super) fn set_ip(url: &mut Url, ip: IpAddr) {
    url.set_ip_host(ip).expect("an http URL takes an IP");
}

/// A `url` capture as a URL on this machine (loopback, or `bind` when one was asked for), or why
/// it is not one.
pub(super) fn url_from_capture(
    text: &str,
    line: &str,
    bind: Option<IpAddr>,
) -> Result<Url, String> {
    let full = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let mut url = Url::parse(&full)
        .map_err(|e| format!("url group captured {text:?}, which is not a URL ({e})"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "url group captured {text:?}, whose scheme is not http or https"
        ));
    }
    match url.host_str() {
        Some("0.0.0.0" | "[::]") if bind.is_some() => {
            set_ip(&mut url, bind.expect("checked just above"));
        }
        Some("localhost") => url
            .set_host(Some("127.0.0.1"))
            .expect("an http URL takes an IP"),
        Some("0.0.0.0") => {
            warn(&wildcard_warning(
                "http",
                Ipv4Addr::UNSPECIFIED.into(),
                line,
            ));
            url.set_host(Some("127.0.0.1"))
                .expect("an http URL takes an IP");
        }
        Some("[::]") => {
            warn(&wildcard_warning(
                "http",
                Ipv6Addr::UNSPECIFIED.into(),
                line,
            ));
            url.set_host(Some("[::1]"))
                .expect("an http URL takes an IP");
        }
        _ => {}
    }
    let host = url.host_str().unwrap_or_default();
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) if handshake::is_ours(ip, bind.as_slice()) => {}
        Ok(ip) => {
            return Err(format!(
                "url group captured {text:?}: {ip} is not a loopback address of this machine; the harness connects only to 127.0.0.1 or ::1"
            ));
        }
        Err(_) => {
            return Err(format!(
                "url group captured {text:?}: host {host:?} is not an IP address (only localhost is rewritten, to 127.0.0.1)"
            ));
        }
    }
    match url.port_or_known_default() {
        Some(0) => {
            return Err(format!(
                "url group captured {text:?}: port 0 is not a real port"
            ));
        }
        Some(_) => {}
        None => return Err(format!("url group captured {text:?}, which has no port")),
    }
    crate::urls::ensure_trailing_slash(&mut url);
    Ok(url)
}
