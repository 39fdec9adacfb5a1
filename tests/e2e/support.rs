//! What every test shares: the server, and the waiting budget.

use std::time::Duration;

use fantoccini::{Client, Locator, error::CmdError};
use harness::{Server, ServerHandle, SharedServer};

/// The longest any explicit wait in this suite may take.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Under nextest the setup script's fixtures-app, attached to (`FIXTURES_APP_URL`): the identity
/// check proves it is the one that script started.
static WEB: SharedServer =
    SharedServer::new(|| Ok(Server::cargo_bin("fixtures-app")?.identity_check("/whoami")));

/// The fixtures-app shared by this test binary (and, under nextest, by the whole run).
pub(crate) async fn web() -> &'static ServerHandle {
    WEB.get()
        .await
        .expect("fixtures-app starts (run `cargo test --workspace` so it is built)")
}

/// Fills in and submits the login form of the page `client` is on.
pub(crate) async fn submit_login(
    client: &Client,
    username: &str,
    password: &str,
) -> Result<(), CmdError> {
    client
        .find(Locator::Id("username"))
        .await?
        .send_keys(username)
        .await?;
    client
        .find(Locator::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    client.find(Locator::Id("login")).await?.click().await
}
