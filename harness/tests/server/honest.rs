//! A red run is red: exits nobody saw, waits past their deadline, cleanup after a failed step, and
//! leaks are never reported as success.

use std::time::{Duration, Instant};

use harness::{Error, Exit, Ready, Server};

use crate::support::{alive, fixtures, processes_with, wait_until};

/// A server that binds, announces itself, and then never answers a request (the connection is
/// accepted by the kernel's backlog, nothing reads it).
fn mute_server() -> Server {
    Server::new("python3").args([
        "-c",
        "import json, os, socket, time\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(64)\n\
         port = s.getsockname()[1]\n\
         print(json.dumps({'harness': 1, 'pid': os.getpid(), 'listening': {'http': f'http://127.0.0.1:{port}'}}), flush=True)\n\
         time.sleep(600)\n",
    ])
}

#[tokio::test]
async fn a_mute_server_fails_the_health_check_at_the_ready_timeout() {
    let timeout = Duration::from_secs(2);
    let started = Instant::now();
    let err = mute_server()
        .health_check("/health")
        .ready_timeout(timeout)
        .spawn()
        .await
        .expect_err("a server that never answers is not healthy");
    let took = started.elapsed();
    assert!(matches!(err, Error::Health { .. }), "{err:?}");
    assert!(
        took >= timeout && took <= timeout + timeout / 10,
        "failed after {took:?}, not at the ready timeout of {timeout:?}: {err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("health check request hung"), "{text}");
    assert!(text.contains("still running"), "{text}");
    let pid = err.failure().unwrap().pid;
    assert!(wait_until(Duration::from_secs(2), || !alive(pid)));
}

#[tokio::test]
async fn a_mute_server_fails_the_identity_check_at_the_ready_timeout() {
    let timeout = Duration::from_secs(2);
    let started = Instant::now();
    let err = mute_server()
        .identity_check("/whoami")
        .ready_timeout(timeout)
        .spawn()
        .await
        .expect_err("a server that never answers has no identity");
    let took = started.elapsed();
    assert!(matches!(err, Error::Identity { .. }), "{err:?}");
    assert!(
        took >= timeout && took <= timeout + timeout / 10,
        "failed after {took:?}, not at the ready timeout of {timeout:?}: {err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("identity check request hung"), "{text}");
    assert!(!text.contains("another process answers"), "{text}");
}

#[tokio::test]
async fn an_identity_check_where_nothing_listens_says_so() {
    // A handshake naming a port nobody listens on (the discard port, closed on loopback).
    let err = Server::new("sh")
        .args([
            "-c",
            r#"echo '{"harness":1,"pid":'$$',"listening":{"http":"http://127.0.0.1:9"}}'; exec sleep 60"#,
        ])
        .identity_check("/whoami")
        .ready_timeout(Duration::from_secs(5))
        .spawn()
        .await
        .expect_err("nothing answers on port 9");
    let text = err.to_string();
    assert!(text.contains("nothing answered"), "{text}");
    assert!(!text.contains("another process answers"), "{text}");
}

#[tokio::test]
async fn an_early_exit_is_reported_at_once_even_while_a_grandchild_holds_the_pipes() {
    let started = Instant::now();
    let err = Server::new("sh")
        .args(["-c", r#"sleep 60 & echo "grandchild $!"; exit 3"#])
        .ready_timeout(Duration::from_secs(10))
        .spawn()
        .await
        .expect_err("the server exited before it was ready");
    let took = started.elapsed();
    let Error::Exited(failure) = &err else {
        panic!("expected an early exit, got {err:?}");
    };
    assert_eq!(failure.status, Some(Exit::Code(3)), "{err:?}");
    // Before the fix, the harness waited 2 s for the grandchild to let go of the pipes. The
    // bound covers the spawn and the shell too, so the report itself takes less.
    println!("early exit reported after {took:?}, spawn included");
    assert!(
        took < Duration::from_millis(100),
        "the exit took {took:?} to be reported"
    );
    let grandchild: u32 = failure
        .logs
        .stdout()
        .find_map(|l| l.strip_prefix("grandchild ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("the grandchild's pid is in the output: {err:?}"));
    assert!(
        wait_until(Duration::from_secs(2), || !alive(grandchild)),
        "grandchild {grandchild} outlived the failed spawn"
    );
}

#[tokio::test]
async fn a_failure_right_after_the_spawn_leaves_no_process() {
    let mark = format!("HARNESS_TEST_AFTER_SPAWN={}", std::process::id());
    let (key, value) = mark.split_once('=').unwrap();
    // The hook fails once the server printed a line: by then the grandchild exists.
    let err = Server::new("sh")
        .args(["-c", r#"sleep 30 & echo "grandchild $!"; exec sleep 30"#])
        .env(key, value)
        .fail_after_spawn()
        .spawn()
        .await
        .expect_err("the spawn was told to fail");
    assert!(matches!(err, Error::Spawn { .. }), "{err:?}");
    assert!(
        wait_until(Duration::from_secs(2), || processes_with(&mark).is_empty()),
        "left running after a failed spawn: {:?}",
        processes_with(&mark)
    );
}

/// Runs the ignored test `test` of this binary in a child process, started by a launcher that
/// ignores SIGCHLD when `ignore_sigchld` (python3: dash's `trap '' CHLD` does not), and returns
/// its output once it exited (at most `limit`).
fn run_child_test(test: &str, ignore_sigchld: bool, limit: Duration) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary");
    let launcher = "import os, signal, sys\n\
                    signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n\
                    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n\
                    if sys.argv[1] == 'ignore': signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n\
                    os.execv(sys.argv[2], sys.argv[2:])\n";
    let child = std::process::Command::new("python3")
        .args(["-c", launcher])
        .arg(if ignore_sigchld { "ignore" } else { "default" })
        .arg(exe)
        .args([test, "--exact", "--ignored", "--nocapture"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the child test");
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.expect("the child test's output"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the child test `{test}` did not finish within {limit:?}");
        }
    }
}

#[test]
fn an_exit_nobody_saw_is_unknown_not_success() {
    // With SIGCHLD ignored (some CI agents and launchers do it), the kernel reaps children itself
    // and every wait fails: the exit cannot be observed.
    let output = run_child_test(
        "honest::child_stops_a_server_with_sigchld_ignored",
        true,
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child test failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("STOPPED: exit unknown"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("harness: warning: SIGCHLD is ignored"),
        "{stderr}"
    );
}

#[tokio::test]
#[ignore = "run by an_exit_nobody_saw_is_unknown_not_success, with SIGCHLD ignored"]
async fn child_stops_a_server_with_sigchld_ignored() {
    let web = fixtures().spawn().await.unwrap();
    let exit = web.stop().await.unwrap();
    assert!(!exit.success(), "{exit}");
    assert!(!exit.is_known(), "{exit}");
    println!("STOPPED: {exit}");
}

#[test]
fn a_process_that_escaped_the_group_is_reported_as_a_leak() {
    let output = run_child_test(
        "honest::child_stops_a_server_whose_child_escaped",
        false,
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let escapee: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ESCAPEE ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no escapee pid in: {stdout}\n{stderr}"));
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &escapee.to_string()])
        .status();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let leak = stderr
        .lines()
        .find(|l| l.starts_with("harness: LEAK: server `escaper`"))
        .unwrap_or_else(|| panic!("no leak warning in: {stderr}"));
    assert!(
        leak.contains(&format!("pid {escapee} (sleep 30)")),
        "{leak}"
    );
}

#[tokio::test]
#[ignore = "run by a_process_that_escaped_the_group_is_reported_as_a_leak"]
async fn child_stops_a_server_whose_child_escaped() {
    // `setsid` moves the sleep out of the server's process group; it keeps the output pipes.
    let web = Server::new("sh")
        .name("escaper")
        .args([
            "-c",
            r#"setsid sleep 30 & n=0; until [ "$(cut -d' ' -f5 /proc/$!/stat)" != $$ ] || [ $n -ge 500 ]; do n=$((n+1)); sleep 0.01; done; echo "escapee $!"; echo '{"harness":1,"pid":'$$',"listening":{"http":"http://127.0.0.1:9"}}'; exec sleep 60"#,
        ])
        .ready(Ready::handshake())
        .spawn()
        .await
        .unwrap();
    let escapee = web
        .logs()
        .stdout()
        .find_map(|l| l.strip_prefix("escapee ")?.trim().parse::<u32>().ok())
        .expect("the escapee's pid is printed before the handshake");
    println!("ESCAPEE {escapee}");
    let exit = web.stop().await.unwrap();
    assert_eq!(exit.signal(), Some(15), "{exit}");
}

/// `python3 -m http.server` prints `Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/)`.
fn http_server() -> Server {
    Server::new("python3").args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
}

#[tokio::test]
async fn a_loose_regex_port_is_confirmed_before_the_url_is_handed_out() {
    // `(?P<port>\d+)` matches the `127` of `127.0.0.1`, where nothing of the server listens.
    let err = http_server()
        .ready(Ready::line(r"(?P<port>\d+)").unwrap())
        .ready_timeout(Duration::from_secs(2))
        .spawn()
        .await
        .expect_err("port 127 is not where the server listens");
    assert!(
        matches!(err, Error::NotListening { port: 127, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("Serving HTTP on 127.0.0.1"), "{text}");
    assert!(
        text.contains("nothing in the server's process group listens"),
        "{text}"
    );
}

#[tokio::test]
async fn a_precise_regex_port_is_confirmed_and_handed_out() {
    let web = http_server()
        .ready(Ready::line(r"port (?P<port>\d+)").unwrap())
        .spawn()
        .await
        .unwrap();
    assert_ne!(web.port(), 127);
    assert!(web.stop().await.is_ok());
}

#[tokio::test]
async fn a_timeout_after_a_url_without_a_handshake_suggests_a_ready_line() {
    let err = http_server()
        .ready_timeout(Duration::from_secs(1))
        .spawn()
        .await
        .expect_err("http.server prints no handshake");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("but no harness handshake"), "{text}");
    assert!(text.contains("Ready::line"), "{text}");
    assert!(text.contains("--ready"), "{text}");
}

#[test]
fn a_timeout_too_long_to_be_a_deadline_is_bad_input() {
    for server in [
        fixtures().ready_timeout(Duration::MAX),
        fixtures().grace(Duration::from_secs(u64::MAX)),
    ] {
        let err = server
            .validate()
            .expect_err("a deadline past the end of time");
        assert!(matches!(err, Error::TimeoutTooLong { .. }), "{err:?}");
        assert!(err.to_string().contains("at most a year"), "{err}");
    }
}

#[tokio::test]
async fn a_bad_handshake_says_what_is_wrong_in_its_message() {
    let err = Server::new("sh")
        .args([
            "-c",
            r#"echo "{\"harness\":1,\"pid\":$$,\"listening\":{\"http\":\"http://localhost:8080\"}}"; exec sleep 60"#,
        ])
        .spawn()
        .await
        .expect_err("a localhost handshake is refused");
    assert!(matches!(err, Error::Handshake { .. }), "{err:?}");
    // `to_string()` alone, as a CLI or a test log shows it, names the cause.
    let text = err.to_string();
    assert!(text.contains("localhost"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
}
