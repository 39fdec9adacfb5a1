//! [`ServerHandle`]: a running server, and the guarantee that it stops.

use std::collections::BTreeMap;
use std::time::Duration;

use url::Url;

use crate::attached::Attached;
use crate::logs::Logs;
use crate::spawned::Spawned;
use crate::{Error, Exit};

/// A running server. Dropping it kills the server's whole process group and reaps it.
///
/// Prefer [`stop`](Self::stop) at the end of a test to let the server shut down gracefully and see
/// its exit status; `Drop` covers panics and early returns.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
/// let health = reqwest::get(web.url().join("health")?).await?;
/// assert!(health.status().is_success());
/// web.stop().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the handle kills the server"]
pub struct ServerHandle {
    process: Process,
    listeners: BTreeMap<String, Url>,
    primary: Url,
}

/// Whose server it is.
#[derive(Debug)]
enum Process {
    /// Started by this handle, which stops it.
    Spawned { spawned: Spawned, grace: Duration },
    /// Started and owned by another process; see [`SharedServer`](crate::SharedServer).
    Attached(Attached),
}

impl ServerHandle {
    /// The handle of a server that is ready at `primary`, one of its `listeners`.
    pub(crate) fn ready(
        mut spawned: Spawned,
        listeners: BTreeMap<String, Url>,
        primary: Url,
        grace: Duration,
    ) -> Self {
        spawned.url = Some(primary.to_string());
        Self {
            process: Process::Spawned { spawned, grace },
            listeners,
            primary,
        }
    }

    /// The handle of a server another process started, at `primary`.
    pub(crate) fn attached(attached: Attached, primary: Url) -> Self {
        let listeners = BTreeMap::from([("http".to_owned(), primary.clone())]);
        Self {
            process: Process::Attached(attached),
            listeners,
            primary,
        }
    }

    /// Whether this handle attached to a server another process started and owns (see
    /// [`SharedServer`](crate::SharedServer)); stopping it then stops nothing.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// assert!(!web.is_attached());
    /// # Ok(()) }
    /// ```
    pub fn is_attached(&self) -> bool {
        matches!(self.process, Process::Attached(_))
    }

