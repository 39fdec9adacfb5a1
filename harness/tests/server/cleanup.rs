//! Stopping, and never leaking a process.

use std::process::Command;
use std::time::Duration;

use crate::support::{alive, fixtures, get, processes_with, wait_until};
use test_support::procs::{OWNER_READY, exited, spawn_owner};

fn grandchild_pid(whoami: &str) -> u32 {
    let v: serde_json::Value = serde_json::from_str(whoami).unwrap();
    v["grandchild_pid"]
        .as_u64()
        .expect("grandchild_pid in /whoami") as u32
}

#[tokio::test]
async fn drop_kills_the_whole_group_grandchild_included() {
    let web = fixtures().arg("--spawn-grandchild").spawn().await.unwrap();
    let grandchild = grandchild_pid(&get(web.url(), "whoami"));
    let server = web.pid();
    assert!(alive(grandchild) && alive(server));
    drop(web);
    assert!(!alive(server), "Drop reaps the server before returning");
    assert!(
        wait_until(Duration::from_secs(2), || !alive(grandchild)),
        "grandchild {grandchild} survived Drop"
    );
}

#[tokio::test]
async fn stop_kills_a_grandchild_too() {
    let web = fixtures().arg("--spawn-grandchild").spawn().await.unwrap();
    let grandchild = grandchild_pid(&get(web.url(), "whoami"));
    assert!(web.stop().await.unwrap().success());
    assert!(wait_until(Duration::from_secs(2), || !alive(grandchild)));
}

#[tokio::test]
async fn stop_escalates_to_sigkill_after_the_grace_period() {
    let web = fixtures()
        .arg("--ignore-sigterm")
        .grace(Duration::from_millis(300))
        .spawn()
        .await
        .unwrap();
    let status = web.stop().await.unwrap();
    assert_eq!(status.signal(), Some(9), "{status:?}");
}

#[tokio::test]
async fn try_status_sees_an_exit_as_soon_as_the_os_does() {
    let web = fixtures().spawn().await.unwrap();
    let killed = Command::new("kill")
        .args(["-KILL", &web.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Once the OS shows the server as dead, `try_status` must say so too, whatever the harness's
    // own wait thread has got to: `harness run` relies on it to report a server that died just
    // before the tests finished.
    assert!(wait_until(Duration::from_secs(5), || exited(web.pid())));
    let status = web.try_status().expect("the server is dead");
    assert_eq!(status.signal(), Some(9), "{status:?}");
}

#[tokio::test]
async fn a_server_that_dies_is_reported() {
    let web = fixtures().arg("--exit-on-stdin-eof").spawn().await.unwrap();
    // stdin is /dev/null, so the server sees EOF at once and exits 0 after its handshake.
    let status = tokio::time::timeout(Duration::from_secs(5), web.exited())
        .await
        .unwrap();
    assert!(status.success());
    assert_eq!(web.try_status(), Some(status));
}

#[tokio::test]
async fn keep_leaves_the_server_running() {
    let web = fixtures().keep(true).spawn().await.unwrap();
    let pid = web.pid();
    drop(web);
    assert!(alive(pid), "kept");
    // Clean up by hand, as the printed hint says.
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(wait_until(Duration::from_secs(2), || !alive(pid)));
}

/// The marker variable the owner test passes to everything it starts.
const MARKER_KEY: &str = "HARNESS_TEST_OWNER_MARKER";

#[tokio::test]
async fn sigkilled_owner_leaves_no_descendant() {
    let marker = format!("{MARKER_KEY}={}", std::process::id());
    let (mut owner, _) = spawn_owner(
        "cleanup::owner_process",
        &[(MARKER_KEY, &std::process::id().to_string())],
        Duration::from_secs(60),
    );
    let before = processes_with(&marker);
    // The owner, 3 servers and their 3 grandchildren, and the watchdog, at least.
    assert!(before.len() >= 7, "{before:?}");

    owner.kill().unwrap(); // SIGKILL: no Drop runs in the owner.
    owner.wait().unwrap();
    let gone = wait_until(Duration::from_secs(2), || {
        processes_with(&marker).is_empty()
    });
    assert!(
        gone,
        "still alive 2 s after SIGKILL: {:?}",
        processes_with(&marker)
    );
}

/// Run only by `sigkilled_owner_leaves_no_descendant`, in a child process it then SIGKILLs.
#[tokio::test]
#[ignore = "helper process for sigkilled_owner_leaves_no_descendant"]
async fn owner_process() {
    if std::env::var_os(MARKER_KEY).is_none() {
        return;
    }
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(fixtures().arg("--spawn-grandchild").spawn().await.unwrap());
    }
    println!(
        "{OWNER_READY} {:?}",
        servers.iter().map(|s| s.pid()).collect::<Vec<_>>()
    );
    std::future::pending::<()>().await;
}

const KEEP_MARKER_KEY: &str = "HARNESS_TEST_KEEP_OWNER";

#[test]
fn a_kept_server_keeps_working_after_its_owner_exits() {
    let marker = std::process::id().to_string();
    let (mut owner, ready) = spawn_owner(
        "cleanup::keep_owner",
        &[(KEEP_MARKER_KEY, &marker)],
        Duration::from_secs(60),
    );
    // `OWNER READY <port> <pgid>`
    let fields: Vec<&str> = ready.split_whitespace().collect();
    let (port, pgid) = (fields[2], fields[3]);
    let status = owner.wait().unwrap();
    assert!(status.success(), "the owner exited normally: {status:?}");

    // http.server logs every request to stderr: through a pipe whose reader is gone, that write
    // would fail. Its output goes to files, so it answers, more than once.
    let url = format!("http://127.0.0.1:{port}/");
    let answered = (0..3).all(|_| {
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap()))
            .and_then(|mut stream| {
                use std::io::{Read, Write};
                stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
                let mut answer = String::new();
                stream.read_to_string(&mut answer)?;
                Ok(answer.starts_with("HTTP/1.0 200"))
            })
            .unwrap_or(false)
    });
    let killed = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status();
    assert!(
        answered,
        "the kept server at {url} stopped answering once its owner exited"
    );
    assert!(killed.unwrap().success());
}

/// Run only by `a_kept_server_keeps_working_after_its_owner_exits`: keeps a server, then exits.
#[tokio::test]
#[ignore = "helper process for a_kept_server_keeps_working_after_its_owner_exits"]
async fn keep_owner() {
    if std::env::var_os(KEEP_MARKER_KEY).is_none() {
        return;
    }
    let py = harness::Server::new("python3")
        .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
        .ready(harness::Ready::line(r"port (?P<port>\d+)").unwrap())
        .keep(true)
        .spawn()
        .await
        .unwrap();
    println!("{OWNER_READY} {} {}", py.port(), py.pid());
    drop(py); // kept: prints how to stop it, and stops nothing
}
