//! The running servers (and browser driver) of one `harness` invocation: started together,
//! watched, described, and stopped together.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::Poll;

use tokio::task::JoinSet;

use super::plan::Plan;
use super::signals::{Signals, Stop};
use super::webdriver::Endpoint;
use harness::logs::Stream;
use harness::{Driver, Error, Exit, ServerHandle};

/// Lines of each stream shown for a server when something failed.
pub(crate) const FAILURE_TAIL: usize = 40;

/// A started server and the prefix of its variables.
#[derive(Debug)]
pub(crate) struct Started {
    /// The variable prefix, like `WEB` for `WEB_URL`.
    pub(crate) prefix: String,
    /// The running server.
    pub(crate) handle: ServerHandle,
}

/// Everything that was started, all ready.
#[derive(Debug)]
pub(crate) struct Running {
    /// The servers, in the order given.
    pub(crate) servers: Vec<Started>,
    /// The browser driver, with `--browser` (without `--pool`).
    pub(crate) driver: Option<Driver>,
    /// The pooling WebDriver endpoint, with `--browser` and `--pool`.
    pub(crate) endpoint: Option<Endpoint>,
}

/// Why [`start`] gave up.
#[derive(Debug)]
pub(crate) enum StartError {
    /// At least one server or the driver did not become ready; the errors were printed.
    NotReady,
    /// `harness` was asked to stop; everything started so far was killed.
    Stopped(Stop),
}

/// What `run` and `serve` share: signal handlers first (so a Ctrl-C during start-up is handled),
/// then [`start`]. On failure, the exit status to end with.
pub(crate) async fn launch(plan: Plan) -> Result<(Running, Signals), ExitCode> {
    let mut signals = Signals::install()
        .map_err(|error| super::internal_error("install signal handlers", &error))?;
    match start(plan, &mut signals).await {
        Ok(running) => Ok((running, signals)),
        Err(StartError::NotReady) => Err(ExitCode::from(super::exit::NOT_READY)),
        Err(StartError::Stopped(stop)) => Err(super::exit::after_signal(stop.number())),
    }
}

/// Starts every server and the driver concurrently and waits until all are ready.
///
/// On failure, prints each error (cause, exit status, output tails) to stderr and kills whatever
/// did start. A stop request meanwhile kills everything at once.
pub(crate) async fn start(plan: Plan, signals: &mut Signals) -> Result<Running, StartError> {
    let mut tasks = JoinSet::new();
    for (index, named) in plan.servers.into_iter().enumerate() {
        tasks.spawn(async move {
            let result = named.server.spawn().await;
            Launched::Server {
                index,
                name: named.name,
                prefix: named.prefix,
                result,
            }
        });
    }
    match (plan.pool, plan.browser) {
        (Some(options), _) => {
            tasks.spawn(async move { Launched::Pool(Endpoint::start(&options).await) });
        }
        (None, Some(browser)) => {
            tasks.spawn(async move { Launched::Driver(browser, Driver::start(browser).await) });
        }
        (None, None) => {}
    }

    let mut servers: Vec<(usize, Started)> = Vec::new();
    let mut driver = None;
    let mut endpoint = None;
    let mut failed = false;
    loop {
        let joined = tokio::select! {
            joined = tasks.join_next() => joined,
            stop = signals.next() => {
                say!("harness: {}: stopping", stop.name());
                // Dropping the tasks drops any handle already made, which kills its server.
                tasks.shutdown().await;
                return Err(StartError::Stopped(stop));
            }
        };
        let Some(joined) = joined else { break };
        match joined {
            Ok(Launched::Server {
                index,
                prefix,
                result: Ok(handle),
                ..
            }) => servers.push((index, Started { prefix, handle })),
            Ok(Launched::Server {
                name,
                result: Err(error),
                ..
            }) => {
                failed = true;
                say!("harness: error: server `{name}` did not become ready: {error:?}");
            }
            Ok(Launched::Driver(_, Ok(started))) => driver = Some(started),
            Ok(Launched::Driver(browser, Err(error))) => {
                failed = true;
                say!("harness: error: the {browser} driver did not become ready: {error:?}");
            }
            Ok(Launched::Pool(Ok(started))) => endpoint = Some(started),
            Ok(Launched::Pool(Err(error))) => {
                failed = true;
                say!("harness: error: the pooling WebDriver endpoint did not start: {error}");
            }
            Err(panic) => {
                failed = true;
                say!("harness: error: starting a server panicked: {panic}");
            }
        }
    }
    if failed {
        if let Some(endpoint) = endpoint {
            endpoint.stop().await;
        }
        return Err(StartError::NotReady);
    }
    servers.sort_by_key(|(index, _)| *index);
    Ok(Running {
        servers: servers.into_iter().map(|(_, started)| started).collect(),
        driver,
        endpoint,
    })
}

