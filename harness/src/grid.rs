//! Selenium Grid 4 on OS-assigned ports: a standalone server or a hub that the harness starts,
//! and nodes that join the hub, so two checkouts' Grids never collide.
//!
//! Grid ignores `--port 0` on its command line, so the harness writes a TOML config with
//! `[server] port = 0` and learns the real port from the listening socket (the log says `:0`).
//! A hub's event bus keeps Grid's ports 4442/4443 but binds the hub's own address, so hubs on
//! different addresses (each test network has its own) never meet. A node registers the URI
//! `http://HOST:PORT` it is given (default port 5555), so it needs a fixed port: each node on a
//! host of its own (a network namespace: [`GridNode::command_prefix`]) can use the default.
//!
//! ```no_run
//! use harness::{Browser, grid::Grid};
//! # async fn f() -> Result<(), harness::Error> {
//! // One process, on loopback: enough for one machine.
//! let grid = Grid::standalone("target/selenium/selenium-server-4.20.0.jar")
//!     .browser(Browser::Chrome)
//!     .start()
//!     .await?;
//! // Tests then run with WEBDRIVER_URL=<grid.url()>.
//! println!("WEBDRIVER_URL={}", grid.url());
//! # Ok(()) }
//! ```
//!
//! Everything a Grid starts (its JVM, the drivers and browsers of its sessions) is one process
//! group, stopped with it, and on the death of the test process like any [`Server`].

mod config;
mod node;
mod status;

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;
use url::Url;

use crate::{Browser, Error, Exit, Ready, Server, ServerHandle};
use config::{EventBus, Queue, Slots};
pub use node::{DEFAULT_NODE_PORT, GridNode, NodeHandle};
pub use status::NodeStatus;

/// How long a Grid's JVM may take to listen (and a node to join its hub) unless told otherwise.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long the harness waits for a Grid's `/status`.
const STATUS_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Standalone,
    Hub,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Hub => "hub",
        }
    }
}

/// A Selenium Grid 4 to start: [`standalone`](Self::standalone) or [`hub`](Self::hub).
///
/// ```
/// use std::net::Ipv4Addr;
/// use std::time::Duration;
/// use harness::{Browser, grid::Grid};
///
/// let hub = Grid::hub("selenium-server-4.20.0.jar")
///     .host(Ipv4Addr::new(198, 18, 3, 1).into()) // the address the nodes reach it on
///     .session_request_timeout(Duration::from_secs(60))
///     .reject_unsupported_caps(true);
/// let standalone = Grid::standalone("selenium-server-4.20.0.jar").browser(Browser::Firefox);
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .start()"]
pub struct Grid {
    jar: PathBuf,
    role: Role,
    host: IpAddr,
    slots: Slots,
    queue: Queue,
    java: OsString,
    start_timeout: Duration,
}

impl Grid {
    /// Hub and node in one JVM, serving sessions of the [`browser`](Self::browser)s asked for
    /// with this machine's drivers.
    pub fn standalone(jar: impl Into<PathBuf>) -> Self {
        Self::new(jar.into(), Role::Standalone)
    }

    /// A hub: it serves no browser itself; [`GridHandle::node`] adds nodes.
    pub fn hub(jar: impl Into<PathBuf>) -> Self {
        Self::new(jar.into(), Role::Hub)
    }

    fn new(jar: PathBuf, role: Role) -> Self {
        Self {
            jar,
            role,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            slots: Slots::default(),
            queue: Queue::default(),
            java: "java".into(),
            start_timeout: DEFAULT_START_TIMEOUT,
        }
    }

    /// The address the Grid binds and is reached on (default 127.0.0.1): an address of this
    /// machine, checked before anything starts like [`Server::host`]. A hub's nodes on other
    /// hosts need one they can reach.
    pub fn host(mut self, ip: IpAddr) -> Self {
        self.host = ip;
        self
    }

    /// A browser a standalone Grid serves (call once per browser). Its driver and binary are
    /// found like [`Driver::start`](crate::Driver::start)'s.
    pub fn browser(mut self, browser: Browser) -> Self {
        self.slots.add(browser);
        self
    }

    /// Sessions of each browser a standalone Grid runs at once (default 2).
    pub fn max_sessions(mut self, sessions: u32) -> Self {
        self.slots.max_sessions = sessions;
        self
    }

    /// How long Grid keeps a new-session request that no node can serve yet queued before it
    /// answers `New session request timed out` (Grid's default: 300 s).
    pub fn session_request_timeout(mut self, timeout: Duration) -> Self {
        self.queue.session_request_timeout = Some(timeout);
        self
    }

    /// Whether Grid refuses at once a request that no node's stereotype matches, instead of
    /// queueing it (Grid's default: false).
    pub fn reject_unsupported_caps(mut self, reject: bool) -> Self {
        self.queue.reject_unsupported_caps = reject;
        self
    }

    /// The Java program (default `java` on `PATH`; Grid 4 needs Java 11 or later).
    pub fn java(mut self, program: impl Into<OsString>) -> Self {
        self.java = program.into();
        self
    }

