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
    pub(crate) servers: BTreeMap<&'a str, Endpoint<'a>>,
    /// The WebDriver endpoint with `--browser`, else `null`.
    pub(crate) webdriver_url: Option<&'a str>,
}

/// Where one server listens.
#[derive(Debug, Serialize)]
pub(crate) struct Endpoint<'a> {
    /// Its base URL, ending in `/`.
    pub(crate) url: &'a str,
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
                        url: s.handle.url().as_str(),
                        port: s.handle.port(),
                        pid: s.handle.pid(),
                    };
                    (s.handle.name(), endpoint)
                })
                .collect(),
            webdriver_url: running.driver.as_ref().map(|d| d.url().as_str()),
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
            eprintln!("harness: {}: stopping the servers (again to kill them at once)", stop.name());
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