    /// Waits until both output pipes are closed, at most until `deadline`; returns whether they
    /// closed (the logs are then complete). An attached server's log is its owner's: complete.
    pub(crate) async fn wait_drained(&self, deadline: tokio::time::Instant) -> bool {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.monitor().wait_drained(deadline).await,
            Process::Attached(_) => true,
        }
    }

    /// Sends SIGKILL to the whole group without reaping; nothing for an attached server.
    pub(crate) fn kill_group(&self) {
        if let Process::Spawned { spawned, .. } = &self.process {
            spawned.kill_group();
        }
    }

    /// The server's base URL: its `http` listener, or else its first listener by name.
    ///
    /// Always a literal loopback IP address, and a path ending in `/` so that `url().join("path")`
    /// works. The port is explicit unless it is the scheme's default (`http://127.0.0.1/` for a
    /// server on port 80); [`port`](Self::port) returns it either way.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let text = reqwest::get(web.url().join("hello")?).await?.text().await?;
    /// assert_eq!(text, "Hello World");
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> &Url {
        &self.primary
    }

    /// The URL of a named listener, if the server announced one by that name.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// assert_eq!(web.url_for("http"), Some(web.url()));
    /// assert_eq!(web.url_for("admin"), None);
    /// # Ok(()) }
    /// ```
    pub fn url_for(&self, listener: &str) -> Option<&Url> {
        self.listeners.get(listener)
    }

    /// Every named listener.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// for (name, url) in web.listeners() {
    ///     println!("{name}: {url}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn listeners(&self) -> &BTreeMap<String, Url> {
        &self.listeners
    }

    /// The port of [`url`](Self::url).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// assert_eq!(web.url().port(), Some(web.port()));
    /// # Ok(()) }
    /// ```
    pub fn port(&self) -> u16 {
        self.url()
            .port_or_known_default()
            .expect("listener URLs have a port")
    }

    /// The server's process id (also its process group id on Unix).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// println!("server pid {} (and process group)", web.pid());
    /// # Ok(()) }
    /// ```
    pub fn pid(&self) -> u32 {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.pid(),
            // 0 is no process's id: the owner did not say.
            Process::Attached(attached) => attached.pid.unwrap_or(0),
        }
    }

    /// The server's name, as given to [`Server::name`](crate::Server::name).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// assert_eq!(web.name(), "fixtures-app");
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.name(),
            Process::Attached(attached) => &attached.name,
        }
    }

    /// The command line that started it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let server = harness::Server::cargo_bin("fixtures-app")?.args(["--instance-id", "demo"]);
    /// let web = server.spawn().await?;
    /// assert!(web.command().ends_with("fixtures-app --instance-id demo"));
    /// # Ok(()) }
    /// ```
    pub fn command(&self) -> &str {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.command(),
            Process::Attached(attached) => &attached.command,
        }
    }

    /// The nonce passed to the server in `HARNESS_INSTANCE_ID`.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let whoami = reqwest::get(web.url().join("whoami")?).await?.text().await?;
    /// assert!(whoami.contains(web.instance_id()));
    /// # Ok(()) }
    /// ```
    pub fn instance_id(&self) -> &str {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.instance_id(),
            Process::Attached(attached) => &attached.instance_id,
        }
    }

    /// The output kept so far (see [`logs`](crate::logs) for the bounds).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let logs = web.logs();
    /// assert!(logs.stdout().any(|line| line.contains("\"harness\":1")));
    /// # Ok(()) }
    /// ```
    pub fn logs(&self) -> Logs {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.monitor().logs(),
            Process::Attached(attached) => attached.logs(),
        }
    }

    /// How the server exited, if it has (asking the OS now, not a stale cache).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// assert!(web.try_status().is_none(), "the server should still be running");
    /// # Ok(()) }
    /// ```
    pub fn try_status(&self) -> Option<Exit> {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.try_exit(),
            Process::Attached(attached) => attached.try_exit(),
        }
    }

    /// Waits until the server exits on its own (or is killed by someone else). If the exit
    /// cannot be observed (someone else reaped the process), that is [`Exit::Unknown`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// // The server must not exit on its own within a second.
    /// let exited = tokio::time::timeout(Duration::from_secs(1), web.exited()).await;
    /// assert!(exited.is_err(), "server exited: {exited:?}");
    /// # Ok(()) }
    /// ```
    pub async fn exited(&self) -> Exit {
        match &self.process {
            Process::Spawned { spawned, .. } => spawned.monitor().exited().await,
            Process::Attached(attached) => attached.exited().await,
        }
    }

    /// Stops the server: SIGTERM to its process group, up to the grace period for it to exit, then
    /// SIGKILL to whatever is left of the group. Returns how the server exited, once its output
    /// has been read to the end (waiting at most 2 s for that). An exit the harness could not
    /// observe is [`Exit::Unknown`], never a success. An attached server (see
    /// [`is_attached`](Self::is_attached)) is left running for its owner: that too is
    /// `Exit::Unknown`. Processes left behind (in the group after
    /// SIGKILL, or holding its output pipes) are reported on stderr as `harness: LEAK: ...`.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let exit = web.stop().await?;
    /// assert!(exit.success(), "{exit}");
    /// # Ok(()) }
    /// ```
    pub async fn stop(self) -> Result<Exit, Error> {
        let (spawned, grace) = match self.process {
            Process::Spawned { spawned, grace } => (spawned, grace),
            Process::Attached(attached) => return Ok(attached.stop()),
        };
        spawned.terminate();
        let graceful = tokio::time::timeout(grace, spawned.monitor().exited()).await;
        if graceful.is_err() {
            tracing::debug!(server = %spawned.name(), ?grace, "grace period over; SIGKILL");
        }
        let name = spawned.name().to_owned();
        // Killing and reaping block: usually for a few milliseconds once the leader has exited;
        // at most 10 s for a leader that ignores SIGKILL (stuck in the kernel).
        let reaped = tokio::task::spawn_blocking(move || {
            let mut spawned = spawned;
            let exit = spawned.kill_and_reap();
            (spawned, exit)
        })
        .await;
        let (spawned, exit) = reaped.map_err(|e| Error::Wait {
            name: name.clone(),
            source: std::io::Error::other(format!("the reaping task failed: {e}")),
        })?;
        let exit = exit.ok_or_else(|| Error::Wait {
            name,
            source: std::io::Error::other("the server did not exit after SIGKILL"),
        })?;
        spawned.check_drained().await;
        Ok(exit)
    }
}
