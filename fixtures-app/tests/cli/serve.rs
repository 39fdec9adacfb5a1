//! A well-behaved run: the handshake, a page and the instance id.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::support::{Fixture, PATIENCE, get_json, http_get};

#[test]
fn prints_a_valid_handshake_on_loopback_within_a_second() {
    let mut app = Fixture::spawn(&[]);
    let handshake = app.handshake(Duration::from_secs(1));
    let listener = handshake.primary();
    assert_eq!(listener.addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST), "{app}");
    assert_ne!(listener.addr.port(), 0);
    assert_eq!(handshake.listening.len(), 1);
    assert_eq!(app.stdout().len(), 1, "only the handshake on stdout\n{app}");
}

#[test]
fn serves_hello() {
    let mut app = Fixture::spawn(&[]);
    let addr = app.handshake(PATIENCE).primary().addr;
    assert_eq!(http_get(addr, "/hello"), (200, "Hello World".to_owned()));
    assert_eq!(get_json(addr, "/health")["status"], "ok");
}

#[test]
fn instance_id_from_the_flag() {
    let mut app = Fixture::spawn(&["--instance-id", "abc"]);
    let addr = app.handshake(PATIENCE).primary().addr;
    let whoami = get_json(addr, "/whoami");
    assert_eq!(whoami["instance_id"], "abc");
    assert_eq!(whoami["pid"], app.pid());
}

#[test]
fn instance_id_from_the_environment() {
    let mut command = Fixture::command();
    command.env("HARNESS_INSTANCE_ID", "from-env");
    let mut app = Fixture::spawn_command(command);
    let addr = app.handshake(PATIENCE).primary().addr;
    assert_eq!(get_json(addr, "/whoami")["instance_id"], "from-env");
}

#[test]
fn instance_ids_differ_by_default() {
    let mut first = Fixture::spawn(&[]);
    let mut second = Fixture::spawn(&[]);
    let a = get_json(first.handshake(PATIENCE).primary().addr, "/whoami");
    let b = get_json(second.handshake(PATIENCE).primary().addr, "/whoami");
    assert_ne!(a["instance_id"], b["instance_id"]);
    assert!(a.get("grandchild_pid").is_none());
}
