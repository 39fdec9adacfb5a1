//! Helpers shared by the server tests.

use harness::Server;

/// fixtures-app, built by `cargo test --workspace`.
pub(crate) fn fixtures() -> Server {
    Server::cargo_bin("fixtures-app")
        .expect("run `cargo test --workspace` so fixtures-app is built")
}

/// GETs `path` on `base` and returns the body.
pub(crate) async fn get(base: &url::Url, path: &str) -> String {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(base.join(path).unwrap())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub(crate) use crate::procs::{alive, processes_with, wait_until};
