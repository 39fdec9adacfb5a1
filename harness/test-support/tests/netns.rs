//! Test hosts for real: namespaces on a bridge made with `ip`, reached with real sockets from real
//! processes in them. Needs root and iproute2, as CI has; `create` fails (never skips) otherwise.
//! Host names differ between tests, so one test's checks never see another's hosts.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use test_support::netns::{TestHost, TestNetwork};
use test_support::procs;

const PATIENCE: Duration = Duration::from_secs(10);

/// Connects to `argv[1]:argv[2]` and closes: exit 0 if the connection was made.
const CONNECT: &str = "import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()";

/// Listens on `argv[1]`, prints its port, accepts one connection and prints the peer's address.
const SERVE_ONCE: &str = "import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen()
s.settimeout(10)
print(s.getsockname()[1], flush=True)
print(s.accept()[1][0], flush=True)";

fn on(host: &TestHost, program: &[&str]) -> Command {
    let prefix = host.exec_prefix();
    let mut command = Command::new(&prefix[0]);
    command
        .args(&prefix[1..])
        .args(program)
        .stdin(Stdio::null());
    command
}

fn connect(host: &TestHost, addr: Ipv4Addr, port: u16) -> Output {
    let (addr, port) = (addr.to_string(), port.to_string());
    on(host, &["python3", "-c", CONNECT, &addr, &port])
        .output()
        .expect("run python3 on the test host")
}

