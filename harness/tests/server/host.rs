//! `Server::host` / `HARNESS_HOST`: a server that remote browsers can reach binds the address
//! asked for, and its URL uses it. 127.0.0.2 is a loopback address other than 127.0.0.1 that every
//! Linux machine has, so it stands in for a bridge address; 192.0.2.1 (TEST-NET-1) is on no
//! machine. Cases with `HARNESS_HOST` run an ignored child test of this binary with the variable
//! set, so no test changes its own environment.

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Error, ErrorKind, Ready, Server};

use crate::support::{fixtures, get};

/// The address the positive cases bind.
const HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

#[tokio::test]
async fn fixtures_app_asked_for_a_host_answers_there_and_its_url_says_so() {
    let web = fixtures()
        .host(HOST)
        .spawn()
        .await
        .expect("fixtures-app starts");
    assert_eq!(web.url().host_str(), Some("127.0.0.2"), "{}", web.url());
    assert_eq!(get(web.url(), "hello"), "Hello World");
}

#[tokio::test]
async fn a_port_from_a_ready_line_makes_a_url_on_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let py = Server::new("python3")
        .args(["-m", "http.server", "0", "--bind", "127.0.0.2"])
        .current_dir(dir.path())
        .ready(Ready::line(r"port (?P<port>\d+)").unwrap())
        .host(HOST)
        .spawn()
        .await
        .expect("python3 -m http.server starts");
    let url = py.url().as_str();
    assert!(url.starts_with("http://127.0.0.2:"), "{url}");
    assert!(get(py.url(), "").contains("Directory listing"));
}

/// Spawns `server` asked to bind [`HOST`], which must fail at once naming HARNESS_HOST.
async fn assert_ignored(server: Server) {
    let started = Instant::now();
    let err = server
        .host(HOST)
        .ready_timeout(Duration::from_secs(30))
        .spawn()
        .await
        .expect_err("a server that binds 127.0.0.1 instead is refused");
    assert!(matches!(err, Error::IgnoredHost { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::NotStarted);
    let text = err.to_string();
    assert!(
        text.contains("announced 127.0.0.1") && text.contains("ignored HARNESS_HOST"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "at once, not at the ready timeout: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_handshake_on_loopback_instead_of_the_host_fails_at_once() {
    // `--host` comes before HARNESS_HOST in fixtures-app: it binds 127.0.0.1 and says so.
    assert_ignored(fixtures().args(["--host", "127.0.0.1"])).await;
}

#[tokio::test]
async fn a_ready_line_url_on_loopback_instead_of_the_host_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let py = Server::new("python3")
        .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(dir.path())
        .ready(Ready::line(r"\((?P<url>http://[^)\s]+)\)").unwrap());
    assert_ignored(py).await;
}

/// Spawns a shell that would create a marker file, asked to bind `host`; returns the error
/// after checking that nothing ran.
async fn refused(host: &str) -> Error {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    let err = Server::new("/bin/sh")
        .args(["-c", &script])
        .host(host.parse().unwrap())
        .spawn()
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::BadInput, "{err}");
    assert!(matches!(err, Error::BadHost { .. }), "{err}");
    assert!(!marker.exists(), "the server was started: {err}");
    assert!(!err.to_string().contains('\n'), "one line: {err}");
    err
}

#[tokio::test]
async fn an_address_that_is_not_on_this_machine_is_refused_before_anything_starts() {
    let err = refused("192.0.2.1").await.to_string();
    assert!(
        err.contains("192.0.2.1 is not an address of this machine (bind failed:"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wildcard_is_never_advertised() {
    for host in ["0.0.0.0", "::"] {
        let err = refused(host).await.to_string();
        assert!(
            err.contains("never advertise 0.0.0.0: give an address of this machine that the browsers can reach"),
            "{err}"
        );
    }
}

/// Runs the ignored test `host::child_spawns` with `HARNESS_HOST=value`: (success, output).
fn child(value: &str) -> (bool, String) {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["host::child_spawns", "--exact", "--ignored", "--nocapture"])
        .stdin(Stdio::null())
        .env("HARNESS_HOST", value)
        .env_remove("FIXTURES_HOST")
        .output()
        .expect("run the child test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn harness_host_in_the_environment_is_the_default_host() {
    let (ok, out) = child("127.0.0.2");
    assert!(ok, "{out}");
    assert!(out.contains("URL http://127.0.0.2:"), "{out}");
}

#[test]
fn a_bad_harness_host_is_refused() {
    let (ok, out) = child("not-an-ip");
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "REFUSED BadInput host not-an-ip: $HARNESS_HOST = \"not-an-ip\" is not an IP address"
        ),
        "{out}"
    );
}

#[tokio::test]
#[ignore = "a child of the host tests"]
async fn child_spawns() {
    match fixtures().spawn().await {
        Ok(web) => {
            println!("URL {}", web.url());
            assert_eq!(get(web.url(), "hello"), "Hello World");
        }
        Err(err) => println!("REFUSED {:?} {err}", err.kind()),
    }
}

#[tokio::test]
async fn a_ready_line_port_of_a_server_on_loopback_instead_of_the_host_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let py = Server::new("python3")
        .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(dir.path())
        .ready(Ready::line(r"port (?P<port>\d+)").unwrap());
    assert_ignored(py).await;
}

#[tokio::test]
async fn a_listening_server_on_the_host_gets_a_url_there() {
    let dir = tempfile::tempdir().unwrap();
    let py = Server::new("python3")
        .args(["-m", "http.server", "0", "--bind", "127.0.0.2"])
        .current_dir(dir.path())
        .ready(Ready::listening())
        .host(HOST)
        .spawn()
        .await
        .expect("python3 -m http.server starts");
    assert_eq!(py.url().host_str(), Some("127.0.0.2"), "{}", py.url());
    assert!(get(py.url(), "").contains("Directory listing"));
}
