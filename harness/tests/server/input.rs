//! Bad input is refused before anything starts, in one line.

use std::time::Duration;

use harness::{Error, ErrorKind, Ready, Server};

use crate::support::fixtures;

fn one_line(e: &Error) -> String {
    let text = e.to_string();
    assert!(!text.contains('\n'), "input errors are one line: {text}");
    text
}

#[tokio::test]
async fn empty_program() {
    let e = Server::new("").spawn().await.unwrap_err();
    assert!(matches!(e, Error::EmptyProgram));
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(one_line(&e).contains("program is empty"));
}

#[tokio::test]
async fn program_not_on_path_says_where_it_looked() {
    let e = Server::new("no-such-server-xyz")
        .env("PATH", "/nonexistent/a:/nonexistent/b")
        .spawn()
        .await
        .unwrap_err();
    let text = one_line(&e);
    assert!(text.contains("`no-such-server-xyz` not found"), "{text}");
    assert!(
        text.contains("PATH (/nonexistent/a:/nonexistent/b)"),
        "{text}"
    );
}

#[tokio::test]
async fn program_path_that_does_not_exist() {
    let e = Server::new("./target/nope/server")
        .spawn()
        .await
        .unwrap_err();
    let text = one_line(&e);
    assert!(
        text.contains("target/nope/server (no executable file there)"),
        "{text}"
    );
}

#[tokio::test]
async fn current_dir_not_a_directory() {
    let e = fixtures()
        .current_dir("/etc/hostname")
        .spawn()
        .await
        .unwrap_err();
    assert!(one_line(&e).contains("current_dir /etc/hostname is not a directory"));
}

#[tokio::test]
async fn zero_timeout() {
    let e = fixtures()
        .ready_timeout(Duration::ZERO)
        .spawn()
        .await
        .unwrap_err();
    assert!(one_line(&e).contains("ready timeout is zero"));
}

#[tokio::test]
async fn regex_without_url_or_port_group() {
    let e = Ready::line(r"listening on (\d+)").unwrap_err();
    assert!(one_line(&e).contains("has no named group `url` or `port`"));
    let e = Ready::line(r"(?P<port>\d+").unwrap_err();
    assert!(one_line(&e).contains("does not compile"));
}

#[tokio::test]
async fn missing_cargo_binary_says_how_to_build_it() {
    let e = Server::cargo_bin("no-such-bin").unwrap_err();
    let text = one_line(&e);
    assert!(
        text.contains("build it first with `cargo build --bin no-such-bin`"),
        "{text}"
    );
    assert!(text.contains("fixtures-app"), "lists what is there: {text}");
}
