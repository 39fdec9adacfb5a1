//! Running `ip` (iproute2) and reading what it lists: namespaces, links, the routes already on
//! this machine. Every failure names the command and what `ip` said.

use std::net::Ipv4Addr;
use std::process::{Command, Output, Stdio};

/// What a failed `ip` command said, kept apart so a caller can tell "exists" from other failures.
pub(super) struct Failure {
    /// `ip link add ...`, as run.
    pub(super) command: String,
    /// Its stderr, trimmed (or the spawn error).
    pub(super) said: String,
}

impl Failure {
    /// One line: the command and what it said.
    pub(super) fn line(&self) -> String {
        format!("`{}` failed: {}", self.command, self.said)
    }
}

/// Runs `ip ARGS`, returning its stdout.
pub(super) fn try_run(args: &[&str]) -> Result<String, Failure> {
    let command = format!("ip {}", args.join(" "));
    let output: Output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure {
            command: command.clone(),
            said: e.to_string(),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let said = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Err(Failure {
            command,
            said: format!("{said} ({})", output.status),
        })
    }
}

/// [`try_run`] with the failure as one line.
pub(super) fn run(args: &[&str]) -> Result<String, String> {
    try_run(args).map_err(|f| f.line())
}

/// The names `ip netns list` shows.
pub(super) fn namespaces() -> Result<Vec<String>, String> {
    let listed = run(&["netns", "list"])?;
    Ok(listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// The links of this (the root) namespace, index and name, from `ip -o link show`
/// (`7: hn3v0@if2: <...> ...`, the part after `@` names the peer).
pub(super) fn links() -> Result<Vec<(u32, String)>, String> {
    let listed = run(&["-o", "link", "show"])?;
    Ok(listed
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(": ");
            let index = parts.next()?.trim().parse().ok()?;
            let name = parts.next()?;
            Some((index, name.split('@').next().unwrap_or(name).to_owned()))
        })
        .collect())
}

/// The IPv4 prefixes this machine already routes (every table), other than the default route and
/// those of test networks (`dev hn...`): a test network must not shadow any of them.
pub(super) fn routed_prefixes() -> Result<Vec<(Ipv4Addr, u8)>, String> {
    const TYPES: [&str; 10] = [
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "anycast",
        "unreachable",
        "blackhole",
        "prohibit",
        "throw",
        "nat",
    ];
    let listed = run(&["-o", "-4", "route", "show", "table", "all"])?;
    let mut prefixes = Vec::new();
    for line in listed.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let dev = words
            .iter()
            .position(|w| *w == "dev")
            .and_then(|i| words.get(i + 1));
        if dev.is_some_and(|d| super::owner::number_of(d).is_some()) {
            continue;
        }
        let Some(dest) = words.iter().find(|w| !TYPES.contains(w)) else {
            continue;
        };
        let (addr, len) = dest.split_once('/').unwrap_or((dest, "32"));
        if let (Ok(addr), Ok(len)) = (addr.parse::<Ipv4Addr>(), len.parse::<u8>()) {
            prefixes.push((addr, len.min(32)));
        }
    }
    Ok(prefixes)
}

/// Whether two prefixes share an address.
pub(super) fn overlap(a: (Ipv4Addr, u8), b: (Ipv4Addr, u8)) -> bool {
    let len = a.1.min(b.1);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(a.0) & mask == u32::from(b.0) & mask
}

/// What test hosts need, as one line naming the missing piece: root, `ip`, `setsid`.
pub(super) fn check_prerequisites() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("test hosts need /proc (reading /proc/self/status: {e})"))?;
    let euid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse::<u32>().ok());
    if euid != Some(0) {
        return Err(
            "test hosts need root to create network namespaces (`ip netns`); \
                    run as root (CI runs as root)"
                .to_owned(),
        );
    }
    for (program, package) in [("ip", "iproute2"), ("setsid", "util-linux")] {
        let found = Command::new(program)
            .arg("-V")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Err(e) = found {
            return Err(format!(
                "test hosts need `{program}` on PATH ({e}); install {package}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::overlap;
    use std::net::Ipv4Addr;

    #[test]
    fn prefixes_overlap_when_the_shorter_mask_agrees() {
        let net = |a: [u8; 4], l| (Ipv4Addr::from(a), l);
        assert!(overlap(net([198, 18, 7, 0], 24), net([198, 18, 0, 0], 15)));
        assert!(overlap(net([198, 18, 7, 9], 32), net([198, 18, 7, 0], 24)));
        assert!(!overlap(net([198, 18, 7, 0], 24), net([198, 18, 8, 0], 24)));
        assert!(!overlap(net([198, 18, 7, 0], 24), net([192, 0, 2, 0], 24)));
    }
}
