//! [`Server`]: describe a server, spawn it on port 0, and learn where it listens.

use std::ffi::{OsStr, OsString};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::checks::Checks;
use crate::{Error, Ready, locate};

/// The default time a server gets to become ready.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(harness::DEFAULT_READY_TIMEOUT, Duration::from_secs(30));
/// ```
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time between SIGTERM and SIGKILL in [`ServerHandle::stop`](crate::ServerHandle::stop).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(harness::DEFAULT_GRACE, Duration::from_secs(5));
/// ```
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// The longest ready timeout or grace period accepted: a deadline further away cannot be
/// represented on every platform, and no test waits that long on purpose.
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The environment variable that carries a fresh per-spawn nonce to the server.
///
/// ```
/// assert_eq!(harness::INSTANCE_ID_ENV, "HARNESS_INSTANCE_ID");
/// // In the server: answer an identity check (e.g. `/whoami`) with this value.
/// let instance_id = std::env::var(harness::INSTANCE_ID_ENV).unwrap_or_default();
/// ```
pub const INSTANCE_ID_ENV: &str = "HARNESS_INSTANCE_ID";

/// A server to start: a program, its arguments and environment, and how to tell it is ready.
///
/// The server is started with `PORT=0`, `PYTHONUNBUFFERED=1` (Python block-buffers stdout into a
/// pipe, so its ready line would never arrive) and `HARNESS_INSTANCE_ID=<fresh nonce>`, unless you set
/// or remove those yourself. Its stdin is `/dev/null`; stdout and stderr are drained into
/// [`logs`](crate::ServerHandle::logs) from spawn to exit.
///
/// ```no_run
/// use std::time::Duration;
/// use harness::{Ready, Server};
///
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let web = Server::cargo_bin("fixtures-app")?.spawn().await?;
/// let text = reqwest::get(web.url().join("hello")?).await?.text().await?;
/// assert_eq!(text, "Hello World");
///
/// let py = Server::new("python3")
///     .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
///     .ready(Ready::line(r"port (?P<port>\d+)")?)
///     .ready_timeout(Duration::from_secs(5))
///     .spawn()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Server does nothing until spawned"]
pub struct Server {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    current_dir: Option<PathBuf>,
    name: Option<String>,
    ready: Ready,
    ready_timeout: Duration,
    grace: Duration,
    checks: Checks,
    echo: Option<bool>,
    keep: Option<bool>,
    fail_after_spawn: bool,
    log_file: Option<PathBuf>,
    host: Option<IpAddr>,
}

