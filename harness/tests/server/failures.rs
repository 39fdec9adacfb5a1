//! Failures after start: fast, with the exit status and the output tails.

use std::time::{Duration, Instant};

use harness::{Error, ErrorKind, Server};

use crate::support::fixtures;

#[tokio::test]
async fn exit_before_ready_fails_at_once_with_code_and_stderr() {
    let started = Instant::now();
    let e = fixtures()
        .args(["--exit-before-handshake", "7"])
        .ready_timeout(Duration::from_secs(60))
        .spawn()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "returned well before the timeout"
    );
    let text = e.to_string();
    assert!(matches!(e, Error::Exited(_)), "{text}");
    assert_eq!(e.kind(), ErrorKind::NotStarted, "{text}");
    assert!(text.contains("exited before it was ready"), "{text}");
    assert!(text.contains("status: exit code 7"), "{text}");
    assert!(text.contains("exiting with code 7"), "stderr tail: {text}");
    assert!(
        text.contains("--exit-before-handshake 7"),
        "command: {text}"
    );
    assert!(text.contains("pid: "), "{text}");
    assert!(text.contains("elapsed: "), "{text}");
}

#[tokio::test]
async fn death_by_signal_is_named() {
    let e = Server::new("sh")
        .args(["-c", "echo about to die >&2; kill -KILL $$"])
        .spawn()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("signal 9 (SIGKILL)"), "{text}");
    assert!(text.contains("| about to die"), "{text}");
}

#[tokio::test]
async fn timeout_says_the_server_was_still_running() {
    let e = fixtures()
        .arg("--no-handshake")
        .ready_timeout(Duration::from_millis(800))
        .spawn()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Timeout { .. }), "{text}");
    assert!(text.contains("not ready within 800ms"), "{text}");
    assert!(text.contains("still running"), "{text}");
    let failure = e.failure().unwrap();
    assert!(failure.status.is_none());
    assert!(
        !crate::support::alive(failure.pid),
        "killed after the timeout"
    );
}

#[tokio::test]
async fn malformed_handshake_is_quoted() {
    let e = fixtures()
        .arg("--malformed-handshake")
        .spawn()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Handshake { .. }), "{e}");
    let debug = format!("{e:?}");
    assert!(debug.contains("malformed handshake"), "{debug}");
    assert!(
        debug.contains("port 0 is not a bound port"),
        "cause: {debug}"
    );
    assert!(
        debug.contains(r#"{\"harness\":1"#),
        "quotes the line: {debug}"
    );
}

#[tokio::test]
async fn environment_defaults_and_overrides() {
    let script =
        r#"echo "port=$PORT unbuffered=$PYTHONUNBUFFERED id=$HARNESS_INSTANCE_ID"; exit 3"#;
    let e = Server::new("sh")
        .args(["-c", script])
        .spawn()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("port=0 unbuffered=1 id="), "{text}");
    let stdout_line = text.lines().find(|l| l.contains("| port=")).unwrap();
    let id = stdout_line.rsplit("id=").next().unwrap();
    assert_eq!(id.len(), 32, "a 128-bit hex nonce: {text}");

    let e = Server::new("sh")
        .args(["-c", script])
        .env("PORT", "8123")
        .env_remove("PYTHONUNBUFFERED")
        .spawn()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("port=8123 unbuffered= id="), "{e}");
}

#[tokio::test]
async fn health_check_failure_shows_the_last_answer() {
    let e = fixtures()
        .health_check("/no-such-page")
        .ready_timeout(Duration::from_secs(2))
        .spawn()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("health check GET http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("404"), "{text}");
}

#[tokio::test]
async fn identity_check_rejects_a_stranger() {
    // The server is told its own id on the command line, so it ignores the harness's nonce: exactly
    // what a different server answering on the same port looks like.
    let e = fixtures()
        .args(["--instance-id", "somebody-else"])
        .identity_check("/whoami")
        .spawn()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("did not return this server's instance id"),
        "{text}"
    );
    assert!(text.contains("somebody-else"), "{text}");
}
