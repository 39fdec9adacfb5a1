//! Readiness: the handshake, regex lines, checks, and what the handle reports.

use std::time::{Duration, Instant};

use harness::{Ready, Server, Stream};

use crate::support::{fixtures, get};
use test_support::procs::wait_until;

#[tokio::test]
async fn handshake_gives_a_loopback_url_that_answers() {
    let web = fixtures().spawn().await.unwrap();
    assert_eq!(web.url().host_str(), Some("127.0.0.1"));
    assert_ne!(web.port(), 0);
    assert_eq!(
        web.url().as_str(),
        format!("http://127.0.0.1:{}/", web.port())
    );
    assert_eq!(web.url_for("http"), Some(web.url()));
    assert_eq!(web.url_for("nope"), None);
    assert_eq!(web.name(), "fixtures-app");
    assert_eq!(get(web.url(), "hello"), "Hello World");
    let status = web.stop().await.unwrap();
    assert!(status.success(), "SIGTERM is a clean exit: {status:?}");
}

#[tokio::test]
async fn health_and_identity_checks_pass_on_our_own_server() {
    let web = fixtures()
        .health_check("/health")
        .identity_check("/whoami")
        .spawn()
        .await
        .unwrap();
    let whoami = get(web.url(), "whoami");
    assert!(whoami.contains(web.instance_id()), "{whoami}");
}

#[tokio::test]
async fn delayed_handshake_is_awaited() {
    let started = Instant::now();
    let web = fixtures()
        .args(["--handshake-delay-ms", "300"])
        .spawn()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(get(web.url(), "hello"), "Hello World");
}

#[tokio::test]
async fn handshake_is_found_after_a_megabyte_of_noise_on_both_pipes() {
    let web = fixtures()
        .args([
            "--stdout-bytes-before",
            "1000000",
            "--stderr-bytes-before",
            "1000000",
        ])
        .spawn()
        .await
        .unwrap();
    // Stdout is read in order, so its noise was all consumed before the handshake. Stderr has its
    // own reader: the last pipe-full of its noise may still be in flight when the handshake lands.
    assert!(web.logs().total_bytes(Stream::Stdout) >= 1_000_000);
    let stderr_drained = wait_until(Duration::from_secs(5), || {
        web.logs().total_bytes(Stream::Stderr) >= 1_000_000
    });
    assert!(
        stderr_drained,
        "stderr: {} bytes",
        web.logs().total_bytes(Stream::Stderr)
    );
    assert_eq!(get(web.url(), "hello"), "Hello World");
}

#[tokio::test]
async fn python_http_server_is_detected_by_regex() {
    // python's stdout is block-buffered into a pipe; the harness sets PYTHONUNBUFFERED=1.
    let py = Server::new("python3")
        .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
        .ready(Ready::line(r"port (?P<port>\d+)").unwrap())
        .ready_timeout(Duration::from_secs(10))
        .spawn()
        .await
        .unwrap();
    assert_eq!(py.url().host_str(), Some("127.0.0.1"));
    let listing = get(py.url(), "");
    assert!(listing.contains("Directory listing"), "{listing}");
}

#[tokio::test]
async fn logs_keep_both_streams_and_echo_switch_is_accepted() {
    let web = fixtures().echo_logs(false).spawn().await.unwrap();
    let _ = get(web.url(), "hello");
    let logs = web.logs();
    assert!(
        logs.stdout().any(|l| l.contains("\"harness\":1")),
        "{logs:?}"
    );
    // The request log line goes to stderr, which has its own reader: wait for it, bounded.
    let logged = wait_until(Duration::from_secs(5), || {
        web.logs().stderr().any(|l| l.contains("/hello"))
    });
    assert!(logged, "request log on stderr: {:?}", web.logs());
}

/// A python HTTP server that binds `bind`, then prints `prefix` (Python escapes, such as `\ufeff`)
/// and a handshake announcing `announce` with its real port.
fn python_announcing(bind: &str, announce: &str, prefix: &str) -> Server {
    const SCRIPT: &str = r#"
import http.server, os, sys
bind, announce, prefix = sys.argv[1:4]
srv = http.server.HTTPServer((bind, 0), http.server.SimpleHTTPRequestHandler)
line = '{"harness":1,"pid":%d,"listening":{"http":"http://%s:%d"}}' % (os.getpid(), announce, srv.server_address[1])
sys.stdout.buffer.write(prefix.encode().decode('unicode_escape').encode() + line.encode() + b'\n')
sys.stdout.buffer.flush()
srv.serve_forever()
"#;
    Server::new("python3")
        .args(["-c", SCRIPT, bind, announce, prefix])
        .ready_timeout(Duration::from_secs(20))
}

#[tokio::test]
async fn a_handshake_after_a_byte_order_mark_is_accepted() {
    let py = python_announcing("127.0.0.1", "127.0.0.1", r"\ufeff")
        .spawn()
        .await
        .unwrap();
    // The BOM really reached the harness: the raw line kept in the logs starts with it.
    assert!(
        py.logs().stdout().any(|l| l.starts_with('\u{feff}')),
        "{:?}",
        py.logs()
    );
    assert_eq!(py.url().host_str(), Some("127.0.0.1"));
    assert!(get(py.url(), "").contains("Directory listing"));
}

#[tokio::test]
async fn a_handshake_after_nul_bytes_is_accepted() {
    let py = python_announcing("127.0.0.1", "127.0.0.1", r"\x00\x00\x00")
        .spawn()
        .await
        .unwrap();
    assert!(
        py.logs().stdout().any(|l| l.starts_with("\0\0\0{")),
        "{:?}",
        py.logs()
    );
    assert!(get(py.url(), "").contains("Directory listing"));
}

#[tokio::test]
async fn a_handshake_naming_another_machine_fails_at_once() {
    for host in ["10.1.2.3", "8.8.8.8"] {
        let started = Instant::now();
        let e = python_announcing("127.0.0.1", host, "")
            .spawn()
            .await
            .unwrap_err();
        // Settled on the line, not by the 20 s ready timeout.
        assert!(started.elapsed() < Duration::from_secs(15), "{e}");
        let harness::Error::Handshake { problem, .. } = &e else {
            panic!("not a handshake error: {e}");
        };
        let why = problem.to_string();
        assert!(
            why.contains(&format!(
                "announces {host}, which is not a loopback address"
            )),
            "{why}"
        );
        assert!(why.contains("must bind and announce 127.0.0.1"), "{why}");
    }
}

#[tokio::test]
async fn a_wildcard_bind_is_connected_to_on_loopback() {
    let py = python_announcing("0.0.0.0", "0.0.0.0", "")
        .spawn()
        .await
        .unwrap();
    assert_eq!(
        py.url().as_str(),
        format!("http://127.0.0.1:{}/", py.port())
    );
    assert!(get(py.url(), "").contains("Directory listing"));
}

#[tokio::test]
async fn a_regex_capturing_port_0_hands_out_no_url() {
    // `-port 0` servers print the port they asked for; the harness must not connect to it.
    let started = Instant::now();
    let e = Server::new("sh")
        .args(["-c", "echo 'Started on port 0'; exec sleep 30"])
        .ready(Ready::line(r"port (?P<port>\d+)").unwrap())
        .ready_timeout(Duration::from_millis(1500))
        .spawn()
        .await
        .unwrap_err();
    assert!(matches!(e, harness::Error::Timeout { .. }), "{e}");
    assert!(started.elapsed() >= Duration::from_millis(1500), "{e}");
    assert!(
        e.to_string().contains("Started on port 0"),
        "the line is in the logs: {e}"
    );
}
