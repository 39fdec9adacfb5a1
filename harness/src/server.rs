//! [`Server`]: describe a server, spawn it on port 0, and learn where it listens.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use crate::checks::{self, Checks};
use crate::handle::ServerHandle;
use crate::keep::KeptOutput;
use crate::monitor::Phase;
use crate::process::{self, Command, Stdio};
use crate::spawned::{Launch, Spawned};
use crate::{Error, Ready, locate};

/// The default time a server gets to become ready.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(harness::DEFAULT_READY_TIMEOUT, Duration::from_secs(30));
/// ```
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time between SIGTERM and SIGKILL in [`ServerHandle::stop`].
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
/// [`logs`](ServerHandle::logs) from spawn to exit.
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

    /// Time between SIGTERM and SIGKILL in [`ServerHandle::stop`] (default 5 s).
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
        Ok(program)
    }

    /// Starts the server and waits until it is ready and its checks pass.
    ///
    /// Fails at once, with the exit status and output tails, if the server exits first; after the
    /// ready timeout, saying it was still running; on a malformed handshake, quoting the line. On
    /// any failure the server's whole process group is killed before this returns.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// println!("listening at {}", web.url());
    /// # Ok(()) }
    /// ```
    pub async fn spawn(&self) -> Result<ServerHandle, Error> {
        let program = self.validate()?;
        let name = self.name.clone().unwrap_or_else(|| {
            program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "server".into())
        });
        let command = command_line(&program, &self.args);
        let keep = self.keep.unwrap_or_else(|| env_flag("HARNESS_KEEP"));
        let instance_id = checks::nonce();

        let mut cmd = Command::new(&program);
        cmd.args(&self.args).stdin(Stdio::null());
        let kept = if keep {
            let (paths, stdout, stderr) =
                KeptOutput::create(&name, &instance_id).map_err(|source| Error::Spawn {
                    command: command.clone(),
                    source,
                })?;
            cmd.stdout(stdout).stderr(stderr);
            Some(paths)
        } else {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            None
        };
        for (key, value) in [
            ("PORT", "0"),
            ("PYTHONUNBUFFERED", "1"),
            (INSTANCE_ID_ENV, instance_id.as_str()),
        ] {
            if self.env_value(key).is_none() {
                cmd.env(key, value);
            }
        }
        for (key, value) in &self.envs {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.current_dir {
            cmd.current_dir(dir);
        }
        process::configure(&mut cmd, keep);

        let launch = Launch {
            name,
            command,
            instance_id,
            echo: self.echo.unwrap_or_else(|| env_flag("HARNESS_LOG")),
            kept,
            ready: self.ready.clone(),
            fail_after_spawn: self.fail_after_spawn,
        };
        let deadline = tokio::time::Instant::now() + self.ready_timeout;
        // Any error from here on drops `spawned`, which kills and reaps the whole group.
        let spawned = Spawned::start(cmd, launch).await?;
        let listeners = self.wait_ready(&spawned, deadline).await?;
        let primary = crate::urls::primary(&listeners)
            .cloned()
            .expect("a ready server has at least one listener");
        let target = crate::checks::Target {
            url: &primary,
            instance_id: spawned.instance_id(),
            ready_timeout: self.ready_timeout,
            deadline,
            exit: || spawned.try_exit(),
        };
        if let Err((failed, exit)) = self.checks.run(target).await {
            return Err(failed.into_error(spawned.fail(exit).await));
        }
        tracing::debug!(server = %spawned.name(), url = %primary, pid = spawned.pid(), "server ready");
        Ok(ServerHandle::ready(spawned, listeners, primary, self.grace))
    }

    async fn wait_ready(
        &self,
        spawned: &Spawned,
        deadline: tokio::time::Instant,
    ) -> Result<std::collections::BTreeMap<String, url::Url>, Error> {
        let monitor = spawned.monitor();
        let listening = async {
            if !self.ready.is_listening() {
                return std::future::pending().await;
            }
            loop {
                #[cfg(target_os = "linux")]
                if let Some(addr) = crate::listening::listening_addr(spawned.pid()) {
                    return Phase::Ready {
                        listeners: crate::ready::listener_url(addr),
                        line: String::new(),
                        pid: None,
                    };
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let settled = tokio::select! {
            biased;
            phase = monitor.settled() => phase,
            phase = listening => phase,
            _ = monitor.exited() => Phase::Starting,
            () = tokio::time::sleep_until(deadline) => {
                return Err(Error::Timeout {
                    timeout: self.ready_timeout,
                    seen: monitor.notes(),
                    failure: Box::new(spawned.fail(None).await),
                });
            }
        };
        match settled {
            Phase::Ready {
                listeners,
                line,
                pid,
            } => {
                if let Some(pid) = pid {
                    crate::ready::check_announced_pid(spawned.name(), pid, spawned.pid());
                }
                if self.ready.is_line() {
                    self.confirm_listening(spawned, &listeners, line, deadline)
                        .await?;
                }
                Ok(listeners)
            }
            Phase::Malformed(source) => {
                // Whether it already exited on its own, before our kill, is part of the story.
                let exit = spawned.try_exit();
                Err(Error::Handshake {
                    failure: Box::new(spawned.fail(exit).await),
                    problem: source,
                })
            }
            // Exited before it was ready. Kill what is left of its group first (a grandchild may
            // hold the pipes), then read the pipes to their end: the last lines explain the exit.
            Phase::Starting => {
                let exit = monitor.exit_status();
                Err(Error::Exited(Box::new(spawned.fail(exit).await)))
            }
        }
    }
}

impl Server {
    /// A port read from the output by a regex may be the wrong number (the `127` of `127.0.0.1`):
    /// hand it out only once the server's own process group listens on it (Linux: `/proc`; where
    /// that cannot be read, the port is trusted). Polls, since a server may print its port a
    /// moment before it listens, until the ready deadline.
    async fn confirm_listening(
        &self,
        spawned: &Spawned,
        listeners: &std::collections::BTreeMap<String, url::Url>,
        line: String,
        deadline: tokio::time::Instant,
    ) -> Result<(), Error> {
        #[cfg(target_os = "linux")]
        for url in listeners.values() {
            let Some(port) = url.port_or_known_default() else {
                continue;
            };
            loop {
                match crate::listening::group_listens_on(spawned.pid(), port) {
                    Some(true) | None => break,
                    Some(false) => {}
                }
                if let Some(exit) = spawned.try_exit() {
                    return Err(Error::Exited(Box::new(spawned.fail(Some(exit)).await)));
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(Error::NotListening {
                        line,
                        port,
                        failure: Box::new(spawned.fail(None).await),
                    });
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (spawned, listeners, line, deadline);
        Ok(())
    }
}

fn env_flag(key: &str) -> bool {
    std::env::var_os(key).is_some_and(|v| !v.is_empty() && v != "0")
}

/// A command line for messages, quoting arguments that need it.
fn command_line(program: &std::path::Path, args: &[OsString]) -> String {
    std::iter::once(program.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$`".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