    /// How long the JVM may take to listen (default [`DEFAULT_START_TIMEOUT`]).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Starts the Grid; returns once it listens (a standalone: once its node is up too).
    pub async fn start(self) -> Result<GridHandle, Error> {
        let deadline = tokio::time::Instant::now() + self.start_timeout;
        check_jar(&self.jar)?;
        let java = find_java(&self.java)?;
        let dir = config_dir()?;
        let events = (self.role == Role::Hub).then(|| EventBus::on(self.host));
        let toml = match self.role {
            Role::Standalone => {
                if self.slots.browsers.is_empty() {
                    return Err(bad(
                        "a standalone Grid needs a browser: call .browser(Browser::Chrome)",
                    ));
                }
                let offers = self.slots.offers()?;
                config::standalone(self.host, &self.queue, &offers, is_root())
            }
            Role::Hub => {
                if !self.slots.browsers.is_empty() {
                    return Err(bad(
                        "a hub serves no browser itself; add a node with grid.node().browser(..)",
                    ));
                }
                config::hub(
                    self.host,
                    events.as_ref().expect("a hub's bus"),
                    &self.queue,
                )
            }
        };
        let file = config::write(dir.path(), "grid.toml", &toml).map_err(|e| bad(&e))?;
        let skip = events
            .map(|bus| vec![bus.publish.port(), bus.subscribe.port()])
            .unwrap_or_default();
        let server = jvm(&[], &java, &self.jar, self.role.name(), &file)
            .name(format!("grid-{}", self.role.name()))
            .host(self.host)
            .ready(Ready::listening_except(skip))
            .ready_timeout(self.start_timeout)
            .spawn()
            .await?;
        let handle = GridHandle {
            server,
            events,
            jar: self.jar,
            java,
            start_timeout: self.start_timeout,
            _config: dir,
        };
        if self.role == Role::Standalone {
            // The built-in node: within what is left of the one start timeout.
            status::wait_for(
                handle.url(),
                deadline,
                || false,
                |nodes| nodes.iter().any(NodeStatus::is_up),
            )
            .await
            .map_err(|seen| Error::GridNodeAbsent {
                node: "built-in".into(),
                hub: handle.url().to_string(),
                timeout: self.start_timeout,
                seen: format!(
                    "{seen}\n{}",
                    handle.server.logs().tail(crate::Stream::Stderr, 20)
                ),
            })?;
        }
        Ok(handle)
    }
}

/// A running Selenium Grid: its WebDriver URL, its nodes. Stopped when dropped.
#[derive(Debug)]
pub struct GridHandle {
    server: ServerHandle,
    events: Option<EventBus>,
    jar: PathBuf,
    java: PathBuf,
    start_timeout: Duration,
    _config: TempDir,
}

impl GridHandle {
    /// The WebDriver endpoint, e.g. `http://127.0.0.1:40123/` (Grid 4 serves `/session` at its
    /// root): the `WEBDRIVER_URL` for tests.
    pub fn url(&self) -> &Url {
        self.server.url()
    }

    /// The Grid's process: its pid, logs, and exit.
    pub fn server(&self) -> &ServerHandle {
        &self.server
    }

    /// A node to join this hub; see [`GridNode`].
    pub fn node(&self) -> GridNode<'_> {
        GridNode::new(self)
    }

    /// The nodes the Grid lists now (`GET /status`).
    pub async fn nodes(&self) -> Result<Vec<NodeStatus>, Error> {
        status::nodes(self.url(), STATUS_LIMIT)
            .await
            .map_err(|reason| bad(&reason))
    }

    /// Stops the Grid (and everything it started).
    pub async fn stop(self) -> Result<Exit, Error> {
        self.server.stop().await
    }
}

fn bad(reason: &str) -> Error {
    Error::BadGrid {
        reason: reason.to_owned(),
    }
}

fn check_jar(jar: &Path) -> Result<(), Error> {
    if jar.is_file() {
        return Ok(());
    }
    Err(bad(&format!(
        "no Selenium Grid 4 jar at {}; get one with `npm pack @nightwatch/selenium-server@4.20.0` \
         (it holds package/lib/selenium-server-4.20.0.jar), or from Selenium's releases",
        jar.display()
    )))
}

fn find_java(program: &std::ffi::OsStr) -> Result<PathBuf, Error> {
    crate::locate::resolve(program, std::env::var_os("PATH").as_deref()).map_err(|_| {
        bad(&format!(
            "`{}` not found; Selenium Grid 4 needs Java 11 or later, e.g. `apt-get install \
             openjdk-17-jre-headless`",
            program.to_string_lossy()
        ))
    })
}

/// The folder of a Grid's config file and temporary files, inside the one the watchdog deletes.
fn config_dir() -> Result<TempDir, Error> {
    tempfile::Builder::new()
        .prefix("harness-grid-")
        .tempdir_in(crate::browser::internals::profiles_root())
        .map_err(|e| bad(&format!("cannot make a folder for the Grid's config: {e}")))
}

/// `[PREFIX...] java -jar JAR ROLE --config FILE`, its temporary files (and its drivers',
/// browsers') in the folder the watchdog deletes.
fn jvm(prefix: &[OsString], java: &Path, jar: &Path, role: &str, config: &Path) -> Server {
    let tmp = config.parent().expect("a file in a folder").to_owned();
    let server = match prefix.split_first() {
        Some((program, args)) => Server::new(program).args(args).arg(java),
        None => Server::new(java),
    };
    server
        .arg(format!("-Djava.io.tmpdir={}", tmp.display()))
        .arg("-jar")
        .arg(jar)
        .arg(role)
        .arg("--config")
        .arg(config)
        .env("TMPDIR", &tmp)
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}