/// What one start task produced.
enum Launched {
    Server {
        index: usize,
        name: String,
        prefix: String,
        result: Result<ServerHandle, Error>,
    },
    Driver(harness::Browser, Result<Driver, Error>),
    Pool(Result<Endpoint, super::webdriver::StartError>),
}

impl Running {
    /// The variables the test command gets: `NAME_URL`, `NAME_PORT` and `NAME_PID` per server, and
    /// `WEBDRIVER_URL` with a driver.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for Started { prefix, handle } in &self.servers {
            env.push((format!("{prefix}_URL"), base_url(handle.url())));
            env.push((format!("{prefix}_PORT"), handle.port().to_string()));
            env.push((format!("{prefix}_PID"), handle.pid().to_string()));
        }
        if let Some(driver) = &self.driver {
            env.push(("WEBDRIVER_URL".into(), webdriver_url(driver.url())));
        }
        if let Some(endpoint) = &self.endpoint {
            env.push(("WEBDRIVER_URL".into(), endpoint.url()));
            env.push(("HARNESS_WEBDRIVER_POOL".into(), endpoint.url()));
        }
        env
    }

    /// Every process to watch: the servers, then the driver's (a pooling endpoint's
    /// chromedriver).
    pub(crate) fn handles(&self) -> impl Iterator<Item = &ServerHandle> {
        self.servers
            .iter()
            .map(|s| &s.handle)
            .chain(self.driver.as_ref().and_then(Driver::process))
            .chain(self.endpoint.as_ref().and_then(Endpoint::driver))
    }

    /// Waits until one of the watched processes not in `dead` exits; returns its index in
    /// [`handles`](Self::handles). Never returns if all are in `dead`.
    pub(crate) async fn next_death(&self, dead: &[usize]) -> (usize, Exit) {
        type Wait<'a> = Pin<Box<dyn Future<Output = (usize, Exit)> + Send + 'a>>;
        let mut waits: Vec<Wait<'_>> = self
            .handles()
            .enumerate()
            .filter(|(index, _)| !dead.contains(index))
            .map(|(index, handle)| -> Wait<'_> {
                Box::pin(async move { (index, handle.exited().await) })
            })
            .collect();
        std::future::poll_fn(|cx| {
            for wait in &mut waits {
                if let Poll::Ready(found) = wait.as_mut().poll(cx) {
                    return Poll::Ready(found);
                }
            }
            Poll::Pending
        })
        .await
    }

    /// The indices of watched processes that have exited and are not in `dead` yet.
    pub(crate) fn newly_dead(&self, dead: &[usize]) -> Vec<(usize, Exit)> {
        self.handles()
            .enumerate()
            .filter(|(index, _)| !dead.contains(index))
            .filter_map(|(index, handle)| handle.try_status().map(|status| (index, status)))
            .collect()
    }

    /// Says on stderr that watched process `index` died `while`, with its last lines (read to the
    /// end first, bounded: a dying server's last words are the ones that explain it). What is
    /// left of its process group is killed first: it would hold the pipes open, and it has
    /// nothing left to serve.
    pub(crate) async fn report_death(&self, index: usize, status: Exit, during: &str) {
        if let Some(handle) = self.handles().nth(index) {
            harness::__cli::kill_group(handle);
            let deadline = tokio::time::Instant::now() + harness::__cli::DRAIN_LIMIT;
            harness::__cli::wait_drained(handle, deadline).await;
            say!(
                "harness: error: server `{}` (pid {}) died while {during}: {}\n{}",
                handle.name(),
                handle.pid(),
                status,
                tails(handle)
            );
        }
    }

    /// Prints the last lines of every watched process not in `skip` to stderr.
    pub(crate) fn print_tails(&self, skip: &[usize]) {
        for (index, handle) in self.handles().enumerate() {
            if !skip.contains(&index) {
                say!(
                    "harness: last lines of server `{}`:\n{}",
                    handle.name(),
                    tails(handle)
                );
            }
        }
    }

    /// Stops everything concurrently: SIGTERM, the grace period, SIGKILL. Another stop request
    /// meanwhile kills everything at once, and is returned.
    pub(crate) async fn stop(self, signals: &mut Signals) -> Option<Stop> {
        let mut tasks = JoinSet::new();
        for Started { handle, .. } in self.servers {
            tasks.spawn(async move {
                let name = handle.name().to_owned();
                (name, handle.stop().await.map(drop))
            });
        }
        if let Some(driver) = self.driver {
            tasks.spawn(async move { ("driver".to_owned(), driver.stop().await) });
        }
        if let Some(endpoint) = self.endpoint {
            tasks.spawn(async move {
                endpoint.stop().await;
                ("webdriver endpoint".to_owned(), Ok(()))
            });
        }
        loop {
            tokio::select! {
                joined = tasks.join_next() => match joined {
                    None => return None,
                    Some(Ok((name, Err(error)))) => {
                        say!("harness: warning: stopping `{name}`: {error:?}");
                    }
                    Some(_) => {}
                },
                stop = signals.next() => {
                    say!("harness: {}: killing everything now", stop.name());
                    // Dropping a handle SIGKILLs its process group and reaps the leader.
                    tasks.shutdown().await;
                    return Some(stop);
                }
            }
        }
    }
}

