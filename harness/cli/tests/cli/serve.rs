//! `harness serve`: one JSON line, then serving until a signal.

use std::time::Duration;

use crate::support::{LIMIT, Running, alive, fixtures_app, harness};

#[test]
fn serve_prints_one_json_line_and_stops_cleanly_on_sigterm() {
    let web = format!("web={}", fixtures_app());
    let api = format!("api-v2={} --spawn-grandchild", fixtures_app());
    let serve = Running::start(harness(&["serve", "--server", &web, "--server", &api]));
    let line = serve.line(LIMIT, |l| l.starts_with('{'));
    let json: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
    assert!(json["webdriver_url"].is_null(), "{line}");
    let servers = json["servers"].as_object().expect("servers object");
    assert_eq!(servers.len(), 2, "{line}");
    let mut pids = Vec::new();
    for name in ["web", "api-v2"] {
        let server = &servers[name];
        let url = server["url"].as_str().expect("url");
        let port = server["port"].as_u64().expect("port");
        assert_eq!(url, format!("http://127.0.0.1:{port}/"), "{line}");
        assert_eq!(
            test_support::http::get_ok(&format!("{url}hello")),
            "Hello World",
            "{name}"
        );
        let pid = server["pid"].as_u64().expect("pid") as u32;
        assert!(alive(pid), "{name} is running");
        pids.push(pid);
    }

    serve.signal("TERM");
    let out = serve.wait(Duration::from_secs(30));
    assert_eq!(out.code(), Some(0), "{out}");
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    for pid in pids {
        assert!(
            !alive(pid),
            "server {pid} is stopped before harness exits\n{out}"
        );
    }
    assert!(
        out.stderr.contains("[web] "),
        "logs stream to stderr: {out}"
    );
    assert!(
        out.stderr.contains("SIGTERM received"),
        "stopped gracefully: {out}"
    );
}
