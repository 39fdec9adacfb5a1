//! `harness demo`: the library at work, as a newcomer's first command (`cargo run -p harness-e2e-cli --
//! demo`). Four fixtures-app instances and four headless Chrome sessions start side by side, each
//! session drives its own instance, and a table shows what passed.
//!
//! A fresh machine may lack Chromium and a built fixtures-app, so the demo gets both first (see
//! [`install`] and [`build`]). Whatever happens, every session is closed and every server stopped
//! before it returns.

mod build;
mod checks;
mod install;
mod progress;
mod table;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinHandle;

use harness::{Browser, Driver, Error, Server, ServerHandle, Session};
use table::{Row, Table};

/// How many servers and sessions run side by side.
const INSTANCES: usize = 4;
/// How many checks each instance runs (see [`checks::run`]).
const CHECKS: usize = 3;

/// Runs the demo and returns its exit status: 0 when every check passed, 1 otherwise.
pub(crate) async fn demo() -> ExitCode {
    if let Err(error) = install::ensure_chrome().await {
        say!("harness: error: {error}");
        return ExitCode::FAILURE;
    }
    let server = match build::fixtures_app().await {
        Ok(server) => server,
        Err(error) => {
            say!("harness: error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(stack) = Stack::start(&server).await else {
        return ExitCode::FAILURE;
    };
    let started = Instant::now();
    let (rows, stack) = stack.drive().await;
    say_out!("{}", Table(&rows));
    say!(
        "harness demo: {INSTANCES} instances checked in parallel in {:.2} s; stopping everything",
        started.elapsed().as_secs_f64()
    );
    stack.stop().await;
    if rows.len() == INSTANCES && rows.iter().all(Row::ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Everything the demo started: one driver, and a server and a session per instance.
#[derive(Debug)]
struct Stack {
    driver: Driver,
    pairs: Vec<(ServerHandle, Session)>,
}

impl Stack {
    /// Starts [`INSTANCES`] servers, chromedriver and as many sessions, all at once. On any
    /// failure prints every error, stops what did start and returns `None`.
    async fn start(server: &Server) -> Option<Self> {
        let spinner = progress::spinner(format!(
            "starting {INSTANCES} fixtures-app instances, chromedriver and {INSTANCES} headless Chrome sessions"
        ));
        let servers = async {
            let spawns: Vec<JoinHandle<Result<ServerHandle, Error>>> = (0..INSTANCES)
                .map(|_| {
                    let server = server.clone();
                    tokio::spawn(async move { server.spawn().await })
                })
                .collect();
            joined(spawns).await
        };
        let browsers = async {
            let driver = Arc::new(
                Driver::start(Browser::Chrome)
                    .await
                    .map_err(|e| e.to_string())?,
            );
            let opens: Vec<JoinHandle<Result<Session, Error>>> = (0..INSTANCES)
                .map(|_| {
                    let driver = Arc::clone(&driver);
                    tokio::spawn(async move { driver.session().await })
                })
                .collect();
            let sessions = joined(opens).await;
            let driver = Arc::into_inner(driver).expect("every session task has ended");
            Ok::<_, String>((driver, sessions))
        };
        let (servers, browsers) = tokio::join!(servers, browsers);
        spinner.finish_and_clear();

        let mut errors: Vec<String> = Vec::new();
        let mut handles = Vec::new();
        for result in servers {
            match result {
                Ok(handle) => handles.push(handle),
                Err(e) => errors.push(format!("failed to start fixtures-app: {e}")),
            }
        }
        let (driver, sessions) = match browsers {
            Ok((driver, results)) => {
                let mut sessions = Vec::new();
                for result in results {
                    match result {
                        Ok(session) => sessions.push(session),
                        Err(e) => errors.push(format!("failed to open a Chrome session: {e}")),
                    }
                }
                (Some(driver), sessions)
            }
            Err(e) => {
                errors.push(format!("failed to start chromedriver: {e}"));
                (None, Vec::new())
            }
        };
        match driver {
            Some(driver) if errors.is_empty() => Some(Self {
                driver,
                pairs: handles.into_iter().zip(sessions).collect(),
            }),
            driver => {
                for error in errors {
                    say!("harness: error: {error}");
                }
                close_all(sessions).await;
                if let Some(driver) = driver {
                    let _ = driver.stop().await;
                }
                stop_all(handles).await;
                None
            }
        }
    }

    /// Runs each instance's checks in its own session, all instances at once; returns a row per
    /// instance and what is left to stop.
    async fn drive(self) -> (Vec<Row>, Self) {
        let tasks: Vec<(String, JoinHandle<_>)> = self
            .pairs
            .into_iter()
            .map(|(server, session)| {
                let url = server.url().to_string();
                let task = tokio::spawn(async move {
                    let started = Instant::now();
                    let checks = checks::run(&session, &server).await;
                    (checks, started.elapsed(), server, session)
                });
                (url, task)
            })
            .collect();
        let mut rows = Vec::new();
        let mut pairs = Vec::new();
        for (index, (url, task)) in tasks.into_iter().enumerate() {
            let (checks, elapsed) = match task.await {
                Ok((checks, elapsed, server, session)) => {
                    pairs.push((server, session));
                    (checks, elapsed)
                }
                // The task's server and session were dropped with it, which ends them.
                Err(e) => {
                    say!("harness: error: instance {} failed: {e}", index + 1);
                    (Vec::new(), Default::default())
                }
            };
            rows.push(Row {
                instance: index + 1,
                url,
                checks,
                expected: CHECKS,
                elapsed,
            });
        }
        let stack = Self {
            driver: self.driver,
            pairs,
        };
        (rows, stack)
    }

    /// Closes every session, then stops the driver and every server.
    async fn stop(self) {
        let (servers, sessions): (Vec<_>, Vec<_>) = self.pairs.into_iter().unzip();
        close_all(sessions).await;
        if let Err(e) = self.driver.stop().await {
            say!("harness: warning: failed to stop chromedriver: {e}");
        }
        stop_all(servers).await;
    }
}

/// Awaits every task, in order; a panicked task becomes an error.
async fn joined<T>(tasks: Vec<JoinHandle<Result<T, Error>>>) -> Vec<Result<T, String>> {
    let mut results = Vec::new();
    for task in tasks {
        results.push(match task.await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(e) => Err(format!("the task failed: {e}")),
        });
    }
    results
}

async fn close_all(sessions: Vec<Session>) {
    let closes: Vec<_> = sessions
        .into_iter()
        .map(|s| tokio::spawn(s.close()))
        .collect();
    for close in closes {
        if let Ok(Err(e)) = close.await {
            say!("harness: warning: {e}");
        }
    }
}

async fn stop_all(servers: Vec<ServerHandle>) {
    let stops: Vec<_> = servers
        .into_iter()
        .map(|s| tokio::spawn(s.stop()))
        .collect();
    for stop in stops {
        if let Ok(Err(e)) = stop.await {
            say!("harness: warning: {e}");
        }
    }
}
