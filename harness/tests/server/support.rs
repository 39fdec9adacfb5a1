//! Helpers shared by the server tests.

use std::path::Path;
use std::time::{Duration, Instant};

use harness::Server;

/// fixtures-app, built by `cargo test --workspace`.
pub(crate) fn fixtures() -> Server {
    Server::cargo_bin("fixtures-app")
        .expect("run `cargo test --workspace` so fixtures-app is built")
}

/// GETs `path` on `base` and returns the body.
pub(crate) async fn get(base: &url::Url, path: &str) -> String {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(base.join(path).unwrap())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Whether a process is alive: it exists and is not a zombie (a zombie is dead, awaiting a reap).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            !matches!(state.and_then(|s| s.chars().next()), Some('Z') | Some('X'))
        }
        Err(_) => false,
    }
}

/// Waits until `cond` holds, checking every 10 ms, at most `limit`. Returns whether it held.
pub(crate) fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The live (non-zombie) processes whose environment contains `marker`, counted from `/proc`.
pub(crate) fn processes_with(marker: &str) -> Vec<u32> {
    let needle = marker.as_bytes();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(Path::new("/proc").join(pid.to_string()).join("environ"))
        else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|kv| kv == needle) && alive(pid) {
            pids.push(pid);
        }
    }
    pids
}
