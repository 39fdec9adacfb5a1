//! Graceful shutdown: SIGTERM, SIGINT and end of stdin all end the app with code 0, promptly.

use std::thread;
use std::time::Duration;

use rustix::process::Signal;

use crate::support::{Fixture, PATIENCE, Stream, http_get};

/// How soon after the request to stop the app must have exited.
const PROMPT: Duration = Duration::from_secs(1);

#[test]
fn sigterm_exits_zero_within_a_second_despite_a_slow_request() {
    let mut app = Fixture::spawn(&[]);
    let addr = app.handshake(PATIENCE).primary().addr;
    // Nobody joins this thread: its request is cut when the app exits.
    thread::spawn(move || http_get(addr, "/slow?ms=20000"));
    app.wait_for(Stream::Stderr, "slow: waiting", PATIENCE);

    app.signal(Signal::TERM);
    let status = app.wait_exit(PROMPT);
    assert_eq!(status.code(), Some(0), "{app}");
    app.drain(PATIENCE);
    assert_eq!(app.stdout().len(), 1, "only the handshake on stdout\n{app}");
}

#[test]
fn sigint_exits_zero_within_a_second() {
    let mut app = Fixture::spawn(&[]);
    app.handshake(PATIENCE);
    app.signal(Signal::INT);
    assert_eq!(app.wait_exit(PROMPT).code(), Some(0), "{app}");
}

#[test]
fn exits_zero_when_stdin_closes() {
    let mut app = Fixture::spawn(&["--exit-on-stdin-eof"]);
    let addr = app.handshake(PATIENCE).primary().addr;
    assert_eq!(http_get(addr, "/hello").0, 200);
    app.close_stdin();
    assert_eq!(app.wait_exit(PROMPT).code(), Some(0), "{app}");
    app.wait_for(Stream::Stderr, "stdin closed", PATIENCE);
}
