//! [`e2e`]: run a browser test body with a server and a session; keep evidence when it fails.

use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use fantoccini::Client;
use url::Url;

use super::driver::Driver;
use super::kind::Browser;
use super::pool::SessionPool;
use super::runtime;
use super::session::Session;
use crate::ServerHandle;

/// The error type a test body returns.
///
/// ```
/// use harness::{E2eContext, browser::BoxError};
///
/// async fn body(ctx: E2eContext) -> Result<(), BoxError> {
///     ctx.client.goto(ctx.url("hello").as_str()).await?;
///     Ok(())
/// }
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where failure artifacts go: `$HARNESS_ARTIFACTS_DIR`, else `<cargo target dir>/harness-artifacts`.
///
/// ```
/// let root = harness::browser::artifacts_root();
/// println!("failure artifacts go under {}", root.display());
/// ```
pub fn artifacts_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("HARNESS_ARTIFACTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            crate::locate::cargo_target_dir().and_then(|d| d.parent().map(Path::to_path_buf))
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("harness-artifacts")
}

/// A browser test against `server`: see [`E2e::run`].
///
/// ```no_run
/// use fantoccini::Locator;
///
/// # async fn f(web: &harness::ServerHandle) {
/// harness::e2e(web)
///     .run(|ctx| async move {
///         ctx.client.goto(ctx.url("counter").as_str()).await?;
///         ctx.client.find(Locator::Id("increment")).await?.click().await?;
///         Ok(())
///     })
///     .await;
/// # }
/// ```
pub fn e2e(server: &ServerHandle) -> E2e<'_> {
    E2e {
        server,
        name: None,
        driver: None,
        pool: None,
    }
}

/// A configured browser test; built by [`e2e`].
///
/// ```no_run
/// # async fn f(web: &harness::ServerHandle, pool: &harness::SessionPool) {
/// let test: harness::E2e<'_> = harness::e2e(web).name("counter_increments").pool(pool);
/// test.run(|ctx| async move {
///     ctx.client.goto(ctx.url("counter").as_str()).await?;
///     Ok(())
/// })
/// .await;
/// # }
/// ```
#[derive(Debug)]
#[must_use = "call .run(...)"]
pub struct E2e<'a> {
    server: &'a ServerHandle,
    name: Option<String>,
    driver: Option<&'a Driver>,
    pool: Option<&'a SessionPool>,
}

/// What a test body gets.
///
/// ```no_run
/// # async fn f(web: &harness::ServerHandle) {
/// harness::e2e(web)
///     .run(|ctx: harness::E2eContext| async move {
///         println!("{} against {}", ctx.browser, ctx.base);
///         ctx.client.goto(ctx.base.as_str()).await?;
///         Ok(())
///     })
///     .await;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct E2eContext {
    /// The WebDriver client of this test's session.
    pub client: Client,
    /// The server's base URL.
    pub base: Url,
    /// The browser in use.
    pub browser: Browser,
}

impl E2eContext {
    /// `path` joined to the server's base URL.
    ///
    /// ```no_run
    /// # async fn f(ctx: harness::E2eContext) -> Result<(), harness::browser::BoxError> {
    /// ctx.client.goto(ctx.url("form").as_str()).await?;
    /// assert_eq!(ctx.url("/hello").path(), "/hello");
    /// # Ok(()) }
    /// ```
    pub fn url(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("a relative path joins a base URL")
    }
}

enum Lease {
    Fresh(Session),
    Pooled(super::pool::PooledSession),
}

impl Lease {
    fn session(&self) -> &Session {
        match self {
            Lease::Fresh(s) => s,
            Lease::Pooled(p) => p,
        }
    }
}

