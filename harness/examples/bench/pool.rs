//! Rows g–i: the pooling WebDriver endpoint (`harness webdriver`).
//!
//! - g. the e2e suite under nextest, one warm stack per run (the setup script in
//!   `.config/nextest.toml`) against a driver and server per test process
//!   (`HARNESS_NEXTEST_STACK=0`), runs alternating;
//! - h. a lease (`POST /session` to a clean page) against a fresh session on the driver, with the
//!   full reset (`--isolation reset`) and with a new browser context per lease
//!   (`--isolation context`); each lease first dirties two origins (cookies, storage, IndexedDB,
//!   Cache Storage, a service worker), so the reset has the work a real test leaves. Pool of 1:
//!   the next lease waits for that reset; pool of 2: it gets the other, already clean, session;
//! - i. the endpoint's forwarding overhead per command: `GET /session/{id}/url` through the
//!   endpoint against the same command sent to a driver directly, interleaved.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use harness::{Browser, Driver, Server, ServerHandle};
use serde_json::{Value, json};

use super::report::{Line, Report};
use super::stats::{Samples, fmt_ms};

/// Leases measured per configuration.
const LEASES: usize = 20;
/// Commands measured per side for row i.
const COMMANDS: usize = 500;
/// Playwright 1.65's `newContext` + `newPage` + `goto` + `close` on this kind of machine (issue
/// 12's measurement, cited, not rerun: Playwright is not part of this workspace).
const PLAYWRIGHT_CONTEXT_MS: f64 = 290.0;
/// Row g's target: the shared stack at least this many times faster.
const SUITE_TARGET: f64 = 3.0;
/// Row h's targets: a median lease of at most this, and at most this share of Playwright's.
const LEASE_TARGET_MS: f64 = 100.0;
const LEASE_VS_PLAYWRIGHT: f64 = 0.35;
/// Row i's target, in milliseconds.
const FORWARD_TARGET_MS: f64 = 0.3;

/// Rows h and i, for Chrome and (when installed) Firefox.
pub(crate) async fn run(server: &Server, report: &mut Report) -> anyhow::Result<()> {
    let harness_bin = super::setup::cargo_bin("harness-e2e-cli", "harness")?;
    let a = server.spawn().await?;
    let b = server.spawn().await?;
    for browser in [Browser::Chrome, Browser::Firefox] {
        if let Err(e) =
            harness::__cli::find_driver(browser).and_then(|_| harness::__cli::find_binary(browser))
        {
            report.line(Line {
                row: format!("h. {browser} lease"),
                measured: "pooling endpoint".into(),
                result: format!("not measured: {e}"),
                target: "—".into(),
                met: None,
            });
            continue;
        }
        leases(&harness_bin, browser, (&a, &b), report).await?;
        if browser == Browser::Chrome {
            forwarding(&harness_bin, report).await?;
        }
    }
    a.stop().await?;
    b.stop().await?;
    Ok(())
}

/// `harness webdriver` with `args`, ready.
async fn endpoint(harness_bin: &Path, args: &[&str]) -> anyhow::Result<ServerHandle> {
    Ok(Server::new(harness_bin)
        .arg("webdriver")
        .args(args)
        .ready_timeout(Duration::from_secs(120))
        .spawn()
        .await?)
}

/// A plain HTTP client for WebDriver, to loopback only.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a plain HTTP client builds")
}

