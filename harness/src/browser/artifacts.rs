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
    /// The artifacts folder name (default: the running test's name, from its libtest thread; see
    /// [`run`](Self::run)).
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
    /// started) and `error.txt`, then fails the test with a message that names the folder.
    ///
    /// `<test-name>` is the [`name`](Self::name) given, else the libtest thread's name (the test's
    /// path), else `unnamed-test` (e.g. on a multi-thread runtime's worker). Every failing run gets
    /// a folder of its own: when the name is taken by a run of this process or of one still
    /// running, the folder is `<test-name>-2`, `-3`...; only a folder left by a process that has
    /// ended (an earlier run) is replaced.
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
        let name = self
            .name
            .clone()
            .or_else(current_test_name)
            .unwrap_or_else(|| UNNAMED.to_owned());
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
        // Where this failure's evidence went, or why there is none: for the failure message.
        let mut evidence = String::new();
        if let Some(message) = &failure {
            evidence = match claim_dir(&artifacts_root(), &name) {
                Ok(dir) => {
                    match write_artifacts(&dir, lease.session(), self.server, started, message)
                        .await
                    {
                        Ok(()) => format!("artifacts in {}", dir.display()),
                        Err(e) => format!(
                            "writing artifacts to {} failed: {e} (what was written is there)",
                            dir.display()
                        ),
                    }
                }
                Err(e) => format!(
                    "no artifacts: no folder under {} could be created: {e}",
                    artifacts_root().display()
                ),
            };
            eprintln!("harness: test `{name}` failed; {evidence}");
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
            Ok(Err(e)) => panic!("test `{name}` failed: {e}\nharness: {evidence}"),
            Err(panic) => panic!(
                "test `{name}` failed: {}\nharness: {evidence}",
                panic_message(panic.as_ref())
            ),
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

/// The folder name of a failure whose test has no name the harness can learn.
const UNNAMED: &str = "unnamed-test";

/// The file in each artifacts folder that says which process wrote it: `pid N`.
const OWNER_FILE: &str = ".harness-owner";

/// The running test's name, when this is a libtest test thread (named after its test). Not the
/// main thread (`--test-threads=1`, or a `main` of one's own) nor a runtime's worker thread.
fn current_test_name() -> Option<String> {
    let thread = std::thread::current();
    let name = thread.name()?;
    let not_a_test = name == "main"
        // tokio's workers and blocking threads: `tokio-runtime-worker`, `tokio-rt-worker`...
        || name.starts_with("tokio-")
        || name.starts_with("harness-")
        || name.starts_with("actix-rt");
    (!not_a_test).then(|| name.to_owned())
}

/// Creates a new, empty folder for this failure's artifacts under `root`, named after `name`, or
/// `name-2`, `name-3`... when taken. Never touches a folder another run may be writing: a taken
/// name is replaced only when its owner file names a process that has ended (an earlier run's
/// evidence of the same test); a folder of this process, of a live one, or without an owner file
/// is left alone and the next suffix is tried.
fn claim_dir(root: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(root)?;
    let base = sanitize(name);
    let mut last = None;
    for n in 1..=1000u32 {
        let dir = match n {
            1 => root.join(&base),
            n => root.join(format!("{base}-{n}")),
        };
        // Twice: once as found, once after moving a stale folder out of the way.
        for _ in 0..2 {
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    std::fs::write(
                        dir.join(OWNER_FILE),
                        format!("pid {}\n", std::process::id()),
                    )?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !stale(&dir) {
                        break;
                    }
                    // Renaming is atomic: of two runs that both found it stale, one moves it.
                    let away = root.join(format!(".{base}.stale-{}-{n}", std::process::id()));
                    if std::fs::rename(&dir, &away).is_ok() {
                        let _ = std::fs::remove_dir_all(&away);
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{base} and {base}-2 to {base}-1000 are all taken"),
        )
    }))
}

/// Whether `dir` holds an earlier, finished run's artifacts: its owner file names a process other
/// than this one that is no longer running.
fn stale(dir: &Path) -> bool {
    let Ok(owner) = std::fs::read_to_string(dir.join(OWNER_FILE)) else {
        return false;
    };
    let Some(pid) = owner
        .trim()
        .strip_prefix("pid ")
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return false;
    };
    pid != std::process::id() && !process_alive(pid)
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    // ESRCH: no such process. Anything else (EPERM: another user's) means it may be alive.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Cannot tell: keep the folder and use the next name.
    true
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

#[cfg(test)]
mod tests {
    use super::*;

    fn owner_of(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(OWNER_FILE)).unwrap()
    }

    #[test]
    fn every_claim_gets_a_new_folder_and_leaves_the_others_alone() {
        let root = tempfile::tempdir().unwrap();
        let first = claim_dir(root.path(), "suite::a test").unwrap();
        assert_eq!(first, root.path().join("suite__a_test"));
        std::fs::write(first.join("error.txt"), "first").unwrap();
        let second = claim_dir(root.path(), "suite::a test").unwrap();
        assert_eq!(second, root.path().join("suite__a_test-2"));
        assert_eq!(
            std::fs::read_to_string(first.join("error.txt")).unwrap(),
            "first",
            "a claim removed this process's own earlier folder"
        );
        assert_eq!(owner_of(&second), format!("pid {}\n", std::process::id()));
    }

    #[cfg(unix)]
    #[test]
    fn only_a_folder_of_an_ended_process_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        // An ended process: a child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = root.path().join("t");
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join(OWNER_FILE), format!("pid {dead}\n")).unwrap();
        std::fs::write(stale.join("error.txt"), "old run").unwrap();
        // A live process (pid 1), and a folder the harness did not write.
        let live = root.path().join("t-2");
        std::fs::create_dir(&live).unwrap();
        std::fs::write(live.join(OWNER_FILE), "pid 1\n").unwrap();
        let foreign = root.path().join("t-3");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();

        let dir = claim_dir(root.path(), "t").unwrap();
        assert_eq!(dir, stale, "the ended run's folder is reused");
        assert!(
            !dir.join("error.txt").exists(),
            "with nothing of the old run"
        );
        assert_eq!(owner_of(&dir), format!("pid {}\n", std::process::id()));
        let next = claim_dir(root.path(), "t").unwrap();
        assert_eq!(
            next,
            root.path().join("t-4"),
            "a live run's and a foreign folder are skipped"
        );
        assert_eq!(owner_of(&live), "pid 1\n");
        assert!(foreign.join("notes.txt").exists());
    }

    #[test]
    fn only_libtest_threads_name_a_test() {
        let name = |thread: &str| {
            std::thread::Builder::new()
                .name(thread.to_owned())
                .spawn(current_test_name)
                .unwrap()
                .join()
                .unwrap()
        };
        assert_eq!(name("pages::title").as_deref(), Some("pages::title"));
        assert_eq!(name("main"), None);
        assert_eq!(name("tokio-runtime-worker"), None);
        assert_eq!(name("tokio-rt-worker"), None);
        assert_eq!(name("harness-webdriver"), None);
    }
}