impl<'a> E2e<'a> {
    /// The artifacts folder name (default: the running test's name, from its thread).
    ///
    /// ```no_run
    /// # async fn f(web: &harness::ServerHandle) {
    /// harness::e2e(web)
    ///     .name("form_submits") // on failure: target/harness-artifacts/form_submits/
    ///     .run(|ctx| async move { Ok(ctx.client.goto(ctx.url("form").as_str()).await?) })
    ///     .await;
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The driver to use (default: [`Driver::shared`], from the environment; unused with a
    /// [`pool`](Self::pool), whose own driver opens its sessions).
    ///
    /// ```no_run
    /// # async fn f(web: &harness::ServerHandle) -> Result<(), harness::Error> {
    /// let firefox = harness::Driver::start(harness::Browser::Firefox).await?;
    /// harness::e2e(web)
    ///     .driver(&firefox)
    ///     .run(|ctx| async move { Ok(ctx.client.goto(ctx.url("hello").as_str()).await?) })
    ///     .await;
    /// # Ok(()) }
    /// ```
    pub fn driver(mut self, driver: &'a Driver) -> Self {
        self.driver = Some(driver);
        self
    }

    /// Takes the session from `pool` instead of opening a new one.
    ///
    /// ```no_run
    /// # async fn f(web: &harness::ServerHandle) -> Result<(), harness::Error> {
    /// let pool = harness::SessionPool::new(harness::Driver::shared().await?);
    /// harness::e2e(web)
    ///     .pool(&pool)
    ///     .run(|ctx| async move { Ok(ctx.client.goto(ctx.url("hello").as_str()).await?) })
    ///     .await;
    /// # Ok(()) }
    /// ```
    pub fn pool(mut self, pool: &'a SessionPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Runs `body` with a session, then always closes it (or returns it to the pool).
    ///
    /// When the body returns an error or panics, this writes under
    /// `target/harness-artifacts/<test-name>/`: `screenshot.png`, `page.html`, `url.txt`,
    /// `console.log` (where the driver exposes it), `server.log` (the server's lines since the test
    /// started) and `error.txt`, prints the folder's path, and fails the test.
    ///
    /// ```no_run
    /// use fantoccini::Locator;
    /// # async fn f(web: &harness::ServerHandle) {
    /// harness::e2e(web)
    ///     .run(|ctx| async move {
    ///         ctx.client.goto(ctx.url("form").as_str()).await?;
    ///         ctx.client.find(Locator::Css("form")).await?;
    ///         Ok(())
    ///     })
    ///     .await;
    /// # }
    /// ```
    pub async fn run<F, Fut>(self, body: F)
    where
        F: FnOnce(E2eContext) -> Fut,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let name = self.name.clone().unwrap_or_else(current_test_name);
        let lease = match (self.pool, self.driver) {
            (Some(pool), _) => pool.acquire().await.map(Lease::Pooled),
            (None, Some(driver)) => driver.session().await.map(Lease::Fresh),
            (None, None) => match Driver::shared().await {
                Ok(driver) => driver.session().await.map(Lease::Fresh),
                Err(e) => panic!("harness: no browser for test `{name}`: {e}"),
            },
        };
        let lease =
            lease.unwrap_or_else(|e| panic!("harness: no session for test `{name}`: {e:?}"));
        let started = SystemTime::now();
        let ctx = E2eContext {
            client: lease.session().client().clone(),
            base: self.server.url().clone(),
            browser: lease.session().browser(),
        };
        let outcome = match tokio::spawn(body(ctx)).await {
            Ok(result) => Ok(result),
            Err(join) if join.is_panic() => Err(join.into_panic()),
            Err(_) => Ok(Err("the test body was cancelled".into())),
        };
        let failure = match &outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e}\n\n{e:?}")),
            Err(panic) => Some(panic_message(panic.as_ref())),
        };
        if let Some(message) = &failure {
            let dir = artifacts_root().join(sanitize(&name));
            match write_artifacts(&dir, lease.session(), self.server, started, message).await {
                Ok(()) => eprintln!(
                    "harness: test `{name}` failed; artifacts in {}",
                    dir.display()
                ),
                Err(e) => eprintln!(
                    "harness: test `{name}` failed; writing artifacts to {} failed: {e}",
                    dir.display()
                ),
            }
        }
        match lease {
            Lease::Fresh(session) => {
                let _ = session.close().await;
            }
            // A failed test may leave the browser in any state: do not hand it to the next test.
            Lease::Pooled(pooled) if failure.is_some() => {
                let _ = pooled.detach().close().await;
            }
            Lease::Pooled(pooled) => drop(pooled),
        }
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("test `{name}` failed: {e}"),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Writes every artifact it can; one that cannot be had is noted in its file instead.
async fn write_artifacts(
    dir: &Path,
    session: &Session,
    server: &ServerHandle,
    since: SystemTime,
    error: &str,
) -> std::io::Result<()> {
    // A folder left by an earlier failure of the same test would mix its files with these.
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("error.txt"), error)?;
    let client = session.client().clone();
    let (screenshot, html, url) = runtime::run(async move {
        (
            client.screenshot().await,
            client.source().await,
            client.current_url().await,
        )
    })
    .await;
    match screenshot {
        Ok(png) => std::fs::write(dir.join("screenshot.png"), png)?,
        Err(e) => std::fs::write(dir.join("screenshot.error.txt"), e.to_string())?,
    }
    std::fs::write(
        dir.join("page.html"),
        html.unwrap_or_else(|e| format!("<!-- page source unavailable: {e} -->")),
    )?;
    std::fs::write(
        dir.join("url.txt"),
        url.map(|u| u.to_string())
            .unwrap_or_else(|e| format!("unavailable: {e}")),
    )?;
    let console = match session.console_log().await {
        Some(lines) if lines.is_empty() => "(no console messages)\n".to_owned(),
        Some(lines) => lines.join("\n") + "\n",
        None => format!(
            "({} does not expose the browser console log)\n",
            session.browser()
        ),
    };
    std::fs::write(dir.join("console.log"), console)?;
    let mut log = String::new();
    for line in server.logs().since(since) {
        let _ = writeln!(log, "[{} {}] {}", server.name(), line.stream, line.text);
    }
    std::fs::write(dir.join("server.log"), log)
}

fn current_test_name() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_owned)
        .unwrap_or_else(|| "unnamed-test".to_owned())
}

fn sanitize(name: &str) -> String {
    name.replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(a panic without a message)");
    format!("the test panicked: {message}")
}
