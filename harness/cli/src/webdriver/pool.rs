//! The warm sessions and their leases: taken by `POST /session` (probed first, so a crashed
//! browser is never handed out), reset and put back on `DELETE`, reclaimed when idle, replaced
//! when they fail.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::ServerHandle;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;
use url::Url;

use super::caps::{self, Wanted};
use super::launch::{self, LaunchError, Session, Setup, Warm};
use super::reset::Target;
use super::wire;

/// How many times a failed replacement of a warm session is tried before the pool gives up on
/// that slot (and says so on stderr).
const REPLACE_TRIES: usize = 3;

/// The W3C default timeouts, restored when a lease ends.
fn default_timeouts() -> Value {
    json!({ "script": 30_000, "pageLoad": 300_000, "implicit": 0 })
}

/// How the pool is sized and bounded.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Browser, driver and client.
    pub(crate) setup: Setup,
    /// How many warm sessions.
    pub(crate) size: usize,
    /// How long `POST /session` waits for a free session; also bounds a probe and a reset.
    pub(crate) lease_timeout: Duration,
    /// How long a lease may go without a request before it is reclaimed.
    pub(crate) idle_timeout: Duration,
    /// How long a driver start or a new browser session may take.
    pub(crate) start_timeout: Duration,
}

/// The warm sessions and the leases (the shared chromedriver is its owner's, so that `run` and
/// `serve` can watch it like any server).
#[derive(Debug)]
pub(crate) struct Pool {
    config: Config,
    shared_url: Option<Url>,
    idle_tx: mpsc::UnboundedSender<Warm>,
    idle_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Warm>>,
    leases: Mutex<HashMap<String, Arc<Lease>>>,
    closed: AtomicBool,
}

/// One lease: the session it forwards to, and what to do when it ends.
#[derive(Debug)]
struct Lease {
    target: Target,
    held: Mutex<Option<Held>>,
    last_used: Mutex<Instant>,
}

/// What a lease holds.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per lease, a handful at a time: boxing saves nothing that matters"
)]
enum Held {
    /// A warm session: reset and put back when the lease ends.
    Warm(Warm),
    /// A session made for this request alone: deleted when the lease ends.
    OneOff(Session),
}

/// A granted `POST /session`: the lease id and the capabilities to answer with.
#[derive(Debug)]
pub(crate) struct Granted {
    /// The endpoint's own session id for the lease.
    pub(crate) id: String,
    /// The driver's capabilities, without `webSocketUrl`.
    pub(crate) capabilities: Value,
}

/// Why `POST /session` got no session: the W3C error and message to answer with.
#[derive(Debug)]
pub(crate) struct Refused {
    /// `session not created` or `invalid argument`.
    pub(crate) error: &'static str,
    /// What went wrong and what to do.
    pub(crate) message: String,
}

