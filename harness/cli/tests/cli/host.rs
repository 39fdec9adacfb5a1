//! `--host ADDR`: servers that remote browsers can reach, only when asked. 127.0.0.2 is a
//! loopback address other than 127.0.0.1 on every Linux machine; 192.0.2.1 (TEST-NET-1) is on none.

use crate::support::{LIMIT, Running, fixtures_app, harness, run, scratch_dir};

/// `harness run --server maker=... --host HOST -- touch ...` must exit 2 with one line naming
/// `expected`, before the server or the tests ran.
fn refused(host: &str, expected: &str) {
    let dir = scratch_dir("host");
    let made = dir.join("server-started");
    let ran = dir.join("tests-ran");
    let maker = format!("maker=sh -c 'touch {}'", made.display());
    let ran_arg = ran.display().to_string();
    let out = run(&[
        "run", "--server", &maker, "--host", host, "--", "touch", &ran_arg,
    ]);
    assert_eq!(out.code(), Some(2), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {out}");
    assert!(
        out.stderr
            .starts_with(&format!("harness: error: --host {host}: ")),
        "{out}"
    );
    assert!(
        out.stderr.contains(expected),
        "expected {expected:?}: {out}"
    );
    assert!(!made.exists() && !ran.exists(), "something started: {out}");
}

#[test]
fn an_address_that_is_not_on_this_machine_is_refused_before_anything_starts() {
    refused(
        "192.0.2.1",
        "192.0.2.1 is not an address of this machine (bind failed: ",
    );
}

#[test]
fn a_wildcard_is_refused_naming_the_fix() {
    for host in ["0.0.0.0", "::"] {
        refused(
            host,
            "never advertise 0.0.0.0: give an address of this machine that the browsers can reach, e.g. the bridge address",
        );
    }
    refused("my-laptop", "not an IP address");
}

#[test]
fn servers_asked_for_a_host_get_urls_on_it() {
    let web = format!("web={}", fixtures_app());
    let mut cmd = harness(&[
        "run",
        "--server",
        &web,
        "--host",
        "127.0.0.2",
        "--",
        "sh",
        "-c",
        "echo WEB_URL=$WEB_URL",
    ]);
    cmd.env_remove("HARNESS_HOST").env_remove("FIXTURES_HOST");
    let out = Running::start(cmd).wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("WEB_URL="))
        .unwrap_or_else(|| panic!("no WEB_URL: {out}"));
    let url = line.trim_start_matches("WEB_URL=");
    assert!(
        url.starts_with("http://127.0.0.2:") && url.ends_with('/'),
        "{out}"
    );
    let port: u16 = url["http://127.0.0.2:".len()..url.len() - 1]
        .parse()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_ne!(port, 0);
}
