//! What every test shares: the server, and the waiting budget.

use std::time::Duration;

use harness::{Server, ServerHandle, SharedServer};

/// The longest any explicit wait in this suite may take.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

static WEB: SharedServer = SharedServer::new(|| Server::cargo_bin("fixtures-app"));

/// The fixtures-app shared by this test binary.
pub(crate) async fn web() -> &'static ServerHandle {
    WEB.get()
        .await
        .expect("fixtures-app starts (run `cargo test --workspace` so it is built)")
}
