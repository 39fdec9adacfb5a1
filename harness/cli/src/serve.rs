//! `harness serve`: start the servers, say where they are in one JSON line, run until a signal.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use super::args::ServeArgs;
use super::exit;
use super::plan::Plan;
use super::stack::{self, Running};

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

/// Runs `harness serve` until a signal and returns its exit status.
pub(crate) async fn serve(args: ServeArgs) -> ExitCode {
    let plan = match Plan::new(&args.stack, Some(true)) {
        Ok(plan) => plan,
        Err(error) => return super::usage_error(&error),
    };
    let (running, mut signals) = match stack::launch(plan).await {
        Ok(launched) => launched,
        Err(status) => return status,
    };

    let line = serde_json::to_string(&Announcement::of(&running)).expect("plain data serializes");
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
    };
    if let Some(stop) = running.stop(&mut signals).await {
        return exit::after_signal(stop.number());
    }
    ExitCode::from(if died { exit::SERVER_DIED } else { 0 })
}
