//! [`SessionPool`]: reuse open sessions, reset to a clean state, instead of starting a browser per
//! test.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use fantoccini::Client;

use super::driver::Driver;
use super::kind::Browser;
use super::runtime;
use super::session::{Session, SessionSpec};
use crate::Error;

/// Clears what a test leaves behind in the page it ends on: storage of that origin, and every
/// window but the first.
const CLEAR_STORAGE: &str =
    "try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) {}";

/// A pool of open sessions, opt-in. [`acquire`](Self::acquire) hands out a session reset to a
/// clean state; dropping the [`PooledSession`] gives it back.
///
/// The reset, run when a session is handed out again: close every window but one, clear local and
/// session storage of the page's origin, delete cookies (on Chrome every cookie of the browser,
/// through the DevTools protocol; elsewhere those of the current page's origin), and navigate to
/// `about:blank`. When any step fails, the session is closed and a new one is opened instead.
///
/// On a pooling endpoint ([`Driver::pooling`], `harness webdriver`) the endpoint keeps and resets
/// the sessions, more thoroughly (every origin's storage), so this pool keeps none: `acquire`
/// leases one from the endpoint and dropping it hands it back.
///
/// ```no_run
/// # async fn f() -> Result<(), harness::Error> {
/// let driver = harness::Driver::shared().await?;
/// let pool = harness::SessionPool::new(driver);
/// let session = pool.acquire().await?;
/// session.goto("about:blank").await.unwrap();
/// drop(session); // back to the pool
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SessionPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    spec: SessionSpec,
    idle: Mutex<Vec<Session>>,
}

impl Inner {
    /// The idle sessions. Only `Vec` pushes, pops and takes run under the lock, none of which
    /// panics, so the lock is never poisoned.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Session>> {
        self.idle
            .lock()
            .expect("no panic happens under the pool's lock")
    }
}

impl SessionPool {
    /// An empty pool of sessions on `driver`.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), harness::Error> {
    /// let pool = harness::SessionPool::new(harness::Driver::shared().await?);
    /// assert_eq!(pool.idle(), 0);
    /// # Ok(()) }
    /// ```
    pub fn new(driver: &Driver) -> Self {
        Self {
            inner: Arc::new(Inner {
                spec: driver.spec().clone(),
                idle: Mutex::default(),
            }),
        }
    }

    /// A clean session: an idle one after a successful reset, or else a new one.
    ///
    /// ```no_run
    /// # async fn f(pool: &harness::SessionPool) -> Result<(), Box<dyn std::error::Error>> {
    /// let session = pool.acquire().await?;
    /// session.goto("about:blank").await?;
    /// # Ok(()) }
    /// ```
    pub async fn acquire(&self) -> Result<PooledSession, Error> {
        // A pooling endpoint pools and resets its sessions itself: one pool is enough.
        while !self.inner.spec.is_pooled() {
            let idle = self.lock().pop();
            let Some(session) = idle else { break };
            match reset(&session).await {
                Ok(()) => return Ok(self.wrap(session)),
                Err(e) => {
                    tracing::debug!(
                        "harness: pooled session failed its reset ({e}); opening a new one"
                    );
                    let _ = session.close().await;
                }
            }
        }
        let session = Session::open(self.inner.spec.clone()).await?;
        Ok(self.wrap(session))
    }

    /// How many sessions wait in the pool.
    ///
    /// ```no_run
    /// # async fn f(pool: &harness::SessionPool) -> Result<(), harness::Error> {
    /// let session = pool.acquire().await?;
    /// drop(session);
    /// assert_eq!(pool.idle(), 1);
    /// # Ok(()) }
    /// ```
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    /// Closes every idle session.
    ///
    /// ```no_run
    /// # async fn f(pool: &harness::SessionPool) {
    /// pool.close_idle().await;
    /// assert_eq!(pool.idle(), 0);
    /// # }
    /// ```
    pub async fn close_idle(&self) {
        let idle = std::mem::take(&mut *self.lock());
        for session in idle {
            let _ = session.close().await;
        }
    }

    fn wrap(&self, session: Session) -> PooledSession {
        PooledSession {
            session: Some(session),
            pool: Arc::clone(&self.inner),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Session>> {
        self.inner.lock()
    }
}

async fn reset(session: &Session) -> Result<(), Error> {
    let client = session.client().clone();
    let chrome = session.browser() == Browser::Chrome;
    let devtools = session.endpoint().clone();
    runtime::run(async move {
        let step = |what| move |e| Error::webdriver(what, e);
        let windows = client.windows().await.map_err(step("list windows"))?;
        if let Some((first, rest)) = windows.split_first() {
            for window in rest {
                client
                    .switch_to_window(window.clone())
                    .await
                    .map_err(step("switch window"))?;
                client
                    .close_window()
                    .await
                    .map_err(step("close a window"))?;
            }
            client
                .switch_to_window(first.clone())
                .await
                .map_err(step("switch window"))?;
        }
        client
            .execute(CLEAR_STORAGE, vec![])
            .await
            .map_err(step("clear storage"))?;
        client
            .delete_all_cookies()
            .await
            .map_err(step("delete cookies"))?;
        if chrome {
            clear_all_chrome_cookies(&client, &devtools).await;
        }
        client
            .goto("about:blank")
            .await
            .map_err(step("open about:blank"))
    })
    .await
}

/// Chrome only: every cookie of the browser, not just the current origin's, via chromedriver's
/// DevTools passthrough. Best effort; a remote end may not offer it.
async fn clear_all_chrome_cookies(client: &Client, endpoint: &url::Url) {
    use super::session::WebDriverJson;
    let Ok(Some(id)) = client.session_id().await else {
        return;
    };
    let Ok(url) = endpoint.join(&format!("session/{id}/goog/cdp/execute")) else {
        return;
    };
    let Ok(http) = reqwest::Client::builder().no_proxy().build() else {
        return;
    };
    let _ = http
        .post(url)
        .webdriver_json(&serde_json::json!({ "cmd": "Network.clearBrowserCookies", "params": {} }))
        .send()
        .await;
}

/// A session borrowed from a [`SessionPool`]; derefs to [`Session`] (and so to the fantoccini
/// client). Dropping it returns the session to the pool.
///
/// ```no_run
/// # async fn f(pool: &harness::SessionPool) -> Result<(), harness::Error> {
/// let session: harness::PooledSession = pool.acquire().await?;
/// println!("{} session on {}", session.browser(), session.endpoint());
/// drop(session); // reset and handed out again by the next `acquire`
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PooledSession {
    session: Option<Session>,
    pool: Arc<Inner>,
}

impl PooledSession {
    /// Takes the session out of the pool for good, e.g. to close it.
    ///
    /// ```no_run
    /// # async fn f(pool: &harness::SessionPool) -> Result<(), harness::Error> {
    /// let session = pool.acquire().await?.detach();
    /// session.close().await?; // not returned to the pool
    /// # Ok(()) }
    /// ```
    pub fn detach(mut self) -> Session {
        self.session.take().expect("present until dropped")
    }
}

impl Deref for PooledSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        self.session.as_ref().expect("present until dropped")
    }
}

impl Drop for PooledSession {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            if self.pool.spec.is_pooled() {
                // Closing hands it back to the endpoint, which resets it for the next test.
                drop(session);
            } else {
                self.pool.lock().push(session);
            }
        }
    }
}
