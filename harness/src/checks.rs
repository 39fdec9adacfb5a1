//! Checks after readiness: a health endpoint, and proof that the server answering is ours.
//!
//! Every request is bounded by the time left before the ready deadline, so a server that accepts
//! connections and never answers fails at `ready_timeout`, not at some timeout of our own.

use std::time::Duration;

use url::Url;

use crate::{Error, Exit, Failure};

/// How often a check that got no good answer is tried again.
const RETRY_EVERY: Duration = Duration::from_millis(25);

/// The optional checks of a [`Server`](crate::Server), in the order they run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checks {
    pub(crate) health: Option<String>,
    pub(crate) identity: Option<String>,
}

/// What one request got.
enum Answer {
    Body(reqwest::StatusCode, String),
    /// Nothing before the deadline: the server accepted (or not) but did not answer in time.
    Hung,
    Failed(String),
}

/// A check that failed, with what it saw; the caller adds the server's [`Failure`] context.
#[derive(Debug)]
pub(crate) enum CheckFailed {
    Health {
        url: String,
        last: String,
    },
    Identity {
        url: String,
        expected: String,
        got: String,
    },
}

impl CheckFailed {
    /// The error, once the caller has the server's failure context.
    pub(crate) fn into_error(self, failure: Failure) -> Error {
        let failure = Box::new(failure);
        match self {
            Self::Health { url, last } => Error::Health { url, last, failure },
            Self::Identity { url, expected, got } => Error::Identity {
                url,
                expected,
                got,
                failure,
            },
        }
    }
}

/// What the checks check: the server's primary listener and the nonce it was given, how long it
/// has, and a way to ask whether it has exited (an exited server fails at once).
pub(crate) struct Target<'a, E: Fn() -> Option<Exit>> {
    pub(crate) url: &'a Url,
    pub(crate) instance_id: &'a str,
    pub(crate) ready_timeout: Duration,
    pub(crate) deadline: tokio::time::Instant,
    pub(crate) exit: E,
}

impl Checks {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let base = url::Url::parse("http://127.0.0.1:1/").expect("valid");
        for path in self.health.iter().chain(&self.identity) {
            if base.join(path).is_err() {
                return Err(Error::BadPath { path: path.clone() });
            }
        }
        Ok(())
    }

    /// Runs the checks against `target` before its deadline. A failure comes with the exit seen
    /// when it was decided (before any kill, which is no part of the server's story).
    pub(crate) async fn run<E: Fn() -> Option<Exit>>(
        &self,
        target: Target<'_, E>,
    ) -> Result<(), (CheckFailed, Option<Exit>)> {
        let Target {
            url,
            instance_id,
            ready_timeout,
            deadline,
            exit: try_exit,
        } = target;
        if self.health.is_none() && self.identity.is_none() {
            return Ok(());
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a plain HTTP client builds");
        let hung = |what: &str| {
            let state = match try_exit() {
                Some(exit) => format!("; the server had exited ({exit})"),
                None => " while the server was still running".to_owned(),
            };
            format!(
                "no answer within the ready timeout of {ready_timeout:?}; the {what} request hung{state}"
            )
        };
        if let Some(path) = &self.health {
            let url = url.join(path).expect("validated");
            loop {
                let last = match get(&client, &url, deadline).await {
                    Answer::Body(status, _) if status.is_success() => break,
                    Answer::Body(status, _) => format!("answered {status}"),
                    Answer::Hung => hung("health check"),
                    Answer::Failed(e) => e,
                };
                let exit = try_exit();
                if exit.is_some() || tokio::time::Instant::now() >= deadline {
                    let url = url.to_string();
                    return Err((CheckFailed::Health { url, last }, exit));
                }
                tokio::time::sleep(RETRY_EVERY.min(deadline - tokio::time::Instant::now())).await;
            }
        }
        if let Some(path) = &self.identity {
            let url = url.join(path).expect("validated");
            let expected = instance_id;
            let problem = match get(&client, &url, deadline).await {
                Answer::Body(_, body) if body.contains(expected) => None,
                Answer::Body(status, body) => Some(format!(
                    "answered {status} without it (got {:?}); another process answers on this port",
                    body.chars().take(200).collect::<String>()
                )),
                Answer::Hung => Some(hung("identity check")),
                Answer::Failed(e) => Some(format!("nothing answered ({e})")),
            };
            if let Some(got) = problem {
                let failed = CheckFailed::Identity {
                    url: url.to_string(),
                    expected: expected.to_owned(),
                    got,
                };
                return Err((failed, try_exit()));
            }
        }
        Ok(())
    }
}

/// GET `url`, the whole exchange bounded by `deadline`.
async fn get(client: &reqwest::Client, url: &Url, deadline: tokio::time::Instant) -> Answer {
    let exchange = async {
        let response = client.get(url.clone()).send().await?;
        let status = response.status();
        Ok::<_, reqwest::Error>((status, response.text().await?))
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Ok(Ok((status, body))) => Answer::Body(status, body),
        Ok(Err(e)) => Answer::Failed(crate::error::chain(&e)),
        Err(_) => Answer::Hung,
    }
}

/// A fresh, unguessable-enough nonce for one spawn (128 bits from the std hasher's random keys).
pub(crate) fn nonce() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let part = || {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u32(std::process::id());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", part(), part())
}
