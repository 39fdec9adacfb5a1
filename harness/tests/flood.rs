//! A 1 GiB log flood neither blocks the server nor grows the harness's memory past its bound.
//!
//! This is its own test binary so that the process's peak RSS (`VmHWM`) measures this test alone.

use std::time::{Duration, Instant};

use harness::{Server, Stream};

const GIB: u64 = 1024 * 1024 * 1024;
/// The documented bound is about 2 MiB of kept text per server; the rest of this budget is the
/// test process itself (runtime, HTTP client, thread stacks).
const PEAK_RSS_LIMIT_MIB: u64 = 64;

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

#[tokio::test]
async fn a_gigabyte_flood_is_drained_in_bounded_memory_while_the_server_answers() {
    let web = Server::cargo_bin("fixtures-app")
        .expect("run `cargo test --workspace` so fixtures-app is built")
        .args(["--stdout-bytes-after", &GIB.to_string()])
        .spawn()
        .await
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let hello = web.url().join("hello").unwrap();

    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    let mut answered_mid_flood = 0;
    loop {
        let written = web.logs().total_bytes(Stream::Stdout);
        if written >= GIB {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "flood stalled at {written} bytes"
        );
        // The server keeps answering while it floods: its pipe never fills up.
        let text = tokio::time::timeout(Duration::from_secs(5), async {
            client.get(hello.clone()).send().await?.text().await
        })
        .await
        .expect("the server answered within 5 s during the flood")
        .unwrap();
        assert_eq!(text, "Hello World");
        answered_mid_flood += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let logs = web.logs();
    assert!(logs.total_bytes(Stream::Stdout) >= GIB);
    assert!(logs.stdout().count() <= harness::logs::MAX_LINES);
    let peak = peak_rss_mib();
    eprintln!(
        "1 GiB drained in {:.1}s ({:.0} MiB/s), answered {answered_mid_flood} requests meanwhile, peak RSS {peak} MiB",
        elapsed.as_secs_f64(),
        1024.0 / elapsed.as_secs_f64()
    );
    assert!(answered_mid_flood >= 1);
    assert!(peak < PEAK_RSS_LIMIT_MIB, "peak RSS {peak} MiB");
}