/// `POST /session` asking only for the browser; returns the session id.
async fn new_session(http: &reqwest::Client, base: &str, caps: Value) -> anyhow::Result<String> {
    let body = json!({ "capabilities": { "alwaysMatch": caps } });
    let reply: Value = http
        .post(format!("{}/session", base.trim_end_matches('/')))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    reply["value"]["sessionId"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no session: {reply}"))
}

async fn command(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let url = format!("{}/{path}", base.trim_end_matches('/'));
    let request = http.request(method, url);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let reply: Value = request.send().await?.json().await?;
    if reply["value"]["error"].is_string() {
        bail!("{path}: {reply}");
    }
    Ok(reply)
}

/// Dirties two origins as a test would: every kind of storage on A, then B in an iframe of A.
async fn dirty(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    (a, b): (&ServerHandle, &ServerHandle),
) -> anyhow::Result<()> {
    let write_b = b.url().join("storage/write")?;
    let frame = a.url().join(&format!("storage/frame?src={write_b}"))?;
    for url in [a.url().join("storage/write")?, frame] {
        command(
            http,
            base,
            reqwest::Method::POST,
            &format!("session/{id}/url"),
            Some(json!({ "url": url.as_str() })),
        )
        .await?;
    }
    Ok(())
}

/// Row h for `browser`: leases on endpoints of 1 and 2 sessions, both isolations, against fresh
/// sessions on a driver of the bench's own.
async fn leases(
    harness_bin: &Path,
    browser: Browser,
    servers: (&ServerHandle, &ServerHandle),
    report: &mut Report,
) -> anyhow::Result<()> {
    let http = http();
    let caps = json!({ "browserName": browser.name() });
    let fresh = fresh_sessions(&http, browser).await?;
    for isolation in ["reset", "context"] {
        for pool in ["1", "2"] {
            eprintln!(
                "bench: h. {browser}: {LEASES} leases, --isolation {isolation} --pool {pool}"
            );
            let web = endpoint(
                harness_bin,
                &[
                    "--browser",
                    browser.name(),
                    "--pool",
                    pool,
                    "--isolation",
                    isolation,
                ],
            )
            .await?;
            let base = web.url().as_str().trim_end_matches('/').to_owned();
            let took = match measure_leases(&http, &base, &caps, servers).await {
                Ok(took) => took,
                Err(e) => {
                    let tail = web.logs().tail(harness::Stream::Stderr, 30);
                    bail!("{e:#}\nthe endpoint's stderr:\n{tail}");
                }
            };
            web.stop().await?;
            let key = format!("{browser}_lease_{isolation}_pool{pool}");
            report.num(&format!("{key}_median_ms"), took.median_ms());
            report.num(&format!("{key}_p95_ms"), took.p95_ms());
            let ratio = took.median_ms() / PLAYWRIGHT_CONTEXT_MS;
            let (target, met) = if browser == Browser::Chrome && isolation == "reset" {
                (
                    format!("≤ {LEASE_TARGET_MS:.0} ms and ≤ {LEASE_VS_PLAYWRIGHT}× Playwright"),
                    Some(took.median_ms() <= LEASE_TARGET_MS && ratio <= LEASE_VS_PLAYWRIGHT),
                )
            } else {
                ("— (reported)".to_owned(), None)
            };
            report.line(Line {
                row: format!("h. {browser} lease, {isolation}, pool {pool}"),
                measured: format!(
                    "`POST /session` to a clean page after a lease that dirtied 2 origins; n={LEASES}"
                ),
                result: format!(
                    "{} vs. fresh session {}: **{:.2}×**; vs. Playwright newContext {PLAYWRIGHT_CONTEXT_MS:.0} ms (cited): **{ratio:.2}×**",
                    took.summary(),
                    fresh.summary(),
                    took.median_ms() / fresh.median_ms()
                ),
                target,
                met,
            });
        }
    }
    report.num(
        &format!("{browser}_fresh_session_median_ms"),
        fresh.median_ms(),
    );
    Ok(())
}

/// Leases `LEASES` sessions (after one unrecorded) from the endpoint at `base`, each dirtying two
/// origins before its DELETE; how long each `POST /session` took.
async fn measure_leases(
    http: &reqwest::Client,
    base: &str,
    caps: &Value,
    servers: (&ServerHandle, &ServerHandle),
) -> anyhow::Result<Samples> {
    let mut took = Samples::default();
    for round in 0..=LEASES {
        let started = Instant::now();
        let id = new_session(http, base, caps.clone()).await?;
        let elapsed = started.elapsed();
        let path = format!("session/{id}/url");
        let url = command(http, base, reqwest::Method::GET, &path, None).await?;
        if url["value"] != "about:blank" {
            bail!("lease {round} did not start on about:blank: {url}");
        }
        dirty(http, base, &id, servers).await?;
        let path = format!("session/{id}");
        command(http, base, reqwest::Method::DELETE, &path, None).await?;
        if round > 0 {
            took.push(elapsed);
        }
    }
    Ok(took)
}

/// New session + delete on a driver the bench starts, with the library's capabilities.
async fn fresh_sessions(http: &reqwest::Client, browser: Browser) -> anyhow::Result<Samples> {
    let driver = Driver::start(browser).await?;
    let base = driver.url().as_str().trim_end_matches('/').to_owned();
    let binary = harness::__cli::find_binary(browser)?;
    let mut took = Samples::default();
    let n = LEASES / 2;
    for round in 0..=n {
        let profile = tempfile::tempdir()?;
        let caps =
            harness::__cli::session_capabilities(browser, Some(binary.clone()), profile.path());
        let started = Instant::now();
        let id = new_session(http, &base, Value::Object(caps)).await?;
        let elapsed = started.elapsed();
        command(
            http,
            &base,
            reqwest::Method::DELETE,
            &format!("session/{id}"),
            None,
        )
        .await?;
        // geckodriver serves one session at a time: the DELETE above ended this one first.
        if round > 0 {
            took.push(elapsed);
        }
    }
    driver.stop().await?;
    Ok(took)
}

/// Row i: one command through the endpoint against the same command on a driver directly.
async fn forwarding(harness_bin: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("bench: i. {COMMANDS} commands through the endpoint and directly, interleaved");
    let http = http();
    let web = endpoint(harness_bin, &["--browser", "chrome", "--pool", "1"]).await?;
    let proxied_base = web.url().as_str().trim_end_matches('/').to_owned();
    let proxied = new_session(&http, &proxied_base, json!({ "browserName": "chrome" })).await?;
    let driver = Driver::start(Browser::Chrome).await?;
    let direct_base = driver.url().as_str().trim_end_matches('/').to_owned();
    let profile = tempfile::tempdir()?;
    let caps = harness::__cli::session_capabilities(
        Browser::Chrome,
        Some(harness::__cli::find_binary(Browser::Chrome)?),
        profile.path(),
    );
    let direct = new_session(&http, &direct_base, Value::Object(caps)).await?;
    let (mut through, mut straight) = (Samples::default(), Samples::default());
    for round in 0..=COMMANDS {
        for (base, id, samples) in [
            (&proxied_base, &proxied, &mut through),
            (&direct_base, &direct, &mut straight),
        ] {
            let started = Instant::now();
            command(
                &http,
                base,
                reqwest::Method::GET,
                &format!("session/{id}/url"),
                None,
            )
            .await?;
            if round > 0 {
                samples.push(started.elapsed());
            }
        }
    }
    command(
        &http,
        &direct_base,
        reqwest::Method::DELETE,
        &format!("session/{direct}"),
        None,
    )
    .await?;
    command(
        &http,
        &proxied_base,
        reqwest::Method::DELETE,
        &format!("session/{proxied}"),
        None,
    )
    .await?;
    driver.stop().await?;
    web.stop().await?;
    let overhead = through.median_ms() - straight.median_ms();
    report.num("forwarding_overhead_median_ms", overhead);
    report.line(Line {
        row: "i. Forwarding overhead".into(),
        measured: format!("`GET /session/{{id}}/url` through the endpoint vs. to chromedriver directly; n={COMMANDS} each"),
        result: format!(
            "{} vs. {}: **+{} ms** per command",
            through.summary(),
            straight.summary(),
            fmt_ms(overhead)
        ),
        target: format!("≤ {FORWARD_TARGET_MS} ms"),
        met: Some(overhead <= FORWARD_TARGET_MS),
    });
    Ok(())
}

/// CPU time the whole machine has spent busy since boot (every core; `/proc/stat`, in USER_HZ
/// ticks, 100 a second on Linux), to tell a run that waits from one that computes. `None` off
/// Linux.
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    let idle = ticks.get(3)? + ticks.get(4)?;
    let busy = ticks.iter().sum::<u64>().checked_sub(idle)?;
    Some(Duration::from_millis(busy * 10))
}

