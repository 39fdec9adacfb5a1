//! Who owns a test network, and the names that say which network a link or namespace is part of.
//!
//! Network `N` (0..512) is the root namespace's bridge `hnNbr` (the claim, holding .1), the veth
//! `hnNrt` on it whose peer `hnNup` is moved into the switch namespace `hnNsw` holding the hosts'
//! bridge, and the host namespaces `hnN-NAME`. Its owner is written on `hnNbr` as its alias
//! (`harness-test pid=P start=T guard=G gstart=U`, `T` and `U` the start times of the owner and
//! its guard from `/proc/PID/stat`, so a reused pid is not mistaken for either).

use std::net::Ipv4Addr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::time::{Duration, Instant};

/// How many /24 networks the benchmarking range 198.18.0.0/15 holds.
pub(super) const NETWORKS: u16 = 512;

/// The root namespace's bridge of network `n`, whose creation claims `n`. It lives on its own
/// (no namespace's end takes it along), so it is the last thing of a network to go.
pub(super) fn bridge(n: u16) -> String {
    format!("hn{n}br")
}

/// The root end of the veth from [`bridge`] to the switch.
pub(super) fn root_port(n: u16) -> String {
    format!("hn{n}rt")
}

/// The switch end of [`root_port`], a port of the switch's bridge.
pub(super) fn uplink(n: u16) -> String {
    format!("hn{n}up")
}

/// The namespace that holds the bridge: its own, so the bridged traffic between hosts meets no
/// firewall of this machine (with `br_netfilter` loaded, as Docker does, bridged frames go through
/// the bridge's namespace's iptables FORWARD chain, whose policy Docker sets to DROP).
pub(super) fn switch(n: u16) -> String {
    format!("hn{n}sw")
}

/// The namespace of host `name`.
pub(super) fn namespace(n: u16, name: &str) -> String {
    format!("hn{n}-{name}")
}

/// Address `host` (1 the bridge, 2.. the hosts) of network `n`: 198.18.0.0 + n * 256 + host.
pub(super) fn address(n: u16, host: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + (u32::from(n) << 8) + u32::from(host))
}

/// The network a link or namespace name belongs to (`hn12br`, `hn12rt`, `hn12up`, `hn12sw`,
/// `hn12-grid` → 12).
pub(super) fn number_of(name: &str) -> Option<u16> {
    let rest = name.strip_prefix("hn")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (number, tail) = rest.split_at(digits);
    let ours = matches!(tail, "br" | "rt" | "up" | "sw") || tail.len() > 1 && tail.starts_with('-');
    let n = number.parse::<u16>().ok()?;
    (ours && n < NETWORKS && !(number.len() > 1 && number.starts_with('0'))).then_some(n)
}

/// The alias that names this process as the owner, and its guard once it runs.
pub(super) fn marker(guard: Option<u32>) -> Result<String, String> {
    let stamp = |pid: u32| {
        start_time(pid).ok_or_else(|| format!("cannot read /proc/{pid}/stat: is it alive?"))
    };
    let pid = std::process::id();
    let mut marker = format!("harness-test pid={pid} start={}", stamp(pid)?);
    if let Some(guard) = guard {
        marker += &format!(" guard={guard} gstart={}", stamp(guard)?);
    }
    Ok(marker)
}

/// Whether the owner a marker names, or its guard, is alive: the pid runs, is not a zombie, and
/// started when the marker says. A network whose owner is gone but whose guard still runs is
/// being removed by that guard: a sweep must not race with it (and then claim the number while
/// the guard still deletes by name). `None` for a text that is no marker.
pub(super) fn marker_is_live(marker: &str) -> Option<bool> {
    let rest = marker.trim().strip_prefix("harness-test ")?;
    let field = |key: &str| {
        rest.split(' ')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let live =
        |pid: u64, start: u64| u32::try_from(pid).is_ok_and(|pid| start_time(pid) == Some(start));
    let owner = live(field("pid")?, field("start")?);
    let guard = match (field("guard"), field("gstart")) {
        (Some(pid), Some(start)) => live(pid, start),
        _ => false,
    };
    Some(owner || guard)
}

/// When `pid` started (field 22 of `/proc/PID/stat`, in clock ticks since boot), if it is alive
/// and not a zombie.
pub(super) fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses, so split after the last `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X") | None) {
        return None;
    }
    fields.get(22 - 3)?.parse().ok()
}

/// The owner of network `n`'s bridge, if it has one: its alias.
pub(super) fn bridge_marker(n: u16) -> Option<String> {
    std::fs::read_to_string(format!("/sys/class/net/{}/ifalias", bridge(n))).ok()
}

/// Held while a process sweeps leftovers and claims a network, so no sweep ever sees a network
/// half made: an abstract unix socket name, which only one socket can bind and which the kernel
/// frees when its process dies however it dies (a lock file could be left behind). Abstract names
/// belong to a network namespace: every test process runs in the root one.
pub(super) struct Lock {
    _socket: UnixListener,
}

/// Takes the [`Lock`], waiting at most `limit` for another process to release it.
pub(super) fn lock(limit: Duration) -> Result<Lock, String> {
    const NAME: &[u8] = b"harness-test-netns-lock";
    let addr = SocketAddr::from_abstract_name(NAME)
        .map_err(|e| format!("cannot name the test network lock: {e}"))?;
    let deadline = Instant::now() + limit;
    loop {
        match UnixListener::bind_addr(&addr) {
            Ok(socket) => return Ok(Lock { _socket: socket }),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                return Err(format!(
                    "cannot take the test network lock (abstract socket @harness-test-netns-lock) \
                     within {limit:?}: {e}; another test process holds it"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_their_network() {
        assert_eq!(number_of(&bridge(511)), Some(511));
        assert_eq!(number_of(&uplink(3)), Some(3));
        assert_eq!(number_of(&root_port(3)), Some(3));
        assert_eq!(number_of(&switch(3)), Some(3));
        assert_eq!(number_of(&namespace(0, "grid")), Some(0));
        for other in [
            "hn512br", "hn3", "hn3v0", "hn3-", "hnxbr", "eth0", "hn03br", "hn3brx",
        ] {
            assert_eq!(number_of(other), None, "{other}");
        }
    }

    #[test]
    fn addresses_stay_in_the_benchmarking_range() {
        assert_eq!(address(0, 1), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(address(7, 2), Ipv4Addr::new(198, 18, 7, 2));
        assert_eq!(address(511, 254), Ipv4Addr::new(198, 19, 255, 254));
    }

    #[test]
    fn a_marker_names_this_live_process_and_not_a_reused_pid() {
        let mine = marker(None).unwrap();
        assert_eq!(marker_is_live(&mine), Some(true));
        let guarded = marker(Some(std::process::id())).unwrap();
        let dead_owner = guarded.replacen("pid=", "pid=4194304", 1);
        assert_eq!(
            marker_is_live(&dead_owner),
            Some(true),
            "the guard is alive"
        );
        let pid = std::process::id();
        let start = start_time(pid).unwrap();
        let reused = format!("harness-test pid={pid} start={}", start + 1);
        assert_eq!(marker_is_live(&reused), Some(false));
        assert_eq!(marker_is_live("something else"), None);
    }
}
