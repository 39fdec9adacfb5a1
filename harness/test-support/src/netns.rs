//! Test hosts: Linux network namespaces on one private bridge, so a test can run servers (a
//! Selenium Grid's nodes, say) on "other hosts" of this machine, each with its own address and
//! its own loopback.
//!
//! A [`TestNetwork`] is a bridge `br0` in a namespace of its own (`hnNsw`, the switch), with one
//! port per host namespace `hnN-NAME`, whose `eth0` holds 198.18.N.2, .3, ..., and one port
//! reaching this machine's root namespace, where the bridge `hnNbr` holds 198.18.N.1/24. The
//! switch's own namespace keeps host-to-host traffic away from this machine's firewall: with
//! `br_netfilter` loaded (Docker loads it), bridged frames cross the iptables FORWARD chain of the
//! bridge's namespace, and Docker sets that policy to DROP. Only the benchmarking range
//! 198.18.0.0/15 is used (N in 0..512), and nothing is routed anywhere else: no default route in
//! the hosts, no NAT, no forwarding change, no uplink.
//!
//! Test runs side by side (two clones of the repository, say) never collide: a run claims N by
//! creating `hnNbr` (which fails if it exists), and writes itself on it as the owner (pid and
//! start time). `create` first sweeps what dead owners left behind. A guard process removes the
//! network when the test process ends however it ends (see the `cleanup` module), and
//! [`TestNetwork::teardown`] checks that nothing is left. Needs root and iproute2; without them
//! [`TestNetwork::create`] fails with one line saying so, never a silent skip.
//!
//! ```no_run
//! use test_support::netns::TestNetwork;
//!
//! let net = TestNetwork::create(&["hub", "node"]).unwrap();
//! let listener = std::net::TcpListener::bind((net.bridge_addr(), 0)).unwrap();
//! let mut probe = std::process::Command::new(&net.host("node").exec_prefix()[0]);
//! probe.args(&net.host("node").exec_prefix()[1..]).arg("true");
//! assert!(probe.status().unwrap().success());
//! # drop(listener);
//! net.teardown().unwrap();
//! ```

mod cleanup;
mod ip;
mod owner;

use std::net::Ipv4Addr;
use std::time::Duration;

use cleanup::{Guard, Plan};

/// How long `create` waits for another test process's create to finish.
const LOCK_PATIENCE: Duration = Duration::from_secs(60);

/// How long `teardown` waits for the kernel to show the network gone.
const GONE_PATIENCE: Duration = Duration::from_secs(5);

/// A private bridge with test hosts on it. Dropping it tears it down (best effort, never panics);
/// [`TestNetwork::teardown`] does the same and reports what went wrong.
pub struct TestNetwork {
    n: u16,
    /// The bridge's interface index: its name may be another run's once it is gone.
    bridge_index: u32,
    /// Every namespace and veth `create` was to make.
    plan: Plan,
    hosts: Vec<TestHost>,
    guard: Option<Guard>,
    done: bool,
}

/// One test host: a network namespace with one address on its network's bridge.
#[derive(Debug, Clone)]
pub struct TestHost {
    name: String,
    netns: String,
    addr: Ipv4Addr,
}

