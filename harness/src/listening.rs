//! Finding the TCP port a process listens on from the OS, for servers that never say it, and
//! confirming that a port a server printed is really one its process group listens on.
//!
//! Linux only: the process's socket inodes from `/proc/PID/fd`, matched against the LISTEN
//! entries of `/proc/PID/net/tcp` and `tcp6`; a process group's members from the `pgrp` field of
//! every `/proc/PID/stat`. All reading goes through [`procfs`](crate::procfs).

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::procfs;

/// The first TCP socket in LISTEN state that process `pid` holds on a port not in `skip`, if any.
pub(crate) fn listening_addr(pid: u32, skip: &[u16]) -> Option<SocketAddr> {
    let inodes = socket_inodes(pid).ok()?;
    if inodes.is_empty() {
        return None;
    }
    ["tcp", "tcp6"].iter().find_map(|table| {
        let text = procfs::net_table(pid, table).ok()?;
        text.lines()
            .skip(1)
            .filter_map(parse_entry)
            .find(|(addr, inode)| inodes.contains(inode) && !skip.contains(&addr.port()))
            .map(|(addr, _)| addr)
    })
}

/// The first TCP socket in LISTEN state of process group `pgid` on a port not in `skip`: its
/// leader's, else any other member's (the real server behind `npm start` or a `sh -c` wrapper
/// that does not `exec`).
pub(crate) fn group_listening_addr(pgid: u32, skip: &[u16]) -> Option<SocketAddr> {
    listening_addr(pgid, skip).or_else(|| {
        procfs::group_members(pgid)?
            .into_iter()
            .filter(|&pid| pid != pgid)
            .find_map(|pid| listening_addr(pid, skip))
    })
}

/// Whether a process of process group `pgid` holds a TCP socket in LISTEN state on `port` (on any
/// local address, IPv4 or IPv6), so that a port learned from a loose regex (the `127` of
/// `127.0.0.1`) is not handed out. `None` when it cannot tell: `/proc` cannot be listed, a member's
/// descriptors cannot be read (another user's process) and no readable member listens, or the
/// socket tables cannot be read. A group with no process left listens on nothing: `Some(false)`.
/// One look, no waiting: a server may print its port a moment before `listen()`, so callers poll
/// until their deadline. The socket tables are those of the first member's network namespace.
/// Cost: about 1 ms to find the members among ~130 processes, plus up to 7 ms per table (the kernel
/// formats `/proc/net/tcp` slowly on a busy host); `tcp6` is not read once `tcp` has the answer.
pub(crate) fn group_listens_on(pgid: u32, port: u16) -> Option<bool> {
    let members = procfs::group_members(pgid)?;
    let mut inodes = HashSet::new();
    let mut blind = false;
    let mut netns = None;
    for pid in members {
        match socket_inodes(pid) {
            Ok(found) => {
                inodes.extend(found);
                netns.get_or_insert(pid);
            }
            // It exited between the listing and now: it listens on nothing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => blind = true,
        }
    }
    let Some(netns) = netns.filter(|_| !inodes.is_empty()) else {
        // No readable member holds a socket: no need for the tables, slow to read on a busy host.
        return if blind { None } else { Some(false) };
    };
    let mut listens = false;
    for table in ["tcp", "tcp6"] {
        if listens {
            break;
        }
        // A member that exited a moment ago takes its view of the tables with it: fall back to
        // ours (a server shares this process's network namespace unless it made its own).
        let text =
            match procfs::net_table(netns, table).or_else(|_| procfs::net_table("self", table)) {
                Ok(text) => text,
                // A kernel without IPv6 has no tcp6 table, and so no IPv6 listener.
                Err(e) if table == "tcp6" && e.kind() == io::ErrorKind::NotFound => continue,
                // The member exited meanwhile, or the table is unreadable: the other may still tell.
                Err(_) => {
                    blind = true;
                    continue;
                }
            };
        listens |= text
            .lines()
            .skip(1)
            .filter_map(parse_entry)
            .any(|(addr, inode)| addr.port() == port && inodes.contains(&inode));
    }
    if listens {
        Some(true)
    } else if blind {
        None
    } else {
        Some(false)
    }
}

/// The inodes of the sockets process `pid` holds open.
fn socket_inodes(pid: u32) -> io::Result<Vec<u64>> {
    Ok(procfs::fd_targets(pid)?
        .filter_map(|target| {
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect())
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

    /// A process group whose leader (`sh`) holds no socket and whose other member (python) listens.
    struct Group {
        child: std::process::Child,
        port: u16,
    }

    impl Group {
        fn start() -> Self {
            use std::io::BufRead;
            use std::os::unix::process::CommandExt;
            let script = "import socket, sys, time\n\
                s = socket.socket()\n\
                s.bind(('127.0.0.1', 0))\n\
                s.listen()\n\
                print(s.getsockname()[1], flush=True)\n\
                time.sleep(60)\n";
            let mut child = std::process::Command::new("sh")
                // `; exit` keeps sh alive as the leader, python a member that is not the leader.
                .args(["-c", "python3 -c \"$0\"; exit", script])
                .stdout(std::process::Stdio::piped())
                .process_group(0)
                .spawn()
                .expect("sh runs");
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = std::io::BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
            let line = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("python prints its port within 20 s");
            let port = line.trim().parse().unwrap_or_else(|_| panic!("{line:?}"));
            Self { child, port }
        }
    }

    impl Drop for Group {
        fn drop(&mut self) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn a_group_listens_on_the_port_its_member_bound_and_no_other() {
        let group = Group::start();
        let pgid = group.child.id();
        assert_eq!(group_listens_on(pgid, group.port), Some(true));
        // A port nobody listens on (tcpmux; binding one here would race `finds_our_own_listener`).
        let free = 1;
        assert_eq!(group_listens_on(pgid, free), Some(false));
        // The `127` a loose regex takes from `127.0.0.1`.
        assert_eq!(group_listens_on(pgid, 127), Some(false));
        // (No listener of this test process here: `finds_our_own_listener` runs alongside and
        // takes the first listener it finds in this process.)
    }

    #[test]
    fn finds_our_own_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let found = listening_addr(std::process::id(), &[]).unwrap();
        assert_eq!(found, listener.local_addr().unwrap());
    }
}
