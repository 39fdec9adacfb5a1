//! Helpers shared by the workspace's test targets (never published): counting processes from
//! `/proc` ([`procs`]), one plain HTTP GET ([`http`]), and test hosts made of network namespaces
//! for the Selenium Grid suite ([`netns`], Linux, root). A crate rather than a file each test
//! target includes with `#[path]`, so any package's tests can depend on it wherever they live.
//!
//! ```
//! assert!(test_support::procs::alive(std::process::id()));
//! ```

pub mod http;
#[cfg(target_os = "linux")]
pub mod netns;
#[cfg(target_os = "linux")]
pub mod procs;
