//! Each misbehaviour switch does what it says, so the harness can be tested against it.

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::{Fixture, PATIENCE, Stream, get_json, http_get};

/// The flood size the tests ask for.
const MIB: usize = 1 << 20;

/// How long a test watches for a handshake that must not come.
const QUIET: Duration = Duration::from_secs(1);

#[test]
fn exit_before_handshake() {
    let mut app = Fixture::spawn(&["--exit-before-handshake", "3"]);
    assert_eq!(app.wait_exit(PATIENCE).code(), Some(3), "{app}");
    app.drain(PATIENCE);
    assert!(
        app.stderr().iter().any(|l| l.contains(
            "fixtures-app: exiting with code 3 before the handshake (as asked by --exit-before-handshake)"
        )),
        "{app}"
    );
    assert!(app.stdout().is_empty(), "{app}");
}

#[test]
fn exit_before_handshake_from_the_environment() {
    let mut command = Fixture::command();
    command.env("FIXTURES_EXIT_BEFORE_HANDSHAKE", "4");
    let mut app = Fixture::spawn_command(command);
    assert_eq!(app.wait_exit(PATIENCE).code(), Some(4), "{app}");
}

#[test]
fn no_handshake_but_still_serving() {
    let mut app = Fixture::spawn(&["--no-handshake"]);
    app.wait_for(Stream::Stderr, "serving on", PATIENCE);
    assert_eq!(app.handshake_line(QUIET), None, "{app}");
    assert_eq!(app.try_status(), None, "{app}");
}

#[test]
fn malformed_handshake_is_rejected_by_the_parser() {
    let mut app = Fixture::spawn(&["--malformed-handshake"]);
    let line = app.handshake_line(PATIENCE).expect("a handshake-like line");
    assert!(harness::handshake::parse(&line).is_err(), "{line}");
    assert_eq!(app.try_status(), None, "{app}");
}

#[test]
fn handshake_delay() {
    let started = Instant::now();
    let mut app = Fixture::spawn(&["--handshake-delay-ms", "300"]);
    app.handshake(PATIENCE);
    assert!(started.elapsed() >= Duration::from_millis(300), "{app}");
}

/// Reads `stream` until `bytes` bytes of `flood <stream> after` lines arrived.
fn wait_for_flood_after(app: &mut Fixture, stream: Stream, label: &str, bytes: usize) {
    let prefix = format!("flood {label} after ");
    let mut seen = 0;
    let done = app.wait_until(PATIENCE, |s, line| {
        if s == stream && line.starts_with(&prefix) {
            seen += line.len() + 1;
        }
        seen >= bytes
    });
    assert!(done, "{seen} of {bytes} bytes of {prefix:?} lines\n{app}");
}

/// The bytes of recorded lines starting with `prefix`, newlines included.
fn bytes_of(lines: &[String], prefix: &str) -> usize {
    lines
        .iter()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.len() + 1)
        .sum()
}

#[test]
fn floods_stdout_before_and_after_the_handshake() {
    let mib = MIB.to_string();
    let mut app = Fixture::spawn(&["--stdout-bytes-before", &mib, "--stdout-bytes-after", &mib]);
    let addr = app.handshake(PATIENCE).primary().addr;
    let before = &app.stdout()[..app.stdout().len() - 1];
    assert!(
        before
            .iter()
            .all(|l| l.starts_with("flood stdout before line "))
    );
    assert_eq!(bytes_of(before, ""), MIB);

    wait_for_flood_after(&mut app, Stream::Stdout, "stdout", MIB);
    assert_eq!(http_get(addr, "/hello").0, 200);
    app.signal(Signal::TERM);
    assert_eq!(app.wait_exit(PATIENCE).code(), Some(0), "{app}");
    app.drain(PATIENCE);
    assert_eq!(bytes_of(app.stdout(), "flood stdout after "), MIB);
    assert_eq!(app.stdout().len(), MIB.div_ceil(100) * 2 + 1);
}

#[test]
fn floods_stderr_before_and_after_the_handshake() {
    let mib = MIB.to_string();
    let mut command = Fixture::command();
    command.env("RUST_LOG", "off").args([
        "--stderr-bytes-before",
        &mib,
        "--stderr-bytes-after",
        &mib,
    ]);
    let mut app = Fixture::spawn_command(command);
    let addr = app.handshake(PATIENCE).primary().addr;
    wait_for_flood_after(&mut app, Stream::Stderr, "stderr", MIB);
    assert_eq!(http_get(addr, "/hello").0, 200);
    app.signal(Signal::TERM);
    assert_eq!(app.wait_exit(PATIENCE).code(), Some(0), "{app}");
    app.drain(PATIENCE);
    assert_eq!(bytes_of(app.stderr(), "flood stderr before "), MIB);
    assert_eq!(bytes_of(app.stderr(), "flood stderr after "), MIB);
    assert_eq!(
        bytes_of(app.stderr(), ""),
        2 * MIB,
        "nothing else with RUST_LOG=off"
    );
    assert_eq!(app.stdout().len(), 1, "{app}");
}

#[test]
fn spawned_grandchild_outlives_the_app() {
    let mut app = Fixture::spawn(&["--spawn-grandchild"]);
    let line = app.wait_for(Stream::Stderr, "fixtures-app: grandchild pid ", PATIENCE);
    let grandchild: u32 = line
        .rsplit(' ')
        .next()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"));
    app.also_kill(grandchild);
    assert!(test_support::procs::alive(grandchild), "{app}");

    let addr = app.handshake(PATIENCE).primary().addr;
    assert_eq!(get_json(addr, "/whoami")["grandchild_pid"], grandchild);

    app.signal(Signal::TERM);
    assert_eq!(app.wait_exit(PATIENCE).code(), Some(0), "{app}");
    assert!(
        test_support::procs::alive(grandchild),
        "the grandchild is gone or a zombie"
    );
}

#[test]
fn ignore_sigterm_keeps_serving_until_sigkill() {
    let mut app = Fixture::spawn(&["--ignore-sigterm"]);
    let addr = app.handshake(PATIENCE).primary().addr;
    app.signal(Signal::TERM);
    app.wait_for(Stream::Stderr, "ignoring SIGTERM", PATIENCE);
    assert_eq!(http_get(addr, "/hello"), (200, "Hello World".to_owned()));
    assert_eq!(app.try_status(), None, "{app}");

    app.signal(Signal::KILL);
    let status = app.wait_exit(PATIENCE);
    assert_eq!(status.signal(), Some(Signal::KILL.as_raw()), "{app}");
}
