//! Test hosts for real: namespaces on a bridge made with `ip`, reached with real sockets from real
//! processes in them. Needs root and iproute2, as CI has; `create` fails (never skips) otherwise.
//! Opt-in like the Grid suite that uses these hosts: `cargo test -p test-support --test netns --
//! --ignored` (`.ci/run` runs it).
//! Host names differ between tests, so one test's checks never see another's hosts.

#[path = "netns/probe.rs"]
mod probe;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use probe::*;
use test_support::netns::TestNetwork;
use test_support::procs;

#[test]
#[ignore = "needs root (test hosts are network namespaces); .ci/run runs it with the Grid suite"]
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
#[ignore = "needs root (test hosts are network namespaces); .ci/run runs it with the Grid suite"]
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
    let mut sleeping = sleeper(net.host("doomed-b"));
    let seen = trace(&net);
    let links: Vec<String> = seen.links.iter().map(|(i, n)| format!("{n}:{i}")).collect();
    println!(
        "{} {} {} {}",
        procs::OWNER_READY,
        sleeping.id(),
        seen.namespaces.join(","),
        links.join(",")
    );
    // Blocks until killed: `sleep 1000` outlasts any wait of the killing test.
    let ended = sleeping.wait();
    panic!("the owner's sleep ended before the owner was killed: {ended:?}");
}

#[test]
#[ignore = "needs root (test hosts are network namespaces); .ci/run runs it with the Grid suite"]
fn a_killed_owner_leaves_nothing() {
    let (owner, line) = procs::spawn_owner("interrupted_owner", &[(OWNER_ENV, "1")], PATIENCE);
    let mut owner = KillOnDrop(owner);
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
        "two hosts, the switch, the bridge and its port: {seen:?}"
    );
    assert!(procs::alive(sleeping));

    owner.0.kill().unwrap();
    assert_eq!(owner.0.wait().unwrap().signal(), Some(9));
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

#[test]
#[ignore = "needs root (test hosts are network namespaces); .ci/run runs it with the Grid suite"]
fn a_dead_owners_leftovers_are_swept_and_a_live_owners_kept() {
    let mut fake_owner = KillOnDrop(
        Command::new("sleep")
            .arg("1000")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let marker = format!(
        "harness-test pid={} start={}",
        fake_owner.0.id(),
        start_time(fake_owner.0.id())
    );
    // Laid out by hand as `create` would, from the top of the range down to stay clear of it.
    let (n, mut ghost) = test_support::netns::while_locked(|| {
        let n = (0..512u16).rev().find(|n| {
            let made = Command::new("ip")
                .args(["link", "add", &format!("hn{n}br"), "type", "bridge"])
                .output();
            made.unwrap().status.success()
        });
        let n = n.expect("a free network number");
        let (bridge, switch, ns) = (
            format!("hn{n}br"),
            format!("hn{n}sw"),
            format!("hn{n}-ghost"),
        );
        ip(&["link", "set", &bridge, "alias", &marker]);
        ip(&["netns", "add", &switch]);
        ip(&["-n", &switch, "link", "add", "br0", "type", "bridge"]);
        ip(&["netns", "add", &ns]);
        ip(&[
            "-n", &switch, "link", "add", "v0", "type", "veth", "peer", "name", "eth0", "netns",
            &ns,
        ]);
        ip(&["-n", &switch, "link", "set", "v0", "master", "br0", "up"]);
        let ghost = Command::new("ip")
            .args(["netns", "exec", &ns, "sleep", "1000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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
    let names = [format!("hn{n}br")];
    let seen = Trace {
        namespaces: vec![ns.clone(), format!("hn{n}sw")],
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

    fake_owner.0.kill().unwrap();
    fake_owner.0.wait().unwrap();
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
#[ignore = "needs root (test hosts are network namespaces); .ci/run runs it with the Grid suite"]
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

/// Run only by `create_without_root_or_ip_fails_naming_what_is_needed`: prints what `create` said.
#[test]
#[ignore = "run by create_without_root_or_ip_fails_naming_what_is_needed, unprivileged or without ip"]
fn create_reports() {
    if std::env::var_os(OWNER_ENV).is_none() {
        return;
    }
    match TestNetwork::create(&["refused"]) {
        Ok(net) => println!("CREATE OK {net:?}"),
        Err(e) => println!("CREATE SAID {e}"),
    }
}

/// Runs `create_reports` in this test binary, under `wrapper` (if any) with `envs`, and returns
/// its line.
fn create_said(wrapper: &[&str], envs: &[(&str, &str)]) -> String {
    let binary = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(&binary);
            command
        }
        None => Command::new(&binary),
    };
    let out = command
        .args(["create_reports", "--exact", "--ignored", "--nocapture"])
        .env(OWNER_ENV, "1")
        .envs(envs.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("run {wrapper:?} {binary:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("CREATE "));
    line.unwrap_or_else(|| panic!("create_reports said nothing: {}", show(&out)))
        .to_owned()
}

#[test]
#[ignore = "needs root (test hosts are network namespaces); .ci/run runs it with the Grid suite"]
fn create_without_root_or_ip_fails_naming_what_is_needed() {
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
    ];
    let said = create_said(&nobody, &[]);
    assert!(
        said.starts_with("CREATE SAID test hosts need root"),
        "{said}"
    );
    assert!(said.contains("ip netns"), "{said}");

    let empty = std::env::temp_dir().join("netns-test-empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let said = create_said(&[], &[("PATH", empty.to_str().unwrap())]);
    assert!(
        said.starts_with("CREATE SAID test hosts need `ip`"),
        "{said}"
    );
    assert!(said.ends_with("install iproute2"), "{said}");
}
