//! [`Driver`]: the driver process (chromedriver or geckodriver on port 0) and its startup, or a
//! remote WebDriver endpoint. It hands its sessions a [`SessionSpec`]; sessions know nothing of
//! this module.

use std::time::Duration;

use tokio::sync::OnceCell;
use url::Url;

use super::kind::Browser;
use super::scratch::driver_tmp;
use super::session::{MAX_SESSION_TIMEOUT, Session, SessionSpec};
use crate::{Error, Ready, Server, ServerHandle};

/// A WebDriver endpoint: a driver process the harness started, or a remote one (Selenium Grid).
///
/// One driver serves many concurrent sessions, so a test binary needs only one; see
/// [`Driver::shared`].
///
/// ```no_run
/// # async fn f() -> Result<(), harness::Error> {
/// let driver = harness::Driver::shared().await?;
/// let session = driver.session().await?;
/// session.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Driver {
    spec: SessionSpec,
    process: Option<ServerHandle>,
}

impl Driver {
    /// Starts the driver for `browser` on an OS-assigned port, after finding it and the browser.
    ///
    /// chromedriver runs with `--port=0` and is ready at `ChromeDriver was started successfully on
    /// port N.`; geckodriver with `--port 0 --websocket-port 0 --host 127.0.0.1` (its BiDi port
    /// would default to a fixed 9222) and is ready at `Listening on IP:N`. The driver and the
    /// browsers it starts share its process group, so they are cleaned up together, even if this
    /// process is killed. The driver's `TMPDIR` is a folder the harness deletes when this process
    /// ends, however it ends, so what the driver keeps there is never left behind. A missing
    /// driver or browser is an error that says where the harness looked and the install command.
    ///
    /// The driver started here serves this driver's sessions (see [`session`](Self::session)) and
    /// whoever is given its [`url`](Self::url); for Firefox, the first session uses it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let driver = harness::Driver::start(harness::Browser::Firefox).await?;
    /// println!("geckodriver at {}", driver.url());
    /// driver.stop().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(browser: Browser) -> Result<Self, Error> {
        let program = browser.find_driver()?;
        let binary = browser.find_binary()?;
        let process = driver_server(browser, &program).spawn().await?;
        let mut spec = SessionSpec::new(browser, process.url().clone(), Some(binary));
        if browser == Browser::Firefox {
            // geckodriver serves one session at a time: the first session uses this one, and a
            // session that finds it taken starts a geckodriver of its own.
            spec = spec.one_at_a_time(driver_server(browser, &program));
        }
        Ok(Self {
            spec,
            process: Some(process),
        })
    }

    /// A remote WebDriver endpoint such as a Selenium Grid hub (`http://host:4444/wd/hub`).
    /// Starts nothing. The browser binary is passed to the remote end only when
    /// `$CHROME_BIN`/`$FIREFOX_BIN` is set.
    ///
    /// ```
    /// use harness::{Browser, Driver};
    /// let grid = Driver::remote("http://localhost:4444/wd/hub", Browser::Chrome)?;
    /// assert_eq!(grid.url().as_str(), "http://127.0.0.1:4444/wd/hub/");
    /// assert!(Driver::remote("ftp://grid:4444", Browser::Chrome).is_err());
    /// # Ok::<(), harness::Error>(())
    /// ```
    pub fn remote(url: &str, browser: Browser) -> Result<Self, Error> {
        let bad = |reason: &str| Error::BadWebDriverUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parsed = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if parsed.host_str() == Some("localhost") {
            // `localhost` may resolve to ::1 while the endpoint listens on 127.0.0.1 only.
            parsed
                .set_host(Some("127.0.0.1"))
                .map_err(|e| bad(&e.to_string()))?;
        }
        if !parsed.path().ends_with('/') {
            let path = format!("{}/", parsed.path());
            parsed.set_path(&path);
        }
        let binary = std::env::var_os(browser.binary_env()).map(Into::into);
        Ok(Self {
            spec: SessionSpec::new(browser, parsed, binary),
            process: None,
        })
    }

    /// A harness pooling endpoint (`harness webdriver`, or `harness run|serve --pool N`): a
    /// remote endpoint with warm sessions. A session asks it only for the browser (the endpoint
    /// adds the library's defaults: headless, the window size, `--no-sandbox` as root, a profile of
    /// its own), and closing the session hands it back to be reset for the next test. Starts
    /// nothing.
    ///
    /// ```
    /// use harness::{Browser, Driver};
    /// let pool = Driver::pooling("http://127.0.0.1:40123", Browser::Chrome)?;
    /// assert!(pool.is_pooling());
    /// assert!(pool.process().is_none());
    /// # Ok::<(), harness::Error>(())
    /// ```
    pub fn pooling(url: &str, browser: Browser) -> Result<Self, Error> {
        let remote = Self::remote(url, browser)?;
        Ok(Self {
            spec: remote.spec.pooled(),
            process: None,
        })
    }

    /// Whether this is a harness pooling endpoint (see [`pooling`](Self::pooling)).
    ///
    /// ```
    /// use harness::{Browser, Driver};
    /// let grid = Driver::remote("http://127.0.0.1:4444/wd/hub", Browser::Chrome)?;
    /// assert!(!grid.is_pooling());
    /// # Ok::<(), harness::Error>(())
    /// ```
    pub fn is_pooling(&self) -> bool {
        self.spec.is_pooled()
    }

    /// The endpoint the environment names, else a driver of its own:
    ///
    /// 1. `WEBDRIVER_URL`, when set: a harness pooling endpoint ([`pooling`](Self::pooling)) if
    ///    `HARNESS_WEBDRIVER_POOL` names the same URL (`harness run|serve --pool N` export both),
    ///    otherwise a remote endpoint such as a Grid ([`remote`](Self::remote));
    /// 2. `HARNESS_WEBDRIVER_POOL` alone: that pooling endpoint;
    /// 3. neither: a driver for `HARNESS_BROWSER` (`chrome` by default), started here.
    ///
    /// `HARNESS_SESSION_TIMEOUT` (seconds, e.g. `20` or `2.5`) sets its
    /// [`session_timeout`](Self::session_timeout); a value that is not one is an error naming it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// // HARNESS_BROWSER=firefox, or WEBDRIVER_URL=http://127.0.0.1:4444/wd/hub
    /// let driver = harness::Driver::from_env().await?;
    /// println!("{} via {}", driver.browser(), driver.url());
    /// # Ok(()) }
    /// ```
    pub async fn from_env() -> Result<Self, Error> {
        let browser = Browser::from_env()?;
        let var = |name| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let timeout = match var(SESSION_TIMEOUT_ENV) {
            Some(value) => Some(session_timeout_from(&value)?),
            None => None,
        };
        let driver = match (var("WEBDRIVER_URL"), var("HARNESS_WEBDRIVER_POOL")) {
            (Some(url), Some(pool)) if same_endpoint(&url, &pool) => Self::pooling(&pool, browser),
            (Some(url), _) => Self::remote(&url, browser),
            (None, Some(pool)) => Self::pooling(&pool, browser),
            (None, None) => Self::start(browser).await,
        }?;
        Ok(match timeout {
            Some(timeout) => driver.session_timeout(timeout),
            None => driver,
        })
    }

    /// How long [`session`](Self::session) may take to open a session (default 60 s, well below
    /// a Selenium Grid's 300 s queue timeout; [`from_env`](Self::from_env) reads
    /// `HARNESS_SESSION_TIMEOUT`, in seconds). Past it, the session fails with
    /// [`Error::SessionTimeout`], which says what was asked for and, when the endpoint is a Grid,
    /// what its nodes offer (read from its `/status` within 2 s more). A zero timeout, or one
    /// longer than a year, fails each session as bad input.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use harness::{Browser, Driver};
    /// # async fn f() -> Result<(), harness::Error> {
    /// let grid = Driver::remote("http://127.0.0.1:4444/wd/hub", Browser::Chrome)?
    ///     .session_timeout(Duration::from_secs(20));
    /// let session = grid.session().await?; // Error::SessionTimeout after 20 s
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.spec.timeout = timeout;
        self
    }

    /// One [`from_env`](Self::from_env) driver for the whole test binary, started on first use.
    ///
    /// It lives in a `static`, so it is never dropped: when the test binary exits, the harness's
    /// death-proof cleanup ends the driver and every browser it started.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let driver: &'static harness::Driver = harness::Driver::shared().await?;
    /// let session = driver.session().await?;
    /// # Ok(()) }
    /// ```
    pub async fn shared() -> Result<&'static Self, Error> {
        static SHARED: OnceCell<Driver> = OnceCell::const_new();
        SHARED.get_or_try_init(Self::from_env).await
    }

    /// Opens a new session: a fresh browser with a fresh temporary profile. See [`Session`].
    ///
    /// chromedriver serves any number of concurrent sessions. geckodriver serves one at a time: on
    /// a local Firefox driver, a session uses the driver's geckodriver when no other session holds
    /// it, and otherwise starts (and ends with) a geckodriver of its own.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let session = harness::Driver::shared().await?.session().await?;
    /// session.goto(web.url().join("form")?.as_str()).await?;
    /// session.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn session(&self) -> Result<Session, Error> {
        Session::open(self.spec.clone()).await
    }

    /// The WebDriver endpoint.
    ///
    /// ```
    /// let driver = harness::Driver::remote("http://127.0.0.1:4444", harness::Browser::Chrome)?;
    /// assert_eq!(driver.url().as_str(), "http://127.0.0.1:4444/");
    /// # Ok::<(), harness::Error>(())
    /// ```
    pub fn url(&self) -> &Url {
        &self.spec.url
    }

    /// The browser this driver drives.
    ///
    /// ```
    /// use harness::{Browser, Driver};
    /// let driver = Driver::remote("http://127.0.0.1:4444", Browser::Firefox)?;
    /// assert_eq!(driver.browser(), Browser::Firefox);
    /// # Ok::<(), harness::Error>(())
    /// ```
    pub fn browser(&self) -> Browser {
        self.spec.browser
    }

    /// The driver process, unless the endpoint is remote.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let driver = harness::Driver::from_env().await?;
    /// if let Some(process) = driver.process() {
    ///     println!("{} runs as pid {}", process.name(), process.pid());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn process(&self) -> Option<&ServerHandle> {
        self.process.as_ref()
    }

    pub(crate) fn spec(&self) -> &SessionSpec {
        &self.spec
    }

    /// Stops the driver process (and with it every browser it started), if the harness started it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let driver = harness::Driver::start(harness::Browser::Chrome).await?;
    /// // ... open sessions and run tests ...
    /// driver.stop().await?;
    /// # Ok(()) }
    /// ```
    pub async fn stop(self) -> Result<(), Error> {
        if let Some(process) = self.process {
            process.stop().await?;
        }
        Ok(())
    }
}

