//! Helpers shared by the server tests.

use harness::Server;

/// fixtures-app, built by `cargo test --workspace`.
pub(crate) fn fixtures() -> Server {
    Server::cargo_bin("fixtures-app")
        .expect("run `cargo test --workspace` so fixtures-app is built")
}

/// GETs `path` on `base`, asserting status 200, and returns the body.
pub(crate) fn get(base: &url::Url, path: &str) -> String {
    test_support::http::get_ok(base.join(path).expect("a path to join").as_str())
}

pub(crate) use test_support::procs::{alive, processes_with, wait_until};
