//! Start test servers and WebDriver sessions on OS-assigned ports, so parallel end-to-end suites never
//! collide.
//!
//! A server binds port 0 and prints one [handshake](handshake) line saying where it listens; the
//! harness launches it, reads that line, and hands the test its base URL. Every process the harness
//! starts is gone when the test ends, panics, or its process is killed.
//!
//! Feature flags:
//! - `server` (default): [`Server`], readiness, logs and death-proof cleanup.
//! - `browser` (default): WebDriver drivers and fantoccini sessions.
//! - `cli` (default): the `harness` command-line tool.
//!
//! With `default-features = false` only [`handshake`] remains, for servers that announce themselves.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod handshake;
