//! A pooling W3C WebDriver endpoint: `harness webdriver`, and the same inside `harness run` /
//! `harness serve` with `--pool N`.
//!
//! It listens on `127.0.0.1:0` in front of real drivers (one chromedriver for every Chrome
//! session; one geckodriver per Firefox session, since geckodriver serves one at a time) and N
//! warm sessions of the library's kind. `POST /session` leases a warm session whose capabilities
//! match the request (or, failing that, opens a fresh one-off session with the client's
//! capabilities merged over the library's defaults); `DELETE /session/{id}` answers at once and
//! resets the session in the background before it goes back to the pool; everything else under
//! `/session/{id}/` is forwarded unchanged over kept-alive connections. Lease ids are the
//! endpoint's own, so a stale id gets `invalid session id`, never another lease's browser.
//! WebDriver BiDi is not proxied: `webSocketUrl` is stripped from requests and answers.
//!
//! The modules: `proxy` (HTTP) uses `pool` (leases), which uses `caps` (what a request asks
//! for), `launch` (drivers and sessions), `reset` (cleaning a session between leases) and `wire`
//! (bounded requests to a driver, W3C errors).

mod caps;
mod launch;
mod lease_id;
mod pool;
mod proxy;
mod reset;
mod wire;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use harness::Browser;
use tokio::time::Instant;

use super::args::{IsolationArg, WebdriverArgs};
use super::signals::Signals;
use super::usage::UsageError;
use launch::Setup;
use pool::{Config, Pool};
pub(crate) use reset::Isolation;

/// How long `harness webdriver` gives its drivers and warm sessions to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What an endpoint is to run, already checked.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The browser of every session.
    pub(crate) browser: Browser,
    /// How many warm sessions.
    pub(crate) pool: usize,
    /// How leases of a session are kept apart.
    pub(crate) isolation: Isolation,
    /// How long `POST /session` waits for a free session.
    pub(crate) lease_timeout: Duration,
    /// How long a lease may go without a request before it is reclaimed.
    pub(crate) idle_timeout: Duration,
    /// How long the drivers and warm sessions may take to start (each replacement too).
    pub(crate) start_timeout: Duration,
}

/// The defaults of `--lease-timeout` and `--idle-timeout`, for `run` and `serve`.
pub(crate) const LEASE_TIMEOUT: Duration = Duration::from_secs(30);
/// See [`LEASE_TIMEOUT`].
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

impl From<IsolationArg> for Isolation {
    fn from(given: IsolationArg) -> Self {
        match given {
            IsolationArg::Reset => Isolation::Reset,
            IsolationArg::Context => Isolation::Context,
        }
    }
}

/// Why an endpoint did not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    /// The driver or browser could not be found.
    #[error(transparent)]
    Find(#[from] harness::Error),
    /// `127.0.0.1:0` could not be bound.
    #[error("could not listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// A driver or warm session did not start.
    #[error(transparent)]
    Launch(#[from] launch::LaunchError),
}

/// A running endpoint: the listener, the server task and the pool behind it.
#[derive(Debug)]
pub(crate) struct Endpoint {
    addr: SocketAddr,
    pool: Arc<Pool>,
    driver: Option<harness::ServerHandle>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// Binds `127.0.0.1:0`, starts the drivers and the warm sessions concurrently, and serves.
    pub(crate) async fn start(options: &Options) -> Result<Self, StartError> {
        let driver_program = harness::__cli::find_driver(options.browser)?;
        let binary = harness::__cli::find_binary(options.browser)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(StartError::Bind)?;
        let addr = listener.local_addr().map_err(StartError::Bind)?;
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .map_err(StartError::Client)?;
        let config = Config {
            setup: Setup {
                browser: options.browser,
                driver_program,
                binary,
                isolation: options.isolation,
                client,
            },
            size: options.pool,
            lease_timeout: options.lease_timeout,
            idle_timeout: options.idle_timeout,
            start_timeout: options.start_timeout,
        };
        let deadline = Instant::now() + options.start_timeout;
        let (pool, driver) = Pool::start(config, deadline).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = proxy::router(Arc::clone(&pool));
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            // Without it every forwarded command waits ~40 ms for delayed ACKs.
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                say!("harness: error: the WebDriver endpoint stopped serving: {error}");
            }
        });
        Ok(Self {
            addr,
            pool,
            driver,
            stop,
            server,
        })
    }

    /// Where the endpoint listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint's URL as `WEBDRIVER_URL` gives it, without a trailing `/`:
    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The chromedriver every Chrome session runs on (`None` on Firefox, whose geckodrivers are
    /// one per session and replaced with it): `run` and `serve` watch it like a server.
    pub(crate) fn driver(&self) -> Option<&harness::ServerHandle> {
        self.driver.as_ref()
    }

    /// Stops serving, then stops the drivers and every browser, and deletes their profiles.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        self.server.abort();
        let _ = self.server.await;
        self.pool.shutdown(self.driver).await;
    }
}

/// Checks `harness webdriver`'s arguments (before anything starts).
fn options(args: &WebdriverArgs) -> Result<Options, UsageError> {
    // As the library reads it: unset or empty means Chrome.
    let from_env = std::env::var("HARNESS_BROWSER")
        .ok()
        .filter(|name| !name.trim().is_empty());
    let given = args
        .browser
        .clone()
        .or(from_env)
        .unwrap_or_else(|| Browser::Chrome.name().to_owned());
    let browser = super::plan::check_browser(&given)?;
    Ok(Options {
        browser,
        pool: usize::from(args.pool),
        isolation: args.isolation.into(),
        lease_timeout: args.lease_timeout,
        idle_timeout: args.idle_timeout,
        start_timeout: START_TIMEOUT,
    })
}

/// Runs `harness webdriver` until SIGINT or SIGTERM and returns its exit status.
pub(crate) async fn command(args: WebdriverArgs) -> ExitCode {
    let options = match options(&args) {
        Ok(options) => options,
        Err(error) => return super::usage_error(&error),
    };
    let mut signals = match Signals::install() {
        Ok(signals) => signals,
        Err(error) => return super::internal_error("install signal handlers", &error),
    };
    let endpoint = tokio::select! {
        started = Endpoint::start(&options) => match started {
            Ok(endpoint) => endpoint,
            Err(error) => {
                say!("harness: error: the WebDriver endpoint did not start: {error}");
                return ExitCode::from(super::exit::NOT_READY);
            }
        },
        stop = signals.next() => {
            say!("harness: {}: stopping", stop.name());
            return super::exit::after_signal(stop.number());
        }
    };
    let line = harness::handshake::line(std::process::id(), [("webdriver", endpoint.addr())]);
    say_out!("{line}");
    let driver_death = async {
        match endpoint.driver() {
            Some(driver) => driver.exited().await,
            None => std::future::pending().await,
        }
    };
    let died = tokio::select! {
        stop = signals.next() => {
            say!(
                "harness: {}: stopping the WebDriver endpoint (again to kill it at once)",
                stop.name()
            );
            false
        }
        status = driver_death => {
            say!("harness: error: the driver every session runs on died ({status}): stopping");
            true
        }
    };
    tokio::select! {
        () = endpoint.stop() => {}
        again = signals.next() => return super::exit::after_signal(again.number()),
    }
    ExitCode::from(if died { super::exit::SERVER_DIED } else { 0 })
}
