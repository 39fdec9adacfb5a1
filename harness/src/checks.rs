//! Checks after readiness: a health endpoint, and proof that the server answering is ours.

use std::time::Duration;

use crate::Error;
use crate::handle::ServerHandle;

/// How often a check that got no good answer is tried again.
const RETRY_EVERY: Duration = Duration::from_millis(25);

/// The optional checks of a [`Server`](crate::Server), in the order they run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checks {
    pub(crate) health: Option<String>,
    pub(crate) identity: Option<String>,
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

    pub(crate) async fn run(
        &self,
        handle: &ServerHandle,
        deadline: tokio::time::Instant,
    ) -> Result<(), Error> {
        if self.health.is_none() && self.identity.is_none() {
            return Ok(());
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a plain HTTP client builds");
        if let Some(path) = &self.health {
            let url = handle.url().join(path).expect("validated");
            let mut last: String;
            loop {
                match client.get(url.clone()).send().await {
                    Ok(r) if r.status().is_success() => break,
                    Ok(r) => last = format!("answered {}", r.status()),
                    Err(e) => last = e.to_string(),
                }
                let status = handle.try_status();
                if status.is_some() || tokio::time::Instant::now() >= deadline {
                    // The status is taken before our kill, which is no part of the server's story.
                    handle.kill_group();
                    return Err(Error::Health {
                        url: url.to_string(),
                        last,
                        failure: Box::new(handle.failure(status).await),
                    });
                }
                tokio::time::sleep(RETRY_EVERY).await;
            }
        }
        if let Some(path) = &self.identity {
            let url = handle.url().join(path).expect("validated");
            let body = match client.get(url.clone()).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => format!("(request failed: {e})"),
            };
            if !body.contains(handle.instance_id()) {
                let status = handle.try_status();
                handle.kill_group();
                return Err(Error::Identity {
                    url: url.to_string(),
                    expected: handle.instance_id().to_owned(),
                    got: body.chars().take(200).collect(),
                    failure: Box::new(handle.failure(status).await),
                });
            }
        }
        Ok(())
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