/// The variable that sets [`Driver::session_timeout`] for [`Driver::from_env`], in seconds.
const SESSION_TIMEOUT_ENV: &str = "HARNESS_SESSION_TIMEOUT";

/// A session timeout from `HARNESS_SESSION_TIMEOUT`'s `value`: seconds, such as `20` or `2.5`,
/// more than zero and at most a year.
fn session_timeout_from(value: &str) -> Result<Duration, Error> {
    let bad = |what: &str| Error::BadSessionTimeout {
        given: format!("${SESSION_TIMEOUT_ENV} = {value:?}"),
        reason: format!("{what}; give seconds, e.g. {SESSION_TIMEOUT_ENV}=20 or 2.5"),
    };
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| bad("it is not a number of seconds"))?;
    let timeout = Duration::try_from_secs_f64(seconds)
        .map_err(|_| bad("it is not a number of seconds from 0 to a year"))?;
    if timeout.is_zero() {
        return Err(bad("it is zero"));
    }
    if timeout > MAX_SESSION_TIMEOUT {
        return Err(Error::TimeoutTooLong { timeout });
    }
    Ok(timeout)
}

/// Whether two endpoint URLs name the same endpoint, trailing `/` aside.
fn same_endpoint(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The driver program as a [`Server`] on port 0 of 127.0.0.1 (whatever `HARNESS_HOST` says),
/// ready at its own "listening" line, with a `TMPDIR` the watchdog deletes (see [`driver_tmp`]).
pub(crate) fn driver_server(browser: Browser, program: &std::path::Path) -> Server {
    let server = match browser {
        Browser::Chrome => Server::new(program)
            .arg("--port=0")
            .ready(Ready::chromedriver()),
        Browser::Firefox => Server::new(program)
            .args([
                "--port",
                "0",
                "--websocket-port",
                "0",
                "--host",
                "127.0.0.1",
            ])
            .ready(Ready::geckodriver()),
    };
    let server = match driver_tmp() {
        Some(tmp) => server.env("TMPDIR", tmp),
        None => server,
    };
    server
        .name(browser.driver_program())
        // Drivers listen on loopback whatever `HARNESS_HOST` asks of the servers under test:
        // only the browsers they start need to reach those.
        .host(std::net::Ipv4Addr::LOCALHOST.into())
        .ready_timeout(Duration::from_secs(30))
        .grace(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::session_timeout_from;

    #[test]
    fn the_session_timeout_variable_takes_seconds() {
        assert_eq!(session_timeout_from("20").unwrap(), Duration::from_secs(20));
        assert_eq!(
            session_timeout_from(" 2.5 ").unwrap(),
            Duration::from_millis(2500)
        );
        for bad in ["abc", "20s", "-1", "NaN", "inf"] {
            let err = session_timeout_from(bad).unwrap_err().to_string();
            assert!(err.contains("HARNESS_SESSION_TIMEOUT"), "{err}");
            assert!(err.contains("e.g. HARNESS_SESSION_TIMEOUT=20"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        assert_eq!(
            session_timeout_from("0").unwrap_err().to_string(),
            "session timeout $HARNESS_SESSION_TIMEOUT = \"0\": it is zero; give seconds, e.g. \
             HARNESS_SESSION_TIMEOUT=20 or 2.5"
        );
        let long = session_timeout_from("1e9").unwrap_err();
        assert!(
            matches!(long, crate::Error::TimeoutTooLong { .. }),
            "{long}"
        );
    }
}
