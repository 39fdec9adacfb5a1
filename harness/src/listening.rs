//! Finding the TCP port a process listens on from the OS, for servers that never say it.
//!
//! Linux only: the process's socket inodes from `/proc/PID/fd`, matched against the LISTEN
//! entries of `/proc/PID/net/tcp` and `tcp6`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The first TCP socket in LISTEN state that process `pid` holds, if any.
pub(crate) fn listening_addr(pid: u32) -> Option<SocketAddr> {
    let inodes: Vec<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    if inodes.is_empty() {
        return None;
    }
    ["tcp", "tcp6"].iter().find_map(|table| {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok()?;
        text.lines()
            .skip(1)
            .filter_map(parse_entry)
            .find(|(_, inode)| inodes.contains(inode))
            .map(|(addr, _)| addr)
    })
}

/// One LISTEN line of `/proc/net/tcp{,6}`: its local address and socket inode.
fn parse_entry(line: &str) -> Option<(SocketAddr, u64)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.get(3) != Some(&"0A") {
        return None;
    }
    let (ip_hex, port_hex) = fields.get(1)?.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let ip = parse_ip(ip_hex)?;
    let inode = fields.get(9)?.parse().ok()?;
    Some((SocketAddr::new(ip, port), inode))
}

/// The kernel prints addresses as 32-bit words in host byte order.
fn parse_ip(hex: &str) -> Option<IpAddr> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_lines() {
        let v4 = "   0: 0100007F:A99B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 424242 1 0000000000000000 100 0 0 10 0";
        let (addr, inode) = parse_entry(v4).unwrap();
        assert_eq!(addr, "127.0.0.1:43419".parse().unwrap());
        assert_eq!(inode, 424242);
        let mapped = "   0: 0000000000000000FFFF00000100007F:A99B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0000000000000000 100 0 0 10 0";
        assert_eq!(
            parse_entry(mapped).unwrap().0,
            "127.0.0.1:43419".parse().unwrap()
        );
        let established = v4.replace(" 0A ", " 01 ");
        assert!(parse_entry(&established).is_none());
    }

    #[test]
    fn finds_our_own_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let found = listening_addr(std::process::id()).unwrap();
        assert_eq!(found, listener.local_addr().unwrap());
    }
}