/// A server's URL as `NAME_URL` gives it: a base to append paths to, so it ends with `/` at the end
/// of its path, and a query or fragment the server announced is dropped (`"$WEB_URL"hello` must
/// name a path, and a base's query would not survive [`Url::join`](url::Url::join) anyway).
///
/// `http://127.0.0.1:8080/app?x=1#top` gives `http://127.0.0.1:8080/app/`.
pub(crate) fn base_url(url: &url::Url) -> String {
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    harness::__cli::with_trailing_slash(base).into()
}

/// The driver's URL as `WEBDRIVER_URL` gives it: without a trailing `/`, the form stock clients
/// expect (Selenium appends `/session`, and chromedriver does not know `//session`).
///
/// `http://127.0.0.1:9515/` gives `http://127.0.0.1:9515`.
pub(crate) fn webdriver_url(url: &url::Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

fn tails(handle: &ServerHandle) -> String {
    let logs = handle.logs();
    format!(
        "{}\n{}",
        logs.tail(Stream::Stdout, FAILURE_TAIL),
        logs.tail(Stream::Stderr, FAILURE_TAIL)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_end_their_path_with_a_slash_and_drop_query_and_fragment() {
        let cases = [
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
            ("http://127.0.0.1:8080/app", "http://127.0.0.1:8080/app/"),
            (
                "http://127.0.0.1:8080/app?x=1",
                "http://127.0.0.1:8080/app/",
            ),
            (
                "http://127.0.0.1:8080/app/#top",
                "http://127.0.0.1:8080/app/",
            ),
            ("http://127.0.0.1:8080/?x=1#y", "http://127.0.0.1:8080/"),
        ];
        for (given, want) in cases {
            assert_eq!(base_url(&given.parse().unwrap()), want, "{given}");
        }
    }

    #[test]
    fn webdriver_urls_have_no_trailing_slash() {
        let url = "http://127.0.0.1:9515/".parse().unwrap();
        assert_eq!(webdriver_url(&url), "http://127.0.0.1:9515");
        let hub = "http://127.0.0.1:4444/wd/hub/".parse().unwrap();
        assert_eq!(webdriver_url(&hub), "http://127.0.0.1:4444/wd/hub");
    }
}
