//! Integration tests of `harness::Server` against the real fixtures-app binary.
//!
//! Run with `cargo test --workspace` so that fixtures-app is built next to this test binary.

mod attach;
mod cleanup;
mod failures;
mod honest;
mod host;
mod input;
mod readiness;
mod scale;
mod support;
