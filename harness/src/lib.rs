//! Start test servers and WebDriver sessions on OS-assigned ports, so parallel end-to-end suites never
//! collide.
//!
//! A server binds port 0 and prints one [`handshake`] line saying where it listens; the
//! harness launches it, reads that line, and hands the test its base URL. Every process the harness
//! starts is gone when the test ends, panics, or its process is killed (see [`process`'s
//! guarantees](crate#cleanup-guarantees)).
//!
//! ```no_run
//! use harness::Server;
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let web = Server::cargo_bin("fixtures-app")?.spawn().await?;
//! let text = reqwest::get(web.url().join("hello")?).await?.text().await?;
//! assert_eq!(text, "Hello World");
//! web.stop().await?;
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//! - `server` (default): [`Server`], readiness, logs and death-proof cleanup.
//! - `browser` (default): WebDriver drivers and fantoccini sessions; [`fantoccini`] is re-exported,
//!   so a test needs no `fantoccini` dependency of its own (one added with its default features
//!   would pull in OpenSSL through native-tls).
//!
//! The `harness` command-line tool is a separate package, `harness-e2e-cli`; this library
//! compiles none of it (no clap, indicatif, tracing-subscriber or shell-words).
//!
//! With `default-features = false` only [`handshake`] remains, for servers that announce themselves.
//!
//! # Cleanup guarantees
//! Each server leads its own process group. [`ServerHandle::stop`] sends SIGTERM to the group, waits
//! the grace period, then SIGKILLs what is left; `Drop` SIGKILLs the group and reaps the leader.
//! If the test process dies without running `Drop` (SIGKILL, `panic = "abort"`,
//! `std::process::exit`, a nextest timeout):
//! - on Linux, the server has `PR_SET_PDEATHSIG = SIGKILL` (armed from one long-lived spawner
//!   thread, with the arming race closed), and a watchdog process kills every registered process
//!   group the moment the test process's pipe to it closes, grandchildren included (each server
//!   registers its group itself, before it execs);
//! - on macOS and other Unix, the watchdog alone;
//! - on Windows, a job object with kill-on-close (compiled for, not tested in this repository's CI).
//!
//! A descendant that leaves the process group (`setsid`, `setpgid`) escapes all of these.
//! `HARNESS_KEEP=1` turns cleanup off for debugging and prints how to stop what was kept.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod handshake;

#[cfg(feature = "server")]
#[doc(hidden)]
pub mod __cli;
#[cfg(feature = "server")]
mod attached;
#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "server")]
mod checks;
#[cfg(feature = "server")]
mod error;
#[cfg(feature = "server")]
mod exit;
#[cfg(all(feature = "browser", unix))]
pub mod grid;
#[cfg(feature = "server")]
mod handle;
#[cfg(feature = "server")]
mod keep;
#[cfg(feature = "server")]
mod leaks;
#[cfg(all(feature = "server", target_os = "linux"))]
mod listening;
#[cfg(feature = "server")]
mod locate;
#[cfg(feature = "server")]
pub mod logs;
#[cfg(feature = "server")]
mod monitor;
#[cfg(feature = "server")]
mod process;
#[cfg(all(feature = "server", target_os = "linux"))]
mod procfs;
#[cfg(feature = "server")]
mod ready;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
mod shared;
#[cfg(feature = "server")]
mod spawned;
mod urls;

#[cfg(feature = "browser")]
pub use browser::{Browser, Driver, E2e, E2eContext, PooledSession, Session, SessionPool, e2e};
#[cfg(feature = "server")]
pub use error::{Error, ErrorKind, Failure, TAIL_LINES};
#[cfg(feature = "server")]
pub use exit::Exit;
/// The WebDriver client every [`Session`] wraps, re-exported so that `harness::fantoccini::Locator`
/// and friends need no dependency of their own (and no TLS stack).
///
/// ```
/// use harness::fantoccini::Locator;
/// let _heading = Locator::Css("h1");
/// ```
#[cfg(feature = "browser")]
pub use fantoccini;
#[cfg(feature = "server")]
pub use handle::ServerHandle;
#[cfg(feature = "server")]
pub use logs::{LogLine, Logs, Stream};
#[cfg(feature = "server")]
pub use ready::Ready;
#[cfg(feature = "server")]
pub use server::{DEFAULT_GRACE, DEFAULT_READY_TIMEOUT, INSTANCE_ID_ENV, Server};
#[cfg(feature = "server")]
pub use shared::SharedServer;
