//! Selenium Grid 4, as users run it: on one machine (a standalone Grid on an OS-assigned port) and
//! across hosts (a hub here, a Chrome node and a Firefox node each on a test host of its own, a
//! network namespace on a private bridge), with the servers under test bound to the bridge
//! address the browsers reach them on.
//!
//! Opt-in (`--ignored`): it needs Java 17, the Grid 4.20.0 jar and, for the test hosts, root.
//! `.ci/install grid` installs them and `.ci/run` runs
//! `cargo test -p e2e --test e2e -- --ignored grid::`. What is missing is a failure naming the
//! install command, never a skip.

mod hosts;
mod local;
mod setup;