fn show(out: &Output) -> String {
    format!(
        "{}, stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", show(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The links of the root namespace: (index, name).
fn links() -> Vec<(u32, String)> {
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
struct Trace {
    namespaces: Vec<String>,
    links: Vec<(u32, String)>,
}

fn trace(net: &TestNetwork) -> Trace {
    let bridge = net.bridge_name();
    let veths = format!("{}v", bridge.trim_end_matches("br"));
    let links: Vec<_> = links()
        .into_iter()
        .filter(|(_, name)| *name == bridge || name.starts_with(&veths))
        .collect();
    assert_eq!(
        links.len(),
        net.hosts().len() + 1,
        "bridge and veths of {net:?}: {links:?}"
    );
    Trace {
        namespaces: net.hosts().iter().map(|h| h.netns().to_owned()).collect(),
        links,
    }
}

/// What of `trace` still exists, per `ip netns list` and `ip -o link`.
fn still_there(trace: &Trace) -> Vec<String> {
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

fn accept_within(listener: &TcpListener, limit: Duration) -> Option<SocketAddr> {
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
fn sleeper(host: &TestHost) -> Child {
    let child = on(host, &["sleep", "1000"])
        .stdout(Stdio::null())
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

fn killed_within(child: &mut Child, limit: Duration) -> Option<i32> {
    let mut status = None;
    procs::wait_until(limit, || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    });
    status.and_then(|s| s.signal())
}

#[test]
fn hosts_reach_the_bridge_and_each_other_but_not_root_loopback_and_teardown_leaves_nothing() {
    let net = TestNetwork::create(&["reach-hub", "reach-node"]).unwrap();
    let (hub, node) = (net.host("reach-hub"), net.host("reach-node"));
    assert_eq!((hub.name(), node.name()), ("reach-hub", "reach-node"));
    assert_ne!(hub.addr(), node.addr());
    let range = |a: Ipv4Addr| matches!(a.octets(), [198, 18 | 19, _, _]);
    assert!(
        range(net.bridge_addr()) && range(hub.addr()) && range(node.addr()),
        "{net:?}"
    );

    let listener = TcpListener::bind((net.bridge_addr(), 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    for host in [hub, node] {
        let out = connect(host, net.bridge_addr(), port);
        assert!(
            out.status.success(),
            "{} to the bridge: {}",
            host.name(),
            show(&out)
        );
        let peer = accept_within(&listener, PATIENCE).expect("the connection reached the listener");
        assert_eq!(
            peer.ip(),
            host.addr(),
            "the bridge sees {} by its address",
            host.name()
        );
    }

    let loopback = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let out = connect(
        hub,
        Ipv4Addr::LOCALHOST,
        loopback.local_addr().unwrap().port(),
    );
    assert!(
        !out.status.success(),
        "the root namespace's 127.0.0.1 answered a host: {}",
        show(&out)
    );
    assert!(
        show(&out).contains("refused"),
        "the host's own loopback refused: {}",
        show(&out)
    );
    assert_eq!(accept_within(&loopback, Duration::from_millis(200)), None);

    let mut server = on(
        node,
        &["python3", "-c", SERVE_ONCE, &node.addr().to_string()],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let node_port: u16 = lines.next().unwrap().unwrap().parse().unwrap();
    let out = connect(hub, node.addr(), node_port);
    assert!(out.status.success(), "host to host: {}", show(&out));
    assert_eq!(
        lines.next().unwrap().unwrap(),
        hub.addr().to_string(),
        "the node saw the hub"
    );
    assert!(server.wait().unwrap().success());

    // Nothing routed outside the bridge's /24: no default route, no other network.
    assert_eq!(
        ip(&["-n", hub.netns(), "-4", "route", "show", "default"]),
        ""
    );
    let out = on(hub, &["ip", "route", "get", "192.0.2.1"])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && show(&out).contains("unreachable"),
        "{}",
        show(&out)
    );

    let mut sleeping = sleeper(node);
    let seen = trace(&net);
    net.teardown().unwrap();
    assert_eq!(still_there(&seen), Vec::<String>::new());
    assert_eq!(
        killed_within(&mut sleeping, PATIENCE),
        Some(9),
        "teardown kills host processes"
    );
}

#[test]
fn two_networks_at_once_get_different_numbers_and_stay_apart() {
    let left = std::thread::spawn(|| TestNetwork::create(&["apart-left"]));
    let right = TestNetwork::create(&["apart-right"]).unwrap();
    let left = left.join().unwrap().unwrap();
    assert_ne!(left.bridge_name(), right.bridge_name());
    assert_ne!(left.bridge_addr(), right.bridge_addr());
    let traces = [trace(&left), trace(&right)];

    for (net, other) in [(&left, &right), (&right, &left)] {
        let host = &net.hosts()[0];
        let listener = TcpListener::bind((net.bridge_addr(), 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let out = connect(host, net.bridge_addr(), port);
        assert!(
            out.status.success(),
            "{} to its bridge: {}",
            host.name(),
            show(&out)
        );
        assert_eq!(
            accept_within(&listener, PATIENCE).map(|a| a.ip()),
            Some(host.addr().into())
        );
        let elsewhere = TcpListener::bind((other.bridge_addr(), 0)).unwrap();
        let port = elsewhere.local_addr().unwrap().port();
        let out = connect(host, other.bridge_addr(), port);
        assert!(
            !out.status.success(),
            "{} reached another network: {}",
            host.name(),
            show(&out)
        );
        assert!(
            show(&out).contains("unreachable"),
            "no route there: {}",
            show(&out)
        );
    }
    left.teardown().unwrap();
    right.teardown().unwrap();
    for seen in &traces {
        assert_eq!(still_there(seen), Vec::<String>::new());
    }
}

const OWNER_ENV: &str = "TEST_SUPPORT_NETNS_OWNER";

/// Run only by `a_killed_owner_leaves_nothing`: makes a network, starts `sleep` on a host, says
/// what it made, and waits to be killed.
#[test]
#[ignore = "an owner process that a_killed_owner_leaves_nothing starts and kills"]
fn interrupted_owner() {
    if std::env::var_os(OWNER_ENV).is_none() {
        return;
    }
    let net = TestNetwork::create(&["doomed-a", "doomed-b"]).unwrap();
    let sleeping = sleeper(net.host("doomed-b"));
    let seen = trace(&net);
    let links: Vec<String> = seen.links.iter().map(|(i, n)| format!("{n}:{i}")).collect();
    println!(
        "{} {} {} {}",
        procs::OWNER_READY,
        sleeping.id(),
        seen.namespaces.join(","),
        links.join(",")
    );
    loop {
        std::thread::park();
    }
}

#[test]
fn a_killed_owner_leaves_nothing() {
    let (mut owner, line) = procs::spawn_owner("interrupted_owner", &[(OWNER_ENV, "1")], PATIENCE);
    let words: Vec<&str> = line.split_whitespace().skip(2).collect();
    let [sleeping, namespaces, links] = words[..] else {
        panic!("owner said {line:?}")
    };
    let sleeping: u32 = sleeping.parse().unwrap();
    let seen = Trace {
        namespaces: namespaces.split(',').map(str::to_owned).collect(),
        links: (links.split(','))
            .map(|l| l.rsplit_once(':').unwrap())
            .map(|(n, i)| (i.parse().unwrap(), n.to_owned()))
            .collect(),
    };
    assert_eq!(
        still_there(&seen).len(),
        5,
        "two namespaces, two veths, the bridge: {seen:?}"
    );
    assert!(procs::alive(sleeping));

    owner.kill().unwrap();
    assert_eq!(owner.wait().unwrap().signal(), Some(9));
    let start = Instant::now();
    let gone = procs::wait_until(PATIENCE, || {
        still_there(&seen).is_empty() && !procs::alive(sleeping)
    });
    assert!(
        gone,
        "after SIGKILL: left {:?}, sleep alive: {}",
        still_there(&seen),
        procs::alive(sleeping)
    );
    eprintln!(
        "a killed owner's network was gone {:?} after its death",
        start.elapsed()
    );
}

fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[19].parse().unwrap()
}

#[test]
fn a_dead_owners_leftovers_are_swept_and_a_live_owners_kept() {
    let mut fake_owner = Command::new("sleep").arg("1000").spawn().unwrap();
    let marker = format!(
        "harness-test pid={} start={}",
        fake_owner.id(),
        start_time(fake_owner.id())
    );
    // Laid out by hand as `create` would, from the top of the range down to stay clear of it.
    let (n, mut ghost) = test_support::netns::while_locked(|| {
        let n = (0..512u16).rev().find(|n| {
            let bridge = format!("hn{n}br");
            let made = Command::new("ip")
                .args(["link", "add", &bridge, "type", "bridge"])
                .output();
            made.unwrap().status.success()
        });
        let n = n.expect("a free network number");
        let (bridge, veth, ns) = (
            format!("hn{n}br"),
            format!("hn{n}v0"),
            format!("hn{n}-ghost"),
        );
        ip(&["link", "set", &bridge, "alias", &marker]);
        ip(&["netns", "add", &ns]);
        ip(&[
            "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        ip(&["link", "set", &veth, "master", &bridge, "up"]);
        let ghost = Command::new("ip")
            .args(["netns", "exec", &ns, "sleep", "1000"])
            .spawn()
            .unwrap();
        (n, ghost)
    })
    .unwrap();
    let ns = format!("hn{n}-ghost");
    let pid = ghost.id().to_string();
    let inside = || ip(&["netns", "pids", &ns]).lines().any(|p| p == pid);
    assert!(
        procs::wait_until(PATIENCE, inside),
        "the ghost sleep never ran in {ns}"
    );
    let names = [format!("hn{n}br"), format!("hn{n}v0")];
    let seen = Trace {
        namespaces: vec![ns.clone()],
        links: links()
            .into_iter()
            .filter(|(_, name)| names.contains(name))
            .collect(),
    };
    assert_eq!(still_there(&seen).len(), 3, "{seen:?}");

    TestNetwork::create(&["sweep-live"])
        .unwrap()
        .teardown()
        .unwrap();
    assert_eq!(
        still_there(&seen).len(),
        3,
        "a live owner's network was swept: {seen:?}"
    );
    assert_eq!(
        ghost.try_wait().unwrap(),
        None,
        "a live owner's process was killed"
    );

    fake_owner.kill().unwrap();
    fake_owner.wait().unwrap();
    TestNetwork::create(&["sweep-dead"])
        .unwrap()
        .teardown()
        .unwrap();
    assert_eq!(
        still_there(&seen),
        Vec::<String>::new(),
        "a dead owner's leftovers"
    );
    assert_eq!(
        killed_within(&mut ghost, PATIENCE),
        Some(9),
        "a dead owner's process"
    );
}

#[test]
fn three_hosts_are_made_and_removed_in_bounded_time() {
    let start = Instant::now();
    let net = TestNetwork::create(&["timed-a", "timed-b", "timed-c"]).unwrap();
    let created = start.elapsed();
    let seen = trace(&net);
    let start = Instant::now();
    net.teardown().unwrap();
    let removed = start.elapsed();
    eprintln!("3 test hosts: create {created:?}, teardown {removed:?}");
    assert_eq!(still_there(&seen), Vec::<String>::new());
    assert!(
        created + removed < PATIENCE,
        "create {created:?} + teardown {removed:?}"
    );
}
