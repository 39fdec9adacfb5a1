//! Helpers shared by the workspace's test targets (never published): counting processes from
//! `/proc` ([`procs`]) and one plain HTTP GET ([`http`]). A crate rather than a file each test
//! target includes with `#[path]`, so any package's tests can depend on it wherever they live.
//!
//! ```
//! assert!(test_support::procs::alive(std::process::id()));
//! ```

pub mod http;
#[cfg(target_os = "linux")]
pub mod procs;

// The library's one `/proc/PID/stat` parser, compiled here too: tests count processes the way the
// harness does, without the harness making its `/proc` reader public.
#[cfg(target_os = "linux")]
#[path = "../../src/procfs.rs"]
#[allow(
    dead_code,
    reason = "the tests use a part of the library's /proc reader"
)]
mod procfs;
