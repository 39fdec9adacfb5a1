//! A `WEBDRIVER_URL` on another host with servers on loopback: one warning naming the fix, since
//! that endpoint's browsers would open their own machine's loopback. No browser is asked for, so
//! nothing is contacted: 192.0.2.1 (TEST-NET-1) only has to be another host's address.

use crate::support::{LIMIT, Output, Running, fixtures_app, harness};

/// The part of the warning that does not depend on the server's name and port.
const REMOTE: &str = ", which the browsers of the WebDriver endpoint at http://192.0.2.1:4444/wd/hub \
                      (another host) cannot reach; bind an address they can reach with \
                      HARNESS_HOST=ADDR (Server::host, harness run --host)";

/// `harness run --server a=fixtures-app --server b=fixtures-app [extra] -- sh -c 'echo ...'` with
/// `WEBDRIVER_URL=webdriver` and no host from the outer environment.
fn run_two(webdriver: &str, extra: &[&str]) -> Output {
    let (a, b) = (
        format!("a={}", fixtures_app()),
        format!("b={}", fixtures_app()),
    );
    let mut args = vec!["run", "--server", &a, "--server", &b];
    args.extend_from_slice(extra);
    args.extend(["--", "sh", "-c", "echo A_URL=$A_URL B_URL=$B_URL"]);
    let mut cmd = harness(&args);
    cmd.env("WEBDRIVER_URL", webdriver)
        .env_remove("HARNESS_HOST")
        .env_remove("HARNESS_WEBDRIVER_POOL");
    Running::start(cmd).wait(LIMIT)
}

fn warnings(out: &Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| l.contains("WebDriver endpoint"))
        .collect()
}

#[test]
fn a_remote_endpoint_and_loopback_servers_warn_once_without_the_password() {
    let out = run_two("http://grid:s3cret@192.0.2.1:4444/wd/hub", &[]);
    assert_eq!(out.code(), Some(0), "{out}");
    let warned = warnings(&out);
    assert_eq!(warned.len(), 1, "exactly one warning: {out}");
    let line = warned[0];
    let server = ["a", "b"]
        .into_iter()
        .find(|name| line.starts_with(&format!("harness: warning: server `{name}` is at ")))
        .unwrap_or_else(|| panic!("names server a or b: {out}"));
    let url = line
        .split(" is at ")
        .nth(1)
        .and_then(|rest| rest.split(", which").next())
        .unwrap_or_else(|| panic!("names the server's URL: {out}"));
    let exported = format!("{}_URL={url}", server.to_uppercase());
    assert!(out.stdout.contains(&exported), "{exported:?}: {out}");
    assert!(url.starts_with("http://127.0.0.1:"), "{out}");
    assert!(line.ends_with(REMOTE), "{out}");
    assert!(!out.stderr.contains("s3cret"), "no password: {out}");
}

#[test]
fn a_loopback_endpoint_is_no_reason_to_warn() {
    for webdriver in ["http://127.0.0.1:4444/wd/hub", "http://localhost:4444"] {
        let out = run_two(webdriver, &[]);
        assert_eq!(out.code(), Some(0), "{out}");
        assert!(
            warnings(&out).is_empty(),
            "no warning for {webdriver}: {out}"
        );
        assert!(out.stdout.contains("A_URL=http://127.0.0.1:"), "{out}");
    }
}

#[test]
fn servers_bound_to_a_reachable_address_are_no_reason_to_warn() {
    let Some(ip) = test_network_address() else {
        // No address of this machine that is not loopback and that traffic may go to.
        eprintln!("skipped: this machine has no address in 198.18.0.0/15 to bind");
        return;
    };
    let out = run_two("http://192.0.2.1:4444/wd/hub", &["--host", &ip]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        warnings(&out).is_empty(),
        "no warning with --host {ip}: {out}"
    );
    assert!(out.stdout.contains(&format!("A_URL=http://{ip}:")), "{out}");
}

/// An address of this machine in its test networks (198.18.0.0/15), from the kernel's table of
/// local addresses, if it has one.
fn test_network_address() -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/fib_trie").ok()?;
    let lines: Vec<&str> = table.lines().collect();
    lines.windows(2).find_map(|pair| {
        let ip: std::net::Ipv4Addr = pair[0].trim().strip_prefix("|-- ")?.parse().ok()?;
        let [a, b, ..] = ip.octets();
        let local = pair[1].trim() == "/32 host LOCAL";
        (local && a == 198 && (b == 18 || b == 19)).then(|| ip.to_string())
    })
}
