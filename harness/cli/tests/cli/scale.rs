//! Many `harness run`s at once never collide.

use std::collections::BTreeSet;

use crate::support::{GET, LIMIT, Running, fixtures_app, harness};

#[test]
fn twenty_concurrent_runs_get_twenty_distinct_ports() {
    let web = format!("web={}", fixtures_app());
    let runs: Vec<Running> = (0..20)
        .map(|_| {
            Running::start(harness(&[
                "run", "--server", &web, "--", "python3", "-c", GET, "WEB", "hello",
            ]))
        })
        .collect();
    let mut ports = BTreeSet::new();
    for run in runs {
        let out = run.wait(LIMIT * 2);
        assert_eq!(out.code(), Some(0), "{out}");
        assert!(out.stdout.contains("Hello World"), "{out}");
        let port = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("port="))
            .unwrap_or_else(|| panic!("no port printed\n{out}"));
        ports.insert(port.to_owned());
    }
    assert_eq!(ports.len(), 20, "{ports:?}");
}
