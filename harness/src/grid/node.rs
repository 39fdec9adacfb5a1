//! A node that joins a hub the harness started, on this machine or on a test host of it.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use tempfile::TempDir;
use url::Url;

use super::config::Slots;
use super::{GridHandle, NodeStatus, STATUS_LIMIT, bad, config, config_dir, is_root, jvm, status};
use crate::{Browser, Error, Exit, Ready, ServerHandle, Stream};

/// The port a node listens on and registers with unless told otherwise (Grid's own default).
pub const DEFAULT_NODE_PORT: u16 = 5555;

/// A node to start for a hub; built by [`GridHandle::node`].
///
/// ```no_run
/// use std::net::Ipv4Addr;
/// use harness::{Browser, grid::Grid};
/// # async fn f() -> Result<(), harness::Error> {
/// let hub = Grid::hub("selenium-server-4.20.0.jar")
///     .host(Ipv4Addr::new(198, 18, 3, 1).into())
///     .start()
///     .await?;
/// // A node on a test host: the network namespace `hn3-chrome`, address 198.18.3.2.
/// let node = hub
///     .node()
///     .browser(Browser::Chrome)
///     .host(Ipv4Addr::new(198, 18, 3, 2).into())
///     .command_prefix(["ip", "netns", "exec", "hn3-chrome"])
///     .start()
///     .await?; // returns once the hub lists it up
/// assert_eq!(node.uri().as_str(), "http://198.18.3.2:5555/");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .start()"]
pub struct GridNode<'a> {
    hub: &'a GridHandle,
    name: Option<String>,
    host: IpAddr,
    port: u16,
    slots: Slots,
    prefix: Vec<OsString>,
    start_timeout: Duration,
}

impl<'a> GridNode<'a> {
    pub(super) fn new(hub: &'a GridHandle) -> Self {
        Self {
            hub,
            name: None,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_NODE_PORT,
            slots: Slots::default(),
            prefix: Vec::new(),
            start_timeout: hub.start_timeout,
        }
    }

    /// The name in logs and errors (default `grid-node-<browsers>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The address the node binds and registers (default 127.0.0.1): the hub connects to it.
    pub fn host(mut self, ip: IpAddr) -> Self {
        self.host = ip;
        self
    }

    /// The port the node binds and registers (default [`DEFAULT_NODE_PORT`]). Grid cannot
    /// register an OS-assigned port (it would announce `:0`), so nodes sharing a host need
    /// ports of their own.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// A browser the node serves (call once per browser), with its driver and binary found
    /// like [`Driver::start`](crate::Driver::start)'s.
    pub fn browser(mut self, browser: Browser) -> Self {
        self.slots.add(browser);
        self
    }

    /// Sessions of each browser the node runs at once (default 2).
    pub fn max_sessions(mut self, sessions: u32) -> Self {
        self.slots.max_sessions = sessions;
        self
    }

    /// Runs the node's JVM behind a command, such as `ip netns exec NAME` to put it on a test
    /// host of its own (a network namespace). The command must `exec` what follows it, so the
    /// JVM stays in the process group the harness stops.
    pub fn command_prefix<I, S>(mut self, prefix: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.prefix = prefix.into_iter().map(Into::into).collect();
        self
    }

    /// How long the JVM may take to start and join the hub (default: the hub's start timeout).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Starts the node; returns once the hub lists it up.
    pub async fn start(self) -> Result<NodeHandle, Error> {
        let deadline = tokio::time::Instant::now() + self.start_timeout;
        let Some(events) = self.hub.events else {
            return Err(bad(
                "a standalone Grid has its node built in; start a Grid::hub for nodes",
            ));
        };
        if self.slots.browsers.is_empty() {
            return Err(bad(
                "a node needs a browser: call .browser(Browser::Chrome)",
            ));
        }
        let names: Vec<&str> = self.slots.browsers.iter().map(|b| b.name()).collect();
        let name = self
            .name
            .unwrap_or_else(|| format!("grid-node-{}", names.join("-")));
        let offers = self.slots.offers()?;
        let dir = config_dir()?;
        let toml = config::node_of(self.host, self.port, &events, &offers, is_root());
        let file = config::write(dir.path(), "node.toml", &toml).map_err(|e| bad(&e))?;
        let uri = Url::parse(&format!(
            "http://{}/",
            std::net::SocketAddr::new(self.host, self.port)
        ))
        .expect("a socket address makes a URL");
        // The node may be on another network namespace, whose addresses are not this one's: its
        // readiness is the port of the line it prints, confirmed by its own socket table.
        let ready = Ready::line(r"Started Selenium node \S+ \(revision \S+\): \S+:(?P<port>\d+)")
            .expect("a valid pattern");
        // A node that was at this URI before (killed, not yet noticed by the hub) is not this one.
        let earlier: Vec<String> = self.hub.nodes().await?.into_iter().map(|n| n.id).collect();
        let server = jvm(&self.prefix, &self.hub.java, &self.hub.jar, "node", &file)
            .name(name.clone())
            .ready(ready)
            // What is left of the start timeout after asking the hub what it lists.
            .ready_timeout(
                deadline
                    .saturating_duration_since(tokio::time::Instant::now())
                    .max(Duration::from_millis(1)),
            )
            .spawn()
            .await?;
        let node = NodeHandle {
            server,
            uri,
            hub: self.hub.url().clone(),
            _config: dir,
        };
        // Joined: the hub lists this node's own entry up, within what is left of the timeout.
        let me = node.uri.as_str().trim_end_matches('/');
        let gone = || node.server.try_status().is_some();
        let joined = |nodes: &[NodeStatus]| {
            (nodes.iter()).any(|n| n.uri == me && n.is_up() && !earlier.contains(&n.id))
        };
        status::wait_for(self.hub.url(), deadline, gone, joined)
            .await
            .map_err(|seen| Error::GridNodeAbsent {
                node: format!("{name} ({me})"),
                hub: self.hub.url().to_string(),
                timeout: self.start_timeout,
                seen: format!(
                    "{seen}\nnode log:\n{}",
                    node.server.logs().tail(Stream::Stderr, 20)
                ),
            })?;
        Ok(node)
    }
}

/// A running node: its URI and process. Stopped (with its drivers and browsers) when dropped.
#[derive(Debug)]
pub struct NodeHandle {
    server: ServerHandle,
    uri: Url,
    hub: Url,
    _config: TempDir,
}

impl NodeHandle {
    /// The URI the node registered with the hub, e.g. `http://198.18.3.2:5555/`.
    pub fn uri(&self) -> &Url {
        &self.uri
    }

    /// The node's process: its pid (to kill it in a test), logs, and exit.
    pub fn server(&self) -> &ServerHandle {
        &self.server
    }

    /// Takes the node out of the hub, so that no new session goes to it, then stops it (and the
    /// drivers and browsers of its sessions). Dropping a `NodeHandle` only stops the process:
    /// the hub then lists the node until its next health check, and may send it sessions.
    pub async fn stop(self) -> Result<Exit, Error> {
        let removed = self.leave_hub().await;
        let exit = self.server.stop().await?;
        removed.map(|()| exit)
    }

    async fn leave_hub(&self) -> Result<(), Error> {
        let me = self.uri.as_str().trim_end_matches('/');
        let left = async {
            let listed = status::nodes(&self.hub, STATUS_LIMIT).await?;
            for node in listed.iter().filter(|n| n.uri == me) {
                status::remove(&self.hub, &node.id, STATUS_LIMIT).await?;
            }
            Ok::<(), String>(())
        };
        left.await
            .map_err(|e| bad(&format!("cannot take node {me} out of the hub: {e}")))
    }
}
