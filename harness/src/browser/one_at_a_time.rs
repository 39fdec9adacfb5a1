//! A driver endpoint that serves one session at a time (geckodriver), and a session's hold on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Server;

/// A driver endpoint that serves one session at a time.
#[derive(Debug)]
pub(crate) struct OneAtATime {
    /// The driver a session starts for itself when the endpoint is taken.
    driver: Server,
    /// Whether a session holds the endpoint.
    busy: AtomicBool,
}

impl OneAtATime {
    pub(crate) fn new(driver: Server) -> Self {
        Self {
            driver,
            busy: AtomicBool::new(false),
        }
    }

    /// The driver a session starts for itself when the endpoint is taken.
    pub(crate) fn driver(&self) -> &Server {
        &self.driver
    }
}

/// A session's hold on a one-session-at-a-time endpoint; dropping it frees the endpoint.
#[derive(Debug)]
pub(crate) struct Claim(Arc<OneAtATime>);

impl Claim {
    pub(crate) fn take(endpoint: &Arc<OneAtATime>) -> Option<Self> {
        endpoint
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Self(Arc::clone(endpoint)))
    }

    /// Frees the endpoint once its session has ended: only then does it take a new one.
    pub(crate) fn release(self, session_ended: bool) {
        if !session_ended {
            // The session may still hold it: no later session may count on it.
            std::mem::forget(self);
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_session_holds_it_until_it_has_ended() {
        let endpoint = Arc::new(OneAtATime::new(Server::new("geckodriver")));
        let first = Claim::take(&endpoint).expect("free at first");
        assert!(Claim::take(&endpoint).is_none(), "taken while held");
        first.release(true);
        let second = Claim::take(&endpoint).expect("free once its session ended");
        second.release(false);
        assert!(
            Claim::take(&endpoint).is_none(),
            "a session that may not have ended keeps it taken"
        );
    }
}