impl Pool {
    /// Starts the shared driver (Chrome; returned with the pool) and `config.size` warm sessions
    /// concurrently, before `deadline`, and returns once the first session is warm: a browser
    /// that cannot start at all fails the start (and stops everything started), while the others
    /// go on warming up as the first tests run (a lease waits for one, within its timeout). A
    /// later one that fails is said on stderr; its slot is tried again as a replacement would be.
    pub(crate) async fn start(
        config: Config,
        deadline: Instant,
    ) -> Result<(Arc<Self>, Option<ServerHandle>), LaunchError> {
        let shared = match config.setup.browser {
            harness::Browser::Chrome => Some(launch::start_driver(&config.setup).await?),
            harness::Browser::Firefox => None,
        };
        let shared_url = shared
            .as_ref()
            .map(|h| harness::__cli::with_trailing_slash(h.url().clone()));
        let mut opening = tokio::task::JoinSet::new();
        for _ in 0..config.size {
            let setup = config.setup.clone();
            let url = shared_url.clone();
            opening.spawn(async move { launch::open_warm(&setup, url.as_ref(), deadline).await });
        }
        let (idle_tx, idle_rx) = mpsc::unbounded_channel();
        let first = opening
            .join_next()
            .await
            .expect("a pool has at least one session");
        let first = first.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))?;
        let _ = idle_tx.send(first);
        let pool = Arc::new(Self {
            config,
            shared_url,
            idle_tx,
            idle_rx: tokio::sync::Mutex::new(idle_rx),
            leases: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        });
        let warming = Arc::clone(&pool);
        tokio::spawn(async move {
            while let Some(joined) = opening.join_next().await {
                match joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic())) {
                    Ok(warm) => {
                        let _ = warming.idle_tx.send(warm);
                    }
                    Err(error) => {
                        say!(
                            "harness: warning: a warm session did not start ({error}); trying again"
                        );
                        warming.replace().await;
                    }
                }
            }
        });
        Ok((pool, shared))
    }

    /// The driver URL requests outside any session go to (`GET /status` aside): the shared
    /// chromedriver, else none.
    pub(crate) fn shared_url(&self) -> Option<&Url> {
        self.shared_url.as_ref()
    }

    /// The HTTP client for the drivers.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.config.setup.client
    }

    /// Serves `POST /session` with `body`.
    pub(crate) async fn lease(self: &Arc<Self>, body: &Value) -> Result<Granted, Refused> {
        let setup = &self.config.setup;
        let wanted = caps::wanted(body, setup.browser, &setup.binary).map_err(not_created)?;
        let (held, timeouts) = match wanted {
            Wanted::Warm { timeouts } => (Held::Warm(self.take_warm().await?), timeouts),
            Wanted::OneOff { caps, why } => {
                let deadline = Instant::now() + self.config.start_timeout;
                let session = launch::open(setup, self.shared_url.as_ref(), Some(caps), deadline)
                    .await
                    .map_err(|error| {
                        not_created(format!(
                            "no warm session matches ({why}), and a fresh session failed: {error}"
                        ))
                    })?;
                (Held::OneOff(session), None)
            }
        };
        let target = match &held {
            Held::Warm(warm) => warm.session.target.clone(),
            Held::OneOff(session) => session.target.clone(),
        };
        let lease = Arc::new(Lease {
            target,
            held: Mutex::new(Some(held)),
            last_used: Mutex::new(Instant::now()),
        });
        let id = self.insert(Arc::clone(&lease));
        if let Some(timeouts) = timeouts {
            let url = launch::command_url(&lease.target, "timeouts");
            let deadline = Instant::now() + self.config.lease_timeout;
            if let Err(error) =
                wire::call(self.client(), Method::POST, &url, Some(&timeouts), deadline).await
            {
                self.release(&id);
                return Err(Refused {
                    error: "invalid argument",
                    message: format!("the requested timeouts were refused: {error}"),
                });
            }
        }
        let mut capabilities = lease.target.capabilities.clone();
        if let Some(object) = capabilities.as_object_mut() {
            object.remove("webSocketUrl");
        }
        self.watch_idle(id.clone());
        Ok(Granted { id, capabilities })
    }

    /// Takes an idle warm session that answers a probe, waiting at most `--lease-timeout`;
    /// sessions that fail the probe are replaced in the background.
    async fn take_warm(self: &Arc<Self>) -> Result<Warm, Refused> {
        let deadline = Instant::now() + self.config.lease_timeout;
        loop {
            let next =
                tokio::time::timeout_at(deadline, async { self.idle_rx.lock().await.recv().await })
                    .await;
            let Ok(Some(warm)) = next else {
                let held = self.leases.lock().expect("no panic under this lock").len();
                return Err(not_created(format!(
                    "no warm session became free within {:?}: all sessions of --pool {} are \
                     leased ({held} leases held); raise --pool, or make sure clients end their \
                     sessions with DELETE /session/{{id}}",
                    self.config.lease_timeout, self.config.size
                )));
            };
            // A probe gets a --lease-timeout of its own: a healthy browser slowed by a loaded
            // machine must not be discarded because the wait for it used up the lease's time.
            let probe = warm.session.url("url");
            let probe_deadline = Instant::now() + self.config.lease_timeout;
            match wire::call(self.client(), Method::GET, &probe, None, probe_deadline).await {
                Ok(_) => return Ok(warm),
                Err(error) => {
                    say!(
                        "harness: warning: a warm session failed its probe, replacing it: {error}"
                    );
                    self.discard(warm);
                }
            }
        }
    }

    /// Inserts `lease` under a fresh random id and returns the id.
    fn insert(&self, lease: Arc<Lease>) -> String {
        let mut leases = self.leases.lock().expect("no panic under this lock");
        loop {
            let id = super::lease_id::random();
            if !leases.contains_key(&id) {
                leases.insert(id.clone(), lease);
                return id;
            }
        }
    }

    /// The driver session behind lease `id`, marking the lease as used now; `None` for an id
    /// that is not (or no longer) leased.
    pub(crate) fn target(&self, id: &str) -> Option<Target> {
        let leases = self.leases.lock().expect("no panic under this lock");
        let lease = leases.get(id)?;
        *lease.last_used.lock().expect("no panic under this lock") = Instant::now();
        Some(lease.target.clone())
    }

    /// Ends lease `id` at once (its id is invalid from now on) and, in the background, resets
    /// its session and puts it back (or deletes a one-off session). Returns whether it existed.
    pub(crate) fn release(self: &Arc<Self>, id: &str) -> bool {
        let lease = self
            .leases
            .lock()
            .expect("no panic under this lock")
            .remove(id);
        let Some(lease) = lease else { return false };
        let held = lease.held.lock().expect("no panic under this lock").take();
        let pool = Arc::clone(self);
        tokio::spawn(async move {
            match held {
                Some(Held::Warm(warm)) => pool.put_back(warm).await,
                Some(Held::OneOff(session)) => {
                    let deadline = Instant::now() + pool.config.lease_timeout;
                    session.close(pool.client(), deadline).await;
                }
                None => {}
            }
        });
        true
    }

    /// Resets `warm` and makes it idle again, or discards and replaces it when the reset fails.
    async fn put_back(self: &Arc<Self>, mut warm: Warm) {
        let deadline = Instant::now() + self.config.lease_timeout;
        let url = warm.session.url("timeouts");
        let timeouts = wire::call(
            self.client(),
            Method::POST,
            &url,
            Some(&default_timeouts()),
            deadline,
        )
        .await
        .map(drop)
        .map_err(|e| e.to_string());
        let reset = match timeouts {
            Ok(()) => warm
                .cleaner
                .reset(&warm.session.target, deadline)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error),
        };
        match reset {
            Ok(()) if !self.closed.load(Ordering::SeqCst) => {
                let _ = self.idle_tx.send(warm);
            }
            Ok(()) => {}
            Err(error) => {
                say!("harness: warning: resetting a warm session failed, replacing it: {error}");
                self.discard(warm);
            }
        }
    }

    /// Deletes `warm` in the background and opens a replacement.
    fn discard(self: &Arc<Self>, warm: Warm) {
        let pool = Arc::clone(self);
        tokio::spawn(async move {
            let deadline = Instant::now() + pool.config.lease_timeout;
            warm.session.close(pool.client(), deadline).await;
            pool.replace().await;
        });
    }

    /// Opens a warm session to take a discarded one's place.
    async fn replace(self: &Arc<Self>) {
        for attempt in 1..=REPLACE_TRIES {
            if self.closed.load(Ordering::SeqCst) {
                return;
            }
            let deadline = Instant::now() + self.config.start_timeout;
            match launch::open_warm(&self.config.setup, self.shared_url.as_ref(), deadline).await {
                Ok(warm) => {
                    if !self.closed.load(Ordering::SeqCst) {
                        let _ = self.idle_tx.send(warm);
                    }
                    return;
                }
                Err(error) => say!(
                    "harness: warning: replacing a warm session failed (try {attempt} of \
                     {REPLACE_TRIES}): {error}"
                ),
            }
        }
        say!("harness: warning: the pool has one warm session fewer from now on");
    }

    /// Reclaims lease `id` once it has gone `--idle-timeout` without a request.
    fn watch_idle(self: &Arc<Self>, id: String) {
        let pool = Arc::downgrade(self);
        let idle = self.config.idle_timeout;
        tokio::spawn(async move {
            loop {
                let last = {
                    let Some(pool) = pool.upgrade() else { return };
                    let leases = pool.leases.lock().expect("no panic under this lock");
                    let Some(lease) = leases.get(&id) else { return };
                    *lease.last_used.lock().expect("no panic under this lock")
                };
                if Instant::now() >= last + idle {
                    if let Some(pool) = pool.upgrade() {
                        say!(
                            "harness: lease {id} had no request for {idle:?}: reclaiming its session"
                        );
                        pool.release(&id);
                    }
                    return;
                }
                tokio::time::sleep_until(last + idle).await;
            }
        });
    }

    /// Stops the pool: no more replacements, the shared `driver` stopped (its browsers with it),
    /// every session and profile dropped.
    pub(crate) async fn shutdown(&self, driver: Option<ServerHandle>) {
        self.closed.store(true, Ordering::SeqCst);
        let mut idle = Vec::new();
        if let Ok(mut rx) = self.idle_rx.try_lock() {
            while let Ok(warm) = rx.try_recv() {
                idle.push(warm);
            }
        }
        let leases: Vec<_> = self
            .leases
            .lock()
            .expect("no panic under this lock")
            .drain()
            .map(|(_, lease)| lease.held.lock().expect("no panic under this lock").take())
            .collect();
        if let Some(driver) = driver
            && let Err(error) = driver.stop().await
        {
            say!("harness: warning: stopping the driver: {error:?}");
        }
        drop(leases);
        drop(idle);
    }
}

/// A `session not created` refusal.
fn not_created(message: String) -> Refused {
    Refused {
        error: "session not created",
        message,
    }
}
