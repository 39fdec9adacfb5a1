//! Probes of test hosts for the netns tests: connecting from a host, listening on one, and what
//! the kernel still shows of a network (`ip netns list`, `ip -o link`).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use test_support::netns::{TestHost, TestNetwork};
use test_support::procs;

pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// Connects to `argv[1]:argv[2]` and closes: exit 0 if the connection was made.
pub(crate) const CONNECT: &str = "import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()";

/// Listens on `argv[1]`, prints its port, accepts one connection and prints the peer's address.
pub(crate) const SERVE_ONCE: &str = "import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen()
s.settimeout(10)
print(s.getsockname()[1], flush=True)
print(s.accept()[1][0], flush=True)";

pub(crate) fn on(host: &TestHost, program: &[&str]) -> Command {
    let prefix = host.exec_prefix();
    let mut command = Command::new(&prefix[0]);
    command
        .args(&prefix[1..])
        .args(program)
        .stdin(Stdio::null());
    command
}

pub(crate) fn connect(host: &TestHost, addr: Ipv4Addr, port: u16) -> Output {
    let (addr, port) = (addr.to_string(), port.to_string());
    on(host, &["python3", "-c", CONNECT, &addr, &port])
        .output()
        .expect("run python3 on the test host")
}

pub(crate) fn show(out: &Output) -> String {
    format!(
        "{}, stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", show(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The links of the root namespace: (index, name).
pub(crate) fn links() -> Vec<(u32, String)> {
    ip(&["-o", "link", "show"])
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(": ");
            let index = parts.next()?.trim().parse().ok()?;
            let name = parts.next()?.split('@').next()?.to_owned();
            Some((index, name))
        })
        .collect()
}

/// What the kernel shows of a network: its namespaces, and its root links with their indices (a
/// name may be another network's once this one is gone; an index is not reused so soon).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Trace {
    pub(crate) namespaces: Vec<String>,
    pub(crate) links: Vec<(u32, String)>,
}

pub(crate) fn trace(net: &TestNetwork) -> Trace {
    let bridge = net.bridge_name();
    let prefix = bridge.trim_end_matches("br");
    let ours = [bridge.clone(), format!("{prefix}rt"), format!("{prefix}up")];
    let switch = format!("{prefix}sw");
    let links: Vec<_> = links()
        .into_iter()
        .filter(|(_, name)| ours.contains(name))
        .collect();
    assert_eq!(links.len(), 2, "bridge and root port of {net:?}: {links:?}");
    Trace {
        namespaces: (net.hosts().iter().map(|h| h.netns().to_owned()))
            .chain([switch])
            .collect(),
        links,
    }
}

/// What of `trace` still exists, per `ip netns list` and `ip -o link`.
pub(crate) fn still_there(trace: &Trace) -> Vec<String> {
    let listed = ip(&["netns", "list"]);
    let namespaces: Vec<&str> = listed.lines().filter_map(|l| l.split(' ').next()).collect();
    let current = links();
    let mut left: Vec<String> = trace
        .namespaces
        .iter()
        .filter(|ns| namespaces.contains(&ns.as_str()))
        .cloned()
        .collect();
    left.extend(
        (trace.links.iter())
            .filter(|link| current.contains(link))
            .map(|(i, name)| format!("{name} (index {i})")),
    );
    left
}

pub(crate) fn accept_within(listener: &TcpListener, limit: Duration) -> Option<SocketAddr> {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let mut peer = None;
    procs::wait_until(limit, || match listener.accept() {
        Ok((_, addr)) => {
            peer = Some(addr);
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(e) => panic!("accept on {:?}: {e}", listener.local_addr()),
    });
    peer
}

/// Starts `sleep 1000` on `host` and waits until `ip netns pids` lists it there.
pub(crate) fn sleeper(host: &TestHost) -> Child {
    let child = on(host, &["sleep", "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sleep on the host");
    let pid = child.id().to_string();
    let inside = || {
        ip(&["netns", "pids", host.netns()])
            .lines()
            .any(|p| p == pid)
    };
    assert!(
        procs::wait_until(PATIENCE, inside),
        "sleep {pid} never ran in {}",
        host.netns()
    );
    child
}

pub(crate) fn killed_within(child: &mut Child, limit: Duration) -> Option<i32> {
    let mut status = None;
    procs::wait_until(limit, || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    });
    status.and_then(|s| s.signal())
}

pub(crate) fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[19].parse().unwrap()
}

/// A child killed and reaped when dropped, so a failed assertion leaves no owner process behind
/// (a live owner keeps its network from every sweep).
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
