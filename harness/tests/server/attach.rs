//! `SharedServer` attaching to a server another process started, from the variables
//! `harness serve` exports. Each case runs an ignored child test of this binary with the
//! variables set, so no test changes its own environment.

use std::process::{Command, Stdio};
use std::time::Duration;

use harness::{Server, SharedServer};

use crate::support::{alive, fixtures, get};

/// The child side: the shared server, with an identity check, as a suite would declare it.
static WEB: SharedServer =
    SharedServer::new(|| Ok(fixtures().name("web").identity_check("/whoami")));

/// Runs the ignored test `test` with `vars`, returning (success, stdout + stderr).
fn child(test: &str, vars: &[(&str, String)]) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([test, "--exact", "--ignored", "--nocapture"])
        .stdin(Stdio::null());
    for key in ["WEB_URL", "WEB_PID", "WEB_INSTANCE_ID", "WEB_LOG"] {
        cmd.env_remove(key);
    }
    cmd.envs(vars.iter().map(|(k, v)| (k, v)));
    // Bounded: the child's own waits are the ready timeout (30 s) at most.
    let out = cmd.output().expect("run the child test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn a_shared_server_attaches_to_the_one_the_environment_names_and_leaves_it_running() {
    let web = fixtures().spawn().await.expect("fixtures-app starts");
    let log = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(log.path(), "started by the owner\nsecond line\n").unwrap();
    let vars = [
        ("WEB_URL", web.url().to_string()),
        ("WEB_PID", web.pid().to_string()),
        ("WEB_INSTANCE_ID", web.instance_id().to_owned()),
        ("WEB_LOG", log.path().display().to_string()),
    ];
    let (ok, out) = child("attach::child_attaches", &vars);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("ATTACHED {} {}", web.url(), web.pid())),
        "{out}"
    );
    assert!(
        out.contains("LOG second line"),
        "the owner's log reached the handle: {out}"
    );
    assert!(
        alive(web.pid()),
        "stopping the attached handle stopped the owner's server"
    );
    assert_eq!(get(web.url(), "hello"), "Hello World");
}

#[tokio::test]
async fn an_attached_server_that_is_not_ours_fails_its_identity_check() {
    let web = fixtures().spawn().await.expect("fixtures-app starts");
    let vars = [
        ("WEB_URL", web.url().to_string()),
        ("WEB_INSTANCE_ID", "not-this-servers-nonce".to_owned()),
    ];
    let (ok, out) = child("attach::child_fails", &vars);
    assert!(ok, "{out}");
    assert!(
        out.contains("identity check GET") && out.contains("not-this-servers-nonce"),
        "{out}"
    );
}

#[test]
fn bad_attach_variables_are_refused_with_what_to_do() {
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("WEB_URL", "http://localhost:1/"), ("WEB_INSTANCE_ID", "x")],
            "the host must be an IP address such as 127.0.0.1",
        ),
        (
            &[("WEB_URL", "http://127.0.0.1:1/"), ("WEB_PID", "many")],
            "$WEB_PID = \"many\": expected a process id",
        ),
        (
            &[("WEB_URL", "http://127.0.0.1:1/")],
            "export WEB_INSTANCE_ID with the server's HARNESS_INSTANCE_ID",
        ),
    ];
    for (vars, expected) in cases {
        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let (ok, out) = child("attach::child_fails", &vars);
        assert!(ok, "{out}");
        assert!(out.contains(expected), "expected {expected:?} in:\n{out}");
    }
}

#[tokio::test]
#[ignore = "a child of the attach tests"]
async fn child_attaches() {
    let web = WEB.get().await.expect("attaches");
    assert!(web.is_attached());
    println!("ATTACHED {} {}", web.url(), web.pid());
    assert_eq!(get(web.url(), "hello"), "Hello World");
    for line in web.logs().stderr() {
        println!("LOG {line}");
    }
    let exit = tokio::time::timeout(Duration::from_secs(1), web.exited()).await;
    assert!(exit.is_err(), "the owner's server is running: {exit:?}");
    let web = Server::cargo_bin("fixtures-app")
        .unwrap()
        .name("web")
        .attach_from_env()
        .await
        .unwrap()
        .expect("WEB_URL is set");
    let exit = web.stop().await.expect("stopping an attached handle");
    assert!(!exit.is_known(), "nobody saw it exit: {exit}");
}

#[tokio::test]
#[ignore = "a child of the attach tests"]
async fn child_fails() {
    let err = WEB.get().await.expect_err("refused");
    println!("REFUSED {err}");
}
