//! The test command's exit status is harness's.

use crate::support::{fixtures_app, run};

#[test]
fn exit_codes_pass_through() {
    let web = format!("web={}", fixtures_app());
    let out = run(&["run", "--server", &web, "--", "sh", "-c", "exit 5"]);
    assert_eq!(out.code(), Some(5), "{out}");
    let out = run(&["run", "--", "true"]);
    assert_eq!(out.code(), Some(0), "{out}");
}

#[test]
fn death_by_signal_becomes_128_plus_n() {
    let web = format!("web={}", fixtures_app());
    let out = run(&["run", "--server", &web, "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.code(), Some(143), "{out}");
}
