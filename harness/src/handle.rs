//! [`ServerHandle`]: a running server, and the guarantee that it stops.

use std::collections::BTreeMap;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use crate::Error;
use crate::keep::KeptOutput;
use crate::logs::Logs;
use crate::monitor::Monitor;
use crate::process::{Child, Group};

/// How long `Drop` waits for a SIGKILLed server to be reported gone.
const KILL_WAIT: Duration = Duration::from_secs(10);

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
    name: String,
    command: String,
    pid: u32,
    child: Mutex<Option<Child>>,
    group: Mutex<Group>,
    monitor: Arc<Monitor>,
    started: Instant,
    grace: Duration,
    keep: bool,
    instance_id: String,
    listeners: BTreeMap<String, Url>,
    primary: Option<Url>,
    kept_output: Option<KeptOutput>,
}

impl ServerHandle {
    #[expect(
        clippy::too_many_arguments,
        reason = "one private constructor, called once"
    )]
    pub(crate) fn new(
        name: String,
        command: String,
        child: Child,
        group: Group,
        monitor: Arc<Monitor>,
        started: Instant,
        grace: Duration,
        keep: bool,
        instance_id: String,
    ) -> Self {
        Self {
            name,
            command,
            pid: child.id(),
            child: Mutex::new(Some(child)),
            group: Mutex::new(group),
            monitor,
            started,
            grace,
            keep,
            instance_id,
            listeners: BTreeMap::new(),
            primary: None,
            kept_output: None,
        }
    }

    pub(crate) fn set_kept_output(&mut self, kept: Option<KeptOutput>) {
        self.kept_output = kept;
    }

    pub(crate) fn set_listeners(&mut self, listeners: BTreeMap<String, Url>) {
        self.primary = listeners
            .get("http")
            .or_else(|| listeners.values().next())
            .cloned();
        self.listeners = listeners;
    }

    pub(crate) fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    /// The server's base URL: its `http` listener, or else its first listener by name.
    ///
    /// Always a literal IP address and an explicit port, ending in `/` so that
    /// `url().join("path")` works.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let text = reqwest::get(web.url().join("hello")?).await?.text().await?;
    /// assert_eq!(text, "Hello World");
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> &Url {
        self.primary
            .as_ref()
            .expect("a spawned server has at least one listener")
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
        self.pid
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
        &self.name
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
        &self.command
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
        &self.instance_id
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
        self.monitor.logs()
    }

    /// The exit status, if the server has exited on its own.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// assert!(web.try_status().is_none(), "the server should still be running");
    /// # Ok(()) }
    /// ```
    pub fn try_status(&self) -> Option<ExitStatus> {
        self.monitor.check_exit(self.pid)
    }

    /// Waits until the server exits on its own (or is killed by someone else).
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
    pub async fn exited(&self) -> ExitStatus {
        self.monitor.exited().await
    }

    /// Stops the server: SIGTERM to its process group, up to the grace period for it to exit, then
    /// SIGKILL to whatever is left of the group. Returns the server's exit status; with echoing on
    /// (`HARNESS_LOG=1`), once its output has been read to the end (waiting at most 2 s for that),
    /// so that its last lines are printed before this returns.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let status = web.stop().await?;
    /// assert!(status.success());
    /// # Ok(()) }
    /// ```
    pub async fn stop(self) -> Result<ExitStatus, Error> {
        self.lock_group().terminate();
        let graceful = tokio::time::timeout(self.grace, self.monitor.exited()).await;
        if graceful.is_err() {
            tracing::debug!(server = %self.name, grace = ?self.grace, "grace period over; SIGKILL");
        }
        let monitor = Arc::clone(&self.monitor);
        let name = self.name.clone();
        let this = self;
        // Killing and reaping block for at most a few milliseconds once the leader has exited.
        let status = tokio::task::spawn_blocking(move || {
            let mut this = this;
            this.kill_and_reap()
        })
        .await
        .ok()
        .flatten()
        .or_else(|| monitor.exit_status());
        // Echoed output is the only part of the logs anyone can still see after `stop`: let it end.
        // The whole group is dead, so the pipes close as soon as their readers catch up.
        if monitor.echoes() {
            monitor.streams_closed(crate::monitor::DRAIN_LIMIT).await;
        }
        status.ok_or_else(|| Error::Wait {
            name,
            source: std::io::Error::other("the server did not exit after SIGKILL"),
        })
    }

    /// Sends SIGKILL to the whole group without reaping (used on readiness failures).
    pub(crate) fn kill_group(&self) {
        self.lock_group().kill();
    }

    fn lock_group(&self) -> std::sync::MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Kills the group, waits for the leader, reaps it and forgets the group. Idempotent.
    fn kill_and_reap(&mut self) -> Option<ExitStatus> {
        let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return self.monitor.exit_status();
        };
        let mut group = self.lock_group();
        group.kill();
        let status = self.monitor.wait_exit_blocking(KILL_WAIT);
        if status.is_some() {
            // The leader stayed a zombie until now, so the group id could not be reused before the
            // kill above. Unregister from the watchdog first, then reap: once reaped, the id is
            // free for reuse, and the watchdog must no longer be holding it.
            group.release();
            let _ = child.wait();
        } else {
            tracing::warn!(server = %self.name, pid = self.pid, "server did not die after SIGKILL");
        }
        status
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if self.keep {
            if self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some()
            {
                let at = self
                    .primary
                    .as_ref()
                    .map(Url::as_str)
                    .unwrap_or("(not ready)");
                eprintln!(
                    "harness: HARNESS_KEEP is set: leaving server `{}` running (pid {}) at {at}; stop it with: kill -TERM -- -{}",
                    self.name,
                    self.pid,
                    self.lock_group().id()
                );
                if let Some(kept) = &self.kept_output {
                    eprintln!(
                        "harness: its output goes to {} and {}",
                        kept.stdout.display(),
                        kept.stderr.display()
                    );
                }
            }
            return;
        }
        self.kill_and_reap();
    }
}
