//! Leases: each starts clean, stale ids are refused, the pool is bounded, broken or idle sessions are
//! replaced or reclaimed.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn two_leases_get_their_own_windows_and_the_next_lease_starts_clean() {
    let web = harness::Server::new(fixtures_app()).spawn().await.unwrap();
    let pool = endpoint(&unique(), &["--pool", "2"]).await;
    let url = pool.url().clone();
    assert_eq!(url.host_str(), Some("127.0.0.1"), "{url}");
    assert_ne!(url.port(), None, "{url}");

    let (first, second) = tokio::join!(connect(&url), connect(&url));
    assert_ne!(
        first.session_id().await.unwrap(),
        second.session_id().await.unwrap()
    );
    let hello = web.url().join("hello").unwrap();
    let counter = web.url().join("counter").unwrap();
    let (a, b) = tokio::join!(first.goto(hello.as_str()), second.goto(counter.as_str()));
    a.unwrap();
    b.unwrap();
    assert_eq!(first.current_url().await.unwrap(), hello);
    assert_eq!(second.current_url().await.unwrap(), counter);
    assert_ne!(
        first.window().await.unwrap(),
        second.window().await.unwrap(),
        "each lease has its own window"
    );

    // The first lease leaves a cookie and a second tab behind.
    first
        .execute("document.cookie = 'lease=first; path=/'", vec![])
        .await
        .unwrap();
    first.new_window(true).await.unwrap();
    assert_eq!(first.windows().await.unwrap().len(), 2);
    first.close().await.unwrap();

    // Pool 2, one still held: the next lease is the first one's browser, reset.
    let next = connect(&url).await;
    assert_eq!(next.current_url().await.unwrap().as_str(), "about:blank");
    assert_eq!(next.windows().await.unwrap().len(), 1, "one window");
    next.goto(hello.as_str()).await.unwrap();
    let cookies: Vec<String> = next
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(cookies, Vec::<String>::new(), "no cookie");
    let cookie = next
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert_eq!(cookie, json!(""));
    next.close().await.unwrap();
    second.close().await.unwrap();
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_lease_id_gets_invalid_session_id() {
    let pool = endpoint(&unique(), &["--pool", "1"]).await;
    let url = pool.url().clone();
    let client = http();
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let old = session_id(&body);
    // With a trailing `/`, as some clients send it: still a release, not a real DELETE.
    let (status, body) = command(&client, reqwest::Method::DELETE, &url, &old, "/").await;
    assert_eq!((status, body), (200, json!({"value": null})));

    // The same browser, leased again under another id.
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let new = session_id(&body);
    assert_ne!(old, new);
    let (status, body) = command(&client, reqwest::Method::GET, &url, &old, "url").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["value"]["error"], "invalid session id", "{body}");
    let (status, body) = command(&client, reqwest::Method::GET, &url, &new, "url").await;
    assert_eq!(status, 200, "the new lease works: {body}");
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn requested_timeouts_apply_to_the_lease_and_end_with_it() {
    let pool = endpoint(&unique(), &["--pool", "1"]).await;
    let url = pool.url().clone();
    let client = http();
    let timed = json!({"capabilities": {"alwaysMatch": {
        "browserName": browser().name(), "timeouts": {"implicit": 1500, "script": 7000}}}});
    let answer = client
        .post(url.join("session").unwrap())
        .json(&timed)
        .send()
        .await
        .unwrap();
    let body: Value = answer.json().await.unwrap();
    let id = session_id(&body);
    let (_, body) = command(&client, reqwest::Method::GET, &url, &id, "timeouts").await;
    assert_eq!(body["value"]["implicit"], 1500, "{body}");
    assert_eq!(body["value"]["script"], 7000, "{body}");
    command(&client, reqwest::Method::DELETE, &url, &id, "").await;

    // The same browser, leased without timeouts: the W3C defaults.
    let (_, body) = new_session(&client, &url).await;
    let id = session_id(&body);
    let (_, body) = command(&client, reqwest::Method::GET, &url, &id, "timeouts").await;
    assert_eq!(
        body["value"],
        json!({"implicit": 0, "pageLoad": 300_000, "script": 30_000})
    );
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn more_clients_than_sessions_take_turns_and_each_lease_starts_clean() {
    let web = harness::Server::new(fixtures_app()).spawn().await.unwrap();
    let pool = endpoint(&unique(), &["--pool", "2"]).await;
    let url = pool.url().clone();
    let hello = web.url().join("hello").unwrap();
    let worker = |n: usize| {
        let (url, hello) = (url.clone(), hello.clone());
        async move {
            for round in 0..3 {
                let client = connect(&url).await;
                let start = client.current_url().await.unwrap();
                assert_eq!(start.as_str(), "about:blank", "worker {n} round {round}");
                client.goto(hello.as_str()).await.unwrap();
                let seen = client
                    .execute("return document.cookie", vec![])
                    .await
                    .unwrap();
                assert_eq!(seen, json!(""), "worker {n} round {round} sees no cookie");
                let mark = format!("document.cookie = 'worker={n}-{round}; path=/'");
                client.execute(&mark, vec![]).await.unwrap();
                client.close().await.unwrap();
            }
        }
    };
    tokio::join!(worker(0), worker(1), worker(2), worker(3));
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_pool_fails_within_the_lease_timeout_naming_pool() {
    let pool = endpoint(&unique(), &["--pool", "1", "--lease-timeout", "1"]).await;
    let url = pool.url().clone();
    let client = http();
    let (status, body) = new_session(&client, &url).await;
    let logs = pool.logs().tail(harness::Stream::Stderr, 20);
    assert_eq!(status, 200, "{body}\n{logs}");

    let asked = Instant::now();
    let (status, body) = new_session(&client, &url).await;
    let waited = asked.elapsed();
    assert_eq!(status, 500, "after {waited:?}: {body}");
    assert_eq!(body["value"]["error"], "session not created", "{body}");
    let message = body["value"]["message"].as_str().unwrap();
    assert!(
        message.contains("--pool 1") && message.contains("1 leases held"),
        "{message}"
    );
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(5),
        "waited the lease timeout, not more: {waited:?}"
    );
    pool.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unmatched_request_gets_a_fresh_session_deleted_for_real() {
    let marker = format!("wd-oneoff-{}", unique());
    let (_run, url) = start_marked(&marker, &["--pool", "1"]);
    assert_eq!(browser_mains(&marker).len(), 1);
    let client = http();
    // Warm sessions load pages with the `normal` strategy: `eager` needs a session of its own.
    let eager = json!({"capabilities": {"alwaysMatch": {
        "browserName": browser().name(), "pageLoadStrategy": "eager", "webSocketUrl": true}}});
    let answer = client
        .post(url.join("session").unwrap())
        .json(&eager)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    let caps = &body["value"]["capabilities"];
    assert_eq!(caps["pageLoadStrategy"], "eager", "{body}");
    assert!(caps.get("webSocketUrl").is_none(), "no BiDi URL: {body}");
    assert_eq!(browser_mains(&marker).len(), 2, "a browser of its own");
    let id = session_id(&body);
    let (status, body) = command(&client, reqwest::Method::GET, &url, &id, "url").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = command(&client, reqwest::Method::DELETE, &url, &id, "").await;
    assert_eq!(status, 200);
    assert!(
        wait_until(LIMIT, || browser_mains(&marker).len() == 1),
        "the one-off browser is gone: {:?}",
        processes_marked(&marker)
    );

    // Another browser altogether: a W3C error naming both.
    let other = match browser() {
        harness::Browser::Chrome => "firefox",
        harness::Browser::Firefox => "chrome",
    };
    let wrong = json!({"capabilities": {"alwaysMatch": {"browserName": other}}});
    let answer = client
        .post(url.join("session").unwrap())
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 500);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["value"]["error"], "session not created", "{body}");
    let message = body["value"]["message"].as_str().unwrap();
    assert!(
        message.contains(other) && message.contains(browser().name()),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_browser_is_replaced_never_handed_out() {
    let marker = format!("wd-crash-{}", unique());
    let (run, url) = start_marked(&marker, &["--pool", "1"]);
    let mains = browser_mains(&marker);
    assert_eq!(mains.len(), 1, "{:?}", processes_marked(&marker));
    for pid in &mains {
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }
    assert!(wait_until(LIMIT, || !crate::support::alive(mains[0])));

    let client = http();
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let id = session_id(&body);
    let (status, body) = command(&client, reqwest::Method::GET, &url, &id, "url").await;
    assert_eq!(status, 200, "the lease is a live browser: {body}");
    run.err_line(LIMIT, |l| l.contains("failed its probe"));
    let now = browser_mains(&marker);
    assert!(
        now.len() == 1 && now[0] != mains[0],
        "a new browser: {now:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_lease_is_reclaimed_and_its_id_invalidated() {
    let pool = endpoint(&unique(), &["--pool", "1", "--idle-timeout", "0.5"]).await;
    let url = pool.url().clone();
    let client = http();
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    let abandoned = session_id(&body);
    // Nothing more from that client: the lease's session comes back, so a new lease gets it.
    let (status, body) = new_session(&client, &url).await;
    assert_eq!(status, 200, "the reclaimed session is leased again: {body}");
    let (status, body) = command(&client, reqwest::Method::GET, &url, &abandoned, "url").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["value"]["error"], "invalid session id", "{body}");
    pool.stop().await.unwrap();
}
