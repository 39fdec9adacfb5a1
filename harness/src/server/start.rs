//! Starting a [`Server`]: spawn, readiness, checks, and the kill of its group on any failure.

use std::ffi::OsString;
use std::time::Duration;

use super::{INSTANCE_ID_ENV, Server};
use crate::Error;
use crate::checks;
use crate::handle::ServerHandle;
use crate::keep::KeptOutput;
use crate::monitor::Phase;
use crate::process::{self, Command, Stdio};
use crate::spawned::{Launch, Spawned};

impl Server {
    /// The name given to [`name`](Self::name), else `program`'s file name.
    pub(super) fn display_name(&self, program: &std::path::Path) -> String {
        self.name.clone().unwrap_or_else(|| {
            program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "server".into())
        })
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
        let host = self.checked_host()?;
        let name = self.display_name(&program);
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
        if let Some(ip) = host
            && self.env_value(super::host::HOST_ENV).is_none()
        {
            cmd.env(super::host::HOST_ENV, ip.to_string());
        }
        for (key, value) in &self.envs {
            cmd.env_change(key, value.as_deref());
        }
        if let Some(dir) = &self.current_dir {
            cmd.current_dir(dir);
        }
        process::configure(&mut cmd, keep);

        let log = match &self.log_file {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| Error::Spawn {
                        command: format!("{command} (its log file {})", path.display()),
                        source,
                    })?,
            ),
            None => None,
        };
        let launch = Launch {
            name,
            command,
            instance_id,
            echo: self.echo.unwrap_or_else(|| env_flag("HARNESS_LOG")),
            kept,
            ready: self.ready.clone().on_host(host),
            fail_after_spawn: self.fail_after_spawn,
            log,
        };
        let deadline = tokio::time::Instant::now() + self.ready_timeout;
        // Any error from here on drops `spawned`, which kills and reaps the whole group.
        let spawned = Spawned::start(cmd, launch).await?;
        let listeners = self.wait_ready(&spawned, deadline, host).await?;
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
        super::host::warn_if_unreachable(spawned.name(), &primary, host);
        Ok(ServerHandle::ready(spawned, listeners, primary, self.grace))
    }

    async fn wait_ready(
        &self,
        spawned: &Spawned,
        deadline: tokio::time::Instant,
        host: Option<std::net::IpAddr>,
    ) -> Result<std::collections::BTreeMap<String, url::Url>, Error> {
        let monitor = spawned.monitor();
        let listening = async {
            if !self.ready.is_listening() {
                return std::future::pending().await;
            }
            loop {
                #[cfg(target_os = "linux")]
                if let Some(addr) = crate::listening::group_listening_addr(
                    spawned.pid(),
                    self.ready.skipped_ports(),
                ) {
                    return match crate::ready::listener_url(addr, host) {
                        Ok(listeners) => Phase::Ready {
                            listeners,
                            line: String::new(),
                            pid: None,
                        },
                        Err(why) => Phase::IgnoredHost(format!("it listens on {addr}: {why}")),
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
                    self.confirm_listening(spawned, &listeners, line, deadline, host)
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
            Phase::IgnoredHost(why) => Err(Error::IgnoredHost {
                why,
                failure: Box::new(spawned.fail(spawned.try_exit()).await),
            }),
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
    /// moment before it listens, until the ready deadline. A server asked to bind `host` that
    /// listens on another loopback address instead fails at once, as if it had announced it.
    async fn confirm_listening(
        &self,
        spawned: &Spawned,
        listeners: &std::collections::BTreeMap<String, url::Url>,
        line: String,
        deadline: tokio::time::Instant,
        host: Option<std::net::IpAddr>,
    ) -> Result<(), Error> {
        #[cfg(target_os = "linux")]
        for url in listeners.values() {
            let Some(port) = url.port_or_known_default() else {
                continue;
            };
            loop {
                match crate::listening::group_listens_on(spawned.pid(), port) {
                    Some(true) => {
                        if let Some(addr) =
                            crate::listening::group_listening_addr(spawned.pid(), &[])
                                .filter(|a| a.port() == port && host.is_some())
                            && let Err(why) = crate::urls::connect_ip_on(addr.ip(), host)
                        {
                            return Err(Error::IgnoredHost {
                                why: format!("server line {line:?}: it listens on {addr}: {why}"),
                                failure: Box::new(spawned.fail(spawned.try_exit()).await),
                            });
                        }
                        break;
                    }
                    None => break,
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
        let _ = (spawned, listeners, line, deadline, host);
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
