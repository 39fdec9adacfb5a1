//! `harness serve`: start the servers, say where they are in one JSON line, run until a signal
//! (or until its owner exits, or stdin ends: see [`lifetime`](super::lifetime)).

mod detach;
mod env_file;
mod prepare;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use super::args::ServeArgs;
use super::exit;
use super::stack::{self, Running};
use prepare::Prepared;

/// The line `serve` prints once everything is ready.
#[derive(Debug, Serialize)]
pub(crate) struct Announcement<'a> {
    /// Each server by name.
    pub(crate) servers: BTreeMap<&'a str, Endpoint>,
    /// The WebDriver endpoint with `--browser` (no trailing `/`, as `WEBDRIVER_URL`), else `null`.
    pub(crate) webdriver_url: Option<String>,
}

/// Where one server listens.
#[derive(Debug, Serialize)]
pub(crate) struct Endpoint {
    /// Its base URL, ending in `/`, as `NAME_URL` (no query or fragment).
    pub(crate) url: String,
    /// The port of `url`.
    pub(crate) port: u16,
    /// Its process id (and process group id).
    pub(crate) pid: u32,
    /// The nonce it got in `HARNESS_INSTANCE_ID`, which an identity check expects back.
    pub(crate) instance_id: String,
    /// With `--log-dir`: the file with its whole output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log: Option<String>,
}

impl<'a> Announcement<'a> {
    /// Describes `running`.
    pub(crate) fn of(running: &'a Running) -> Self {
        Self {
            servers: running
                .servers
                .iter()
                .map(|s| {
                    let endpoint = Endpoint {
                        url: stack::base_url(s.handle.url()),
                        port: s.handle.port(),
                        pid: s.handle.pid(),
                        instance_id: s.handle.instance_id().to_owned(),
                        log: None,
                    };
                    (s.handle.name(), endpoint)
                })
                .collect(),
            webdriver_url: match &running.endpoint {
                Some(endpoint) => Some(endpoint.url()),
                None => running
                    .driver
                    .as_ref()
                    .map(|d| stack::webdriver_url(d.url())),
            },
        }
    }
}

impl Announcement<'_> {
    /// Names each server's log file in `dir` (`--log-dir`).
    pub(crate) fn with_logs(mut self, dir: Option<&std::path::Path>) -> Self {
        if let Some(dir) = dir {
            for (name, endpoint) in &mut self.servers {
                endpoint.log = Some(env_file::log_path(dir, name));
            }
        }
        self
    }
}

/// Runs `harness serve` until a signal (or the end of its lifetime) and returns its exit status.
pub(crate) async fn serve(args: ServeArgs) -> ExitCode {
    if args.detached_child {
        detach::leave_session();
    }
    let prepared = match Prepared::new(&args) {
        Ok(prepared) => prepared,
        Err(error) => return super::usage_error(&error),
    };
    if args.detach && !args.detached_child {
        return detach::detach(&args, prepared).await;
    }
    let Prepared {
        plan,
        mut lifetime,
        env_file,
        log_dir,
    } = prepared;
    if args.stdin_eof
        && let Err(error) = lifetime.watch_stdin()
    {
        return super::internal_error("start reading stdin", &error);
    }
    let launched = tokio::select! {
        launched = stack::launch(plan) => launched,
        ended = lifetime.ended() => {
            // Dropping the start-up kills whatever had started.
            say!("harness: {ended} before the servers were ready: stopping");
            return ExitCode::SUCCESS;
        }
    };
    let (running, mut signals) = match launched {
        Ok(launched) => launched,
        Err(status) => return status,
    };

    if let Some(mut file) = env_file {
        let variables = env_file::variables(&running, log_dir.as_deref());
        if let Err(error) = env_file::append(&mut file, &variables) {
            say!(
                "harness: error: failed to write --env-file {}: {error}",
                args.env_file
                    .as_deref()
                    .unwrap_or(std::path::Path::new(""))
                    .display()
            );
            running.stop(&mut signals).await;
            return ExitCode::FAILURE;
        }
    }
    let announcement = Announcement::of(&running).with_logs(log_dir.as_deref());
    let line = serde_json::to_string(&announcement).expect("plain data serializes");
    let mut stdout = std::io::stdout().lock();
    // A reader that went away after the line is no reason to stop serving.
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    drop(stdout);

    let died = tokio::select! {
        stop = signals.next() => {
            say!("harness: {}: stopping the servers (again to kill them at once)", stop.name());
            false
        }
        (index, status) = running.next_death(&[]) => {
            running.report_death(index, status, "serving").await;
            true
        }
        ended = lifetime.ended() => {
            say!("harness: {ended}: stopping the servers");
            false
        }
    };
    if let Some(stop) = running.stop(&mut signals).await {
        return exit::after_signal(stop.number());
    }
    ExitCode::from(if died { exit::SERVER_DIED } else { 0 })
}
