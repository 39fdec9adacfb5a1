//! Integration tests of the `harness` command line, driving the built binary.
//!
//! Run with `cargo test --workspace` (or after `cargo build -p fixtures-app`) so that fixtures-app
//! is built next to this test binary. Linux only: the cleanup tests count processes in `/proc`.
#![cfg(target_os = "linux")]

mod browser;
mod cleanup;
mod demo;
mod exit_codes;
mod failures;
mod foreign;
mod foreign_input;
mod honest;
mod host;
mod input;
mod lifetime;
mod nextest;
use test_support::procs;
mod remote_warning;
mod run;
mod scale;
mod serve;
mod serve_files;
mod support;
mod webdriver;