impl TestNetwork {
    /// Bridge + one namespace per name, each with a veth on the bridge and `lo` up.
    /// The bridge is in a namespace of its own, reached from the root one by `hnNbr`.
    ///
    /// Names are 1 to 32 characters of `a-z`, `0-9`, `-` and `_`, all different, at most 253.
    pub fn create(hosts: &[&str]) -> Result<TestNetwork, String> {
        check_names(hosts)?;
        ip::check_prerequisites()?;
        let _lock = owner::lock(LOCK_PATIENCE)?;
        cleanup::sweep()?;
        let (n, bridge_index) = claim()?;
        let mut net = TestNetwork {
            n,
            bridge_index,
            plan: Plan {
                n,
                namespaces: (hosts.iter().map(|h| owner::namespace(n, h)))
                    .chain([owner::switch(n)])
                    .collect(),
                links: vec![owner::root_port(n), owner::uplink(n)],
            },
            hosts: Vec::new(),
            guard: None,
            done: false,
        };
        // From here on, an early return drops `net` (before the lock), which removes what was made.
        let (bridge, switch) = (owner::bridge(n), owner::switch(n));
        let (root_port, uplink) = (owner::root_port(n), owner::uplink(n));
        ip::run(&["link", "set", &bridge, "alias", &owner::marker(None)?])?;
        let guard = net.plan.guard()?;
        let marker = owner::marker(Some(guard.pid()));
        net.guard = Some(guard);
        ip::run(&["link", "set", &bridge, "alias", &marker?])?;
        let cidr = |host: u8| format!("{}/24", owner::address(n, host));
        ip::run(&["netns", "add", &switch])?;
        ip::run(&[
            "link", "add", &root_port, "type", "veth", "peer", "name", &uplink,
        ])?;
        ip::run(&["link", "set", &root_port, "master", &bridge, "up"])?;
        ip::run(&["link", "set", &uplink, "netns", &switch])?;
        ip::run(&["-n", &switch, "link", "add", "br0", "type", "bridge"])?;
        ip::run(&["-n", &switch, "link", "set", &uplink, "master", "br0", "up"])?;
        ip::run(&["-n", &switch, "link", "set", "br0", "up"])?;
        ip::run(&["addr", "add", &cidr(1), "dev", &bridge])?;
        ip::run(&["link", "set", &bridge, "up"])?;
        let mut hosts_made = Vec::new();
        for (i, (name, netns)) in hosts.iter().zip(&net.plan.namespaces).enumerate() {
            let host = u8::try_from(i + 2).expect("at most 253 hosts");
            let port = format!("v{i}");
            ip::run(&["netns", "add", netns])?;
            ip::run(&[
                "-n", &switch, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", netns,
            ])?;
            ip::run(&["-n", &switch, "link", "set", &port, "master", "br0", "up"])?;
            ip::run(&["-n", netns, "addr", "add", &cidr(host), "dev", "eth0"])?;
            ip::run(&["-n", netns, "link", "set", "eth0", "up"])?;
            ip::run(&["-n", netns, "link", "set", "lo", "up"])?;
            hosts_made.push(TestHost {
                name: (*name).to_owned(),
                netns: netns.clone(),
                addr: owner::address(n, host),
            });
        }
        net.hosts = hosts_made;
        Ok(net)
    }

    /// The bridge's address, 198.18.N.1: an address of this machine that every host reaches.
    pub fn bridge_addr(&self) -> Ipv4Addr {
        owner::address(self.n, 1)
    }

    /// `hnNbr`, the root namespace's bridge, which holds [`TestNetwork::bridge_addr`] and reaches
    /// the switch through its one port `hnNrt`.
    pub fn bridge_name(&self) -> String {
        owner::bridge(self.n)
    }

    /// The host given to [`TestNetwork::create`] as `name`. Panics naming an unknown host.
    pub fn host(&self, name: &str) -> &TestHost {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| {
                let known: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
                panic!(
                    "no test host {name:?} on network {}; its hosts: {known:?}",
                    self.n
                )
            })
    }

    /// Every host, in the order given to [`TestNetwork::create`].
    pub fn hosts(&self) -> &[TestHost] {
        &self.hosts
    }

    /// Kills every process in the hosts, removes the host and switch namespaces, `hnNrt` and
    /// `hnNbr`, then
    /// checks that no namespace and no link of this network is left, naming what is otherwise.
    pub fn teardown(mut self) -> Result<(), String> {
        self.remove()
    }

    fn remove(&mut self) -> Result<(), String> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        let mut problems = Vec::new();
        match self.guard.take() {
            Some(guard) => {
                if let Err(e) = guard.finish_keeping_bridge() {
                    problems.push(e);
                    // Whatever the guard did not do, bridge and all.
                    problems.extend(self.plan.remove_now().err());
                }
            }
            // `create` failed before the guard ran: only the bridge is made.
            None => problems.extend(self.plan.remove_now().err()),
        }
        // While the bridge holds the number, these names are this network's alone.
        let mut left = Vec::new();
        if !crate::procs::wait_until(GONE_PATIENCE, || {
            left = self.hosts_left();
            left.is_empty()
        }) {
            problems.push(format!("left after teardown: {}", left.join(", ")));
        }
        let bridge = owner::bridge(self.n);
        let bridge_left = || match ip::links() {
            Ok(links) => Ok(links.contains(&(self.bridge_index, bridge.clone()))),
            Err(e) => Err(e),
        };
        if bridge_left() == Ok(true) {
            problems.extend(ip::run(&["link", "del", &bridge]).err());
        }
        if !crate::procs::wait_until(GONE_PATIENCE, || bridge_left() == Ok(false)) {
            match bridge_left() {
                Ok(_) => problems.push(format!("left after teardown: link {bridge}")),
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "test network {} (bridge {bridge}): {}",
                self.n,
                problems.join("; ")
            ))
        }
    }

    /// This network's namespaces (`ip netns list`) and root links but `hnNbr` (`ip -o link`) that
    /// still exist.
    fn hosts_left(&self) -> Vec<String> {
        let mut left = Vec::new();
        match ip::namespaces() {
            Ok(all) => left.extend(
                all.into_iter()
                    .filter(|ns| self.plan.namespaces.contains(ns))
                    .map(|ns| format!("namespace {ns}")),
            ),
            Err(e) => left.push(e),
        }
        match ip::links() {
            Ok(all) => left.extend(
                all.into_iter()
                    .filter(|(_, link)| self.plan.links.contains(link))
                    .map(|(_, link)| format!("link {link}")),
            ),
            Err(e) => left.push(e),
        }
        left
    }
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "test-support netns: {e}");
        }
    }
}