impl Server {
    /// A server run from `program`: a path, or a name looked up on `PATH` (the server's own `PATH`
    /// if you set one with [`env`](Self::env)). A relative path is resolved against this
    /// process's working directory, not [`current_dir`](Self::current_dir).
    ///
    /// ```
    /// let server = harness::Server::new("python3").args(["-m", "http.server", "0"]);
    /// assert_eq!(server.program(), "python3");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            current_dir: None,
            name: None,
            ready: Ready::handshake(),
            ready_timeout: DEFAULT_READY_TIMEOUT,
            grace: DEFAULT_GRACE,
            checks: Checks::default(),
            echo: None,
            keep: None,
            fail_after_spawn: false,
            log_file: None,
            host: None,
        }
    }

    /// A binary of this cargo workspace, found next to the running test executable (in
    /// `target/<profile>/`). `CARGO_BIN_EXE_<name>` only exists inside the package that owns the
    /// binary; this works from any package of the workspace once the binary is built, and otherwise
    /// says which command builds it. The server is named `name`.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// # Ok(()) }
    /// ```
    pub fn cargo_bin(name: &str) -> Result<Self, Error> {
        Ok(Self::new(locate::cargo_bin(name)?).name(name))
    }

    /// Adds one argument.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .arg("--instance-id")
    ///     .arg("demo")
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .args(["--handshake-delay-ms", "200"])
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the server.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .env("RUST_LOG", "debug")
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Removes an environment variable from the server's environment.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .env_remove("HTTP_PROXY")
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().to_owned(), None));
        self
    }

    /// Runs the server in `dir`.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .current_dir(std::env::temp_dir())
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Labels the server in logs and errors (default: the program's file name).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.name("web").spawn().await?;
    /// assert_eq!(web.name(), "web");
    /// # Ok(()) }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How to tell the server is ready (default: [`Ready::handshake`]).
    ///
    /// ```no_run
    /// use harness::{Ready, Server};
    /// # async fn f() -> Result<(), harness::Error> {
    /// let py = Server::new("python3")
    ///     .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
    ///     .ready(Ready::line(r"port (?P<port>\d+)")?)
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn ready(mut self, ready: Ready) -> Self {
        self.ready = ready;
        self
    }

    /// How long the server gets to become ready, checks included (default 30 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .ready_timeout(Duration::from_secs(5))
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Time between SIGTERM and SIGKILL in [`ServerHandle::stop`](crate::ServerHandle::stop) (default 5 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .arg("--ignore-sigterm")
    ///     .grace(Duration::from_millis(500))
    ///     .spawn()
    ///     .await?;
    /// web.stop().await?; // SIGKILLed after 500 ms
    /// # Ok(()) }
    /// ```
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// After readiness, GET `path` on the server's URL until it answers 2xx.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .health_check("/health")
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn health_check(mut self, path: impl Into<String>) -> Self {
        self.checks.health = Some(path.into());
        self
    }

    /// After readiness (and the health check), GET `path` and require the body to contain this
    /// spawn's nonce, passed to the server in `HARNESS_INSTANCE_ID`. This proves the URL reaches
    /// the server just started, not another suite's server on a reused port.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .identity_check("/whoami")
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn identity_check(mut self, path: impl Into<String>) -> Self {
        self.checks.identity = Some(path.into());
        self
    }

    /// Echoes every output line live to stderr with a `[name]` prefix (default: on when
    /// `HARNESS_LOG=1`).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .echo_logs(true)
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn echo_logs(mut self, echo: bool) -> Self {
        self.echo = Some(echo);
        self
    }

    /// Leaves the server running when the handle is dropped and when this process exits, and
    /// prints how to stop it (default: on when `HARNESS_KEEP=1`). For debugging only.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.keep(true).spawn().await?;
    /// drop(web); // prints how to stop the server, which keeps running
    /// # Ok(()) }
    /// ```
    pub fn keep(mut self, keep: bool) -> Self {
        self.keep = Some(keep);
        self
    }

    /// Also appends every line the server prints, stdout and stderr in the order they are read
    /// (ANSI codes removed), to the file at `path`, created if missing. Unlike
    /// [`logs`](crate::ServerHandle::logs), the file is not bounded: it has the whole output.
    /// A write that fails (disk full) stops the copy, never the draining.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?
    ///     .log_file(std::env::temp_dir().join("web.log"))
    ///     .spawn()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// A test hook for the harness's own cleanup tests: the spawn fails right after the OS
    /// started the process, as any later step could. The process must then be gone.
    #[doc(hidden)]
    pub fn fail_after_spawn(mut self) -> Self {
        self.fail_after_spawn = true;
        self
    }

    /// The program as given.
    ///
    /// ```
    /// let server = harness::Server::new("/usr/bin/python3");
    /// assert_eq!(server.program(), "/usr/bin/python3");
    /// ```
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    fn env_value(&self, key: &str) -> Option<Option<&OsStr>> {
        self.envs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_deref())
    }

    /// Checks the description without starting anything; [`spawn`](Self::spawn) does this first.
    ///
    /// ```
    /// let err = harness::Server::new("no-such-program").validate().unwrap_err();
    /// assert!(matches!(err, harness::Error::ProgramNotFound { .. }));
    /// ```
    pub fn validate(&self) -> Result<PathBuf, Error> {
        let path_var = self.env_value("PATH").flatten();
        let program = locate::resolve(&self.program, path_var)?;
        if let Some(dir) = &self.current_dir
            && !dir.is_dir()
        {
            return Err(Error::NotADirectory(dir.clone()));
        }
        if self.ready_timeout.is_zero() {
            return Err(Error::ZeroTimeout);
        }
        if self.ready_timeout > MAX_TIMEOUT || self.grace > MAX_TIMEOUT {
            return Err(Error::TimeoutTooLong {
                timeout: self.ready_timeout.max(self.grace),
            });
        }
        if self.ready.is_listening() && !cfg!(target_os = "linux") {
            return Err(Error::Unsupported {
                what: "Ready::listening (it reads /proc)",
            });
        }
        self.checks.validate()?;
        self.checked_host()?;
        Ok(program)
    }
}

mod attach;
mod host;
mod start;
