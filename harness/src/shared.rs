//! One server for many tests of a test binary.

use tokio::sync::OnceCell;

use crate::{Error, Server, ServerHandle};

/// A server started on first use and shared by every test of one test binary.
///
/// Put it in a `static`. The first test that calls [`get`](Self::get) spawns the server; the others
/// wait for it and share it. Each `#[tokio::test]` has its own runtime, and that is fine: the
/// harness drains the server's output on its own threads, not on the runtime that started it.
///
/// Statics are never dropped, so cleanup comes from the death-proof mechanisms instead: when the
/// test binary exits, the watchdog (and on Linux the parent-death signal) kills the server's whole
/// process group.
///
/// Under nextest every test runs in its own process, so each test would start its own server.
/// When another process already started one for the whole run and exported where it is
/// (`NAME_URL`, and `NAME_PID`, `NAME_INSTANCE_ID`, `NAME_LOG`, as `harness serve` does, e.g. in
/// this repository's `.config/nextest.toml` setup script), `get` attaches to it instead: see
/// [`Server::attach_from_env`]. NAME is the server's name (`fixtures-app` reads
/// `FIXTURES_APP_URL`).
///
/// ```no_run
/// use harness::{Server, SharedServer};
///
/// static WEB: SharedServer = SharedServer::new(|| Server::cargo_bin("fixtures-app"));
///
/// #[tokio::test]
/// async fn hello() -> Result<(), Box<dyn std::error::Error>> {
///     let web = WEB.get().await?;
///     let text = reqwest::get(web.url().join("hello")?).await?.text().await?;
///     assert_eq!(text, "Hello World");
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct SharedServer {
    make: fn() -> Result<Server, Error>,
    cell: OnceCell<ServerHandle>,
}

impl SharedServer {
    /// A shared server described by `make`, which runs on first use.
    ///
    /// ```no_run
    /// use harness::{Server, SharedServer};
    ///
    /// static WEB: SharedServer =
    ///     SharedServer::new(|| Ok(Server::cargo_bin("fixtures-app")?.health_check("/health")));
    /// ```
    pub const fn new(make: fn() -> Result<Server, Error>) -> Self {
        Self {
            make,
            cell: OnceCell::const_new(),
        }
    }

    /// The running server: on first use, the one the environment names
    /// ([`Server::attach_from_env`]), else one spawned here. A failure is returned to that caller
    /// and tried again by the next.
    ///
    /// ```no_run
    /// # use harness::{Server, SharedServer};
    /// # static WEB: SharedServer = SharedServer::new(|| Server::cargo_bin("fixtures-app"));
    /// # async fn f() -> Result<(), harness::Error> {
    /// let web = WEB.get().await?; // spawns on the first call, then shares
    /// println!("shared server at {}", web.url());
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<&ServerHandle, Error> {
        self.cell
            .get_or_try_init(|| async {
                let server = (self.make)()?;
                match server.attach_from_env().await? {
                    Some(attached) => Ok(attached),
                    None => server.spawn().await,
                }
            })
            .await
    }
}