impl std::fmt::Debug for TestNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNetwork")
            .field("bridge", &owner::bridge(self.n))
            .field("bridge_addr", &self.bridge_addr())
            .field("hosts", &self.hosts)
            .finish()
    }
}

impl TestHost {
    /// The logical name given to [`TestNetwork::create`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's real name (`hnN-NAME`), for `ip netns exec`.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// This host's address on the bridge, 198.18.N.2 and up.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// `["ip", "netns", "exec", <netns>]`: the argv prefix that runs a program on this host.
    pub fn exec_prefix(&self) -> Vec<String> {
        ["ip", "netns", "exec", &self.netns]
            .map(str::to_owned)
            .to_vec()
    }
}

/// Runs `f` holding the lock every [`TestNetwork::create`] takes to sweep and claim, so no create
/// in any process sweeps or claims meanwhile: for tests that lay out a network by hand.
///
/// ```no_run
/// let listed = test_support::netns::while_locked(|| std::process::Command::new("ip").args(["netns", "list"]).output());
/// assert!(listed.unwrap().unwrap().status.success());
/// ```
pub fn while_locked<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let _lock = owner::lock(LOCK_PATIENCE)?;
    Ok(f())
}

/// Claims the first free network number whose /24 this machine does not route yet, by creating
/// its bridge `hnNbr`: `ip link add` fails if another run holds it. Returns it and the bridge's
/// index.
fn claim() -> Result<(u16, u32), String> {
    let routed = ip::routed_prefixes()?;
    for n in 0..owner::NETWORKS {
        let subnet = (owner::address(n, 0), 24);
        if routed.iter().any(|r| ip::overlap(*r, subnet)) {
            continue;
        }
        let bridge = owner::bridge(n);
        match ip::try_run(&["link", "add", &bridge, "type", "bridge"]) {
            Ok(_) => {
                let index = std::fs::read_to_string(format!("/sys/class/net/{bridge}/ifindex"))
                    .ok()
                    .and_then(|i| i.trim().parse().ok());
                return match index {
                    Some(index) => Ok((n, index)),
                    None => {
                        let _ = ip::run(&["link", "del", &bridge]);
                        Err(format!(
                            "cannot read the index of the new bridge {bridge} in /sys/class/net"
                        ))
                    }
                };
            }
            Err(f) if f.said.contains("File exists") => continue,
            Err(f) => {
                return Err(format!(
                    "cannot create a test network bridge: {} (test hosts need root with \
                     CAP_NET_ADMIN)",
                    f.line()
                ));
            }
        }
    }
    Err(
        "no free test network: all 512 /24s of 198.18.0.0/15 are taken by other runs or routed \
         by this machine (`ip -o link`, `ip route`)"
            .to_owned(),
    )
}

fn check_names(hosts: &[&str]) -> Result<(), String> {
    if hosts.is_empty() || hosts.len() > 253 {
        return Err(format!(
            "a test network holds 1 to 253 hosts, not {}",
            hosts.len()
        ));
    }
    for (i, name) in hosts.iter().enumerate() {
        let good = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !good {
            return Err(format!(
                "test host name {name:?}: use 1 to 32 characters of a-z, 0-9, `-` and `_`"
            ));
        }
        if hosts[..i].contains(name) {
            return Err(format!("test host name {name:?} is given twice"));
        }
    }
    Ok(())
}
