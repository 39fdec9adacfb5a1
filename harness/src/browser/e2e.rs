//! [`e2e`]: the test runner. Runs a browser test body with a server and a session, and on failure
//! has the evidence written (see `artifacts`) and fails the test at its caller.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use fantoccini::Client;
use url::Url;

use super::artifacts;
use super::driver::Driver;
use super::grid_answers::{explain_grid_failure, explain_grid_panic};
use super::kind::Browser;
use super::pool::{PooledSession, SessionPool};
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
    Pooled(PooledSession),
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
    /// started) and `error.txt`, then fails the test with a message that names the folder (and,
    /// when the error is a Selenium Grid's answer for a node that went away, says so first: see
    /// [`explain_grid_failure`](crate::browser::explain_grid_failure)). The
    /// failure is reported at the line that called `run` (the test's, not the harness's): the
    /// message `harness: test failed at <file>:<line>:<column>` goes to stderr and the test
    /// panics with the message as its payload.
    ///
    /// `<test-name>` is the [`name`](Self::name) given, else the libtest thread's name (the test's
    /// path), else `unnamed-test` (e.g. on a multi-thread runtime's worker). Every failing run gets
    /// a folder of its own: when the name is taken by a run of this process or of one still
    /// running, the folder is `<test-name>-2`, `-3`...; only a folder left by a process that has
    /// ended (an earlier run) is replaced.
    ///
    /// The body runs in the caller's task, so it may borrow what the test holds, the server
    /// handle included:
    ///
    /// ```no_run
    /// use fantoccini::Locator;
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let web = harness::Server::cargo_bin("fixtures-app")?.spawn().await?;
    /// let id: &str = web.instance_id(); // borrows `web`
    /// harness::e2e(&web)
    ///     .run(|ctx| async move {
    ///         ctx.client.goto(ctx.url("whoami").as_str()).await?;
    ///         let body = ctx.client.find(Locator::Css("body")).await?.text().await?;
    ///         assert!(body.contains(id), "{body}");
    ///         Ok(())
    ///     })
    ///     .await;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn run<F, Fut>(self, body: F) -> impl Future<Output = ()> + 'a
    where
        F: FnOnce(E2eContext) -> Fut + 'a,
        Fut: Future<Output = Result<(), BoxError>> + 'a,
    {
        let caller = Location::caller();
        async move {
            if let Err(message) = self.outcome(body).await {
                fail_at(caller, message);
            }
        }
    }

    /// Runs the test; on failure, the message to fail it with.
    async fn outcome<F, Fut>(self, body: F) -> Result<(), String>
    where
        F: FnOnce(E2eContext) -> Fut,
        Fut: Future<Output = Result<(), BoxError>>,
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
                Err(e) => return Err(format!("harness: no browser for test `{name}`: {e}")),
            },
        };
        let lease = lease.map_err(|e| format!("harness: no session for test `{name}`: {e:?}"))?;
        let started = SystemTime::now();
        let ctx = E2eContext {
            client: lease.session().client().clone(),
            base: self.server.url().clone(),
            browser: lease.session().browser(),
        };
        // (what the failure message says, what error.txt says)
        let failure = match CatchUnwind(Box::pin(body(ctx))).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                // A Selenium Grid that lost the node says so only in its own words.
                let message = match explain_grid_failure(&*e, lease.session().endpoint()) {
                    Some(why) => format!("{why}\n{e}"),
                    None => e.to_string(),
                };
                Some((message.clone(), format!("{message}\n\n{e:?}")))
            }
            Err(panic) => {
                let mut message = panic_message(panic.as_ref());
                if let Some(why) = explain_grid_panic(&message, lease.session().endpoint()) {
                    message = format!("{why}\n{message}");
                }
                Some((message.clone(), message))
            }
        };
        let evidence = match &failure {
            Some((_, message)) => {
                let evidence =
                    artifacts::record(&name, lease.session(), self.server, started, message).await;
                eprintln!("harness: test `{name}` failed; {evidence}");
                evidence
            }
            None => String::new(),
        };
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
        match failure {
            None => Ok(()),
            Some((message, _)) => Err(format!(
                "test `{name}` failed: {message}\nharness: {evidence}"
            )),
        }
    }
}

/// Fails the test at `caller`: `panic!` here would name this file as the place of the failure,
/// and `#[track_caller]` has no effect on an `async fn`. So the place is said on stderr, where
/// libtest shows it with the test's output, and the message goes up as the panic's payload
/// without running the panic hook (which would print this file's line).
fn fail_at(caller: &Location<'_>, message: String) -> ! {
    eprintln!("harness: test failed at {caller}:\n{message}");
    std::panic::resume_unwind(Box::new(message))
}

/// Catches a panic of the body, which runs in the caller's task (a spawned task would need a
/// `'static` body, one that borrows nothing).
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // Unwind safety: after a panic the body is dropped, never polled again; what it shared
        // with the test (the client) is reset or closed with the session.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// The folder name of a failure whose test has no name the harness can learn.
const UNNAMED: &str = "unnamed-test";
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