/// Row g: `cargo nextest run -p e2e` with the warm stack and without, alternating.
pub(crate) fn suite(report: &mut Report) -> anyhow::Result<()> {
    let runs: usize = std::env::var("HARNESS_BENCH_SUITE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?
        .to_path_buf();
    let nextest = |stack: bool| -> anyhow::Result<(Duration, Option<Duration>)> {
        let busy = machine_busy();
        let started = Instant::now();
        let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["nextest", "run", "--locked", "-p", "e2e", "--no-fail-fast"])
            .env("HARNESS_NEXTEST_STACK", if stack { "1" } else { "0" })
            .current_dir(&root)
            .stdin(Stdio::null())
            .output()
            .context("failed to run cargo nextest (install it: `cargo install cargo-nextest`)")?;
        let took = started.elapsed();
        let cpu = machine_busy()
            .zip(busy)
            .map(|(after, before)| after - before);
        if !output.status.success() {
            bail!(
                "the e2e suite failed under nextest (stack {stack}): {}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok((took, cpu))
    };
    eprintln!(
        "bench: g. the e2e suite under nextest: {runs} runs each, alternating, after a warm-up of each"
    );
    let (mut shared, mut per_process) = (Samples::default(), Samples::default());
    let (mut shared_cpu, mut per_process_cpu) = (Samples::default(), Samples::default());
    for round in 0..=runs {
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for stack in order {
            let (took, cpu) = nextest(stack)?;
            if round > 0 {
                let (wall, busy) = if stack {
                    (&mut shared, &mut shared_cpu)
                } else {
                    (&mut per_process, &mut per_process_cpu)
                };
                wall.push(took);
                if let Some(cpu) = cpu {
                    busy.push(cpu);
                }
            }
        }
    }
    let ratio = per_process.median_ms() / shared.median_ms();
    report.num("nextest_suite_shared_median_ms", shared.median_ms());
    report.num(
        "nextest_suite_per_process_median_ms",
        per_process.median_ms(),
    );
    report.num("nextest_suite_speedup", ratio);
    // Whether the stack's run waits or computes: a run that keeps every core busy cannot get
    // faster by waiting less, only by doing less.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cpu = (shared_cpu.len() > 0 && per_process_cpu.len() > 0).then(|| {
        let (s, p) = (shared_cpu.median_ms(), per_process_cpu.median_ms());
        report.num("nextest_suite_shared_cpu_ms", s);
        report.num("nextest_suite_per_process_cpu_ms", p);
        format!(
            "; machine CPU {:.1} vs. {:.1} CPU-s ({:.2}× less), the stack's run keeping {:.0}% of {cores} cores busy",
            s / 1000.0,
            p / 1000.0,
            p / s,
            100.0 * s / (shared.median_ms() * cores)
        )
    });
    report.line(Line {
        row: "g. e2e suite under nextest".into(),
        measured: format!(
            "wall time, one warm stack per run (pool of 4, shared fixtures-app) vs. a driver and server per test process; n={runs} each"
        ),
        result: format!(
            "{} vs. {}: **{ratio:.2}× faster**{}",
            shared.summary(),
            per_process.summary(),
            cpu.unwrap_or_default()
        ),
        target: format!("≥ {SUITE_TARGET}×"),
        met: Some(ratio >= SUITE_TARGET),
    });
    Ok(())
}
