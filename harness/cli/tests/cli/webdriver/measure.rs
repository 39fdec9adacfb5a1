//! Not a test: lease latency and forwarding overhead, printed.

use super::*;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Not a test: prints the median `POST /session` → lease latency (each lease then loads a
/// fixtures-app page and is deleted, as a test would; then again with the last reset done), and the median time of one forwarded
/// command (`GET /session/{id}/url`) through the endpoint against the same command sent to a
/// driver directly. `cargo test -p harness-e2e-cli --test cli webdriver::measure -- --ignored
/// --nocapture` (a release build for real numbers: add `--release`).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a test"]
async fn measure_lease_latency_and_forwarding_overhead() {
    const LEASES: usize = 20;
    const COMMANDS: usize = 200;
    let web = harness::Server::new(fixtures_app()).spawn().await.unwrap();
    let pool = endpoint(&unique(), &["--pool", "2"]).await;
    let url = pool.url().clone();
    let client = http();
    let hello = web.url().join("hello").unwrap();
    let mut leases = Vec::new();
    for _ in 0..LEASES {
        let asked = Instant::now();
        let (status, body) = new_session(&client, &url).await;
        leases.push(asked.elapsed());
        assert_eq!(status, 200, "{body}");
        let id = session_id(&body);
        let goto = url.join(&format!("session/{id}/url")).unwrap();
        let sent = client.post(goto).json(&json!({"url": hello.as_str()}));
        assert!(sent.send().await.unwrap().status().is_success());
        command(&client, reqwest::Method::DELETE, &url, &id, "").await;
    }

    // The same with the released session's background reset given time to finish first (a
    // pause, not a wait on an event: this is a measurement, it asserts nothing).
    let mut ready_leases = Vec::new();
    for _ in 0..LEASES {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = Instant::now();
        let (status, body) = new_session(&client, &url).await;
        ready_leases.push(asked.elapsed());
        assert_eq!(status, 200, "{body}");
        command(
            &client,
            reqwest::Method::DELETE,
            &url,
            &session_id(&body),
            "",
        )
        .await;
    }

    let (_, body) = new_session(&client, &url).await;
    let proxied = url
        .join(&format!("session/{}/url", session_id(&body)))
        .unwrap();
    let driver = harness::Driver::start(browser()).await.unwrap();
    let session = driver.session().await.unwrap();
    let direct_id = session.session_id().await.unwrap().unwrap();
    let direct = driver
        .url()
        .join(&format!("session/{direct_id}/url"))
        .unwrap();
    let (mut via_pool, mut via_driver) = (Vec::new(), Vec::new());
    for _ in 0..COMMANDS {
        for (target, samples) in [(&proxied, &mut via_pool), (&direct, &mut via_driver)] {
            let sent = Instant::now();
            let answer = client.get(target.clone()).send().await.unwrap();
            answer.bytes().await.unwrap();
            samples.push(sent.elapsed());
        }
    }
    let (pooled, bare) = (median(via_pool), median(via_driver));
    println!(
        "{} lease (POST /session until the answer), median of {LEASES}: {:?}",
        browser(),
        median(leases)
    );
    println!(
        "{} lease with a reset session idle, median of {LEASES}: {:?}",
        browser(),
        median(ready_leases)
    );
    println!(
        "GET /session/{{id}}/url, median of {COMMANDS}: {pooled:?} through the endpoint, {bare:?} \
         to the driver directly: overhead {:?}",
        pooled.saturating_sub(bare)
    );
    session.close().await.unwrap();
    pool.stop().await.unwrap();
}
