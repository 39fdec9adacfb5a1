//! The rules for listener addresses and base URLs, in one place: which addresses the harness
//! connects to (loopback), where it connects for a wildcard bind, which listener is the primary
//! one, and that a base URL ends in `/`. Needs only `std` and `url`, so the handshake module (built
//! without the `server` feature too) shares it with the server side.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

/// The name of the listener a caller means when it names none, if the server has one.
pub(crate) const PRIMARY: &str = "http";

/// The primary listener: the one named [`PRIMARY`], or else the first by name.
pub(crate) fn primary<V>(listeners: &BTreeMap<String, V>) -> Option<&V> {
    listeners.get(PRIMARY).or_else(|| listeners.values().next())
}

/// Whether `ip` is a loopback address, an IPv4-mapped one (`::ffff:127.0.0.1`) included.
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Where to connect to a listener bound to `ip`: a wildcard (`0.0.0.0`, `::`) on the loopback
/// address of its family, anything else on itself.
pub(crate) fn connect_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(v6) if v6.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    }
}

/// Where to connect to a listener bound to `ip` when the server was asked to bind `host`
/// (`HARNESS_HOST`, [`Server::host`](crate::Server::host)): a wildcard on `host`, `host` itself on
/// itself, any other address as it is. `Err` for a loopback address other than `host`: the server
/// ignored `HARNESS_HOST`, and a browser on another machine cannot reach this one's loopback.
/// Without a host this is [`connect_ip`].
#[cfg(feature = "server")]
pub(crate) fn connect_ip_on(ip: IpAddr, host: Option<IpAddr>) -> Result<IpAddr, String> {
    let Some(host) = host else {
        return Ok(connect_ip(ip));
    };
    if ip.is_unspecified() || ip == host {
        return Ok(host);
    }
    if is_loopback(ip) {
        return Err(format!(
            "the server was asked to bind {host} (HARNESS_HOST={host}) but announced {ip}: the \
             server ignored HARNESS_HOST, and remote browsers cannot reach a loopback address; \
             make it bind the address in $HARNESS_HOST"
        ));
    }
    Ok(ip)
}

/// Makes `url` a base that [`Url::join`] extends instead of replacing its last segment:
/// `http://127.0.0.1:8080/app` becomes `http://127.0.0.1:8080/app/`.
pub(crate) fn ensure_trailing_slash(url: &mut Url) {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_listener_is_http_else_the_first_by_name() {
        let mut listeners = BTreeMap::from([("b".to_owned(), 2), ("a".to_owned(), 1)]);
        assert_eq!(primary(&listeners), Some(&1));
        listeners.insert(PRIMARY.to_owned(), 3);
        assert_eq!(primary(&listeners), Some(&3));
        assert_eq!(primary(&BTreeMap::<String, u8>::new()), None);
    }

    #[test]
    #[cfg(feature = "server")]
    fn a_host_takes_wildcards_and_refuses_other_loopback_addresses() {
        let host: IpAddr = "127.0.0.2".parse().unwrap();
        let on = |ip: &str| connect_ip_on(ip.parse().unwrap(), Some(host));
        assert_eq!(on("0.0.0.0"), Ok(host));
        assert_eq!(on("127.0.0.2"), Ok(host));
        assert!(
            on("127.0.0.1")
                .unwrap_err()
                .contains("ignored HARNESS_HOST")
        );
        let none = connect_ip_on("0.0.0.0".parse().unwrap(), None);
        assert_eq!(none, Ok(Ipv4Addr::LOCALHOST.into()));
    }

    #[test]
    fn loopback_and_wildcards() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.1.2.3", "0.0.0.0", "::", "::ffff:10.0.0.1"] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
        assert_eq!(connect_ip("0.0.0.0".parse().unwrap()), Ipv4Addr::LOCALHOST);
        assert_eq!(connect_ip("::".parse().unwrap()), Ipv6Addr::LOCALHOST);
        assert_eq!(
            connect_ip("127.0.0.2".parse().unwrap()),
            "127.0.0.2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_base_url_ends_in_a_slash_so_join_extends_it() {
        let mut url = Url::parse("http://127.0.0.1:8080/app").unwrap();
        ensure_trailing_slash(&mut url);
        assert_eq!(
            url.join("x").unwrap().as_str(),
            "http://127.0.0.1:8080/app/x"
        );
        let mut root = Url::parse("http://127.0.0.1:8080").unwrap();
        ensure_trailing_slash(&mut root);
        assert_eq!(root.as_str(), "http://127.0.0.1:8080/");
    }
}
