//! Rows a and b: how soon a spawned server is usable.
//!
//! Four methods, interleaved in an order shuffled every iteration (a rotation kept the cyclic
//! neighbours fixed, so the harness always ran right after the 250 ms poll's idle wait and was
//! measured ~15% slower than in a two-method run):
//! - harness: `Server::spawn` until ready (the handshake line read and parsed);
//! - raw: the least any launcher can do, `std::process::Command` with stdout piped and `PORT=0`,
//!   until the first stdout line;
//! - polling every 100 ms and every 250 ms, as Playwright's `webServer` and `wait-on` do: a port
//!   picked free just before, passed with `--port`, then TCP connects until one succeeds.
//!
//! Each server is stopped after its measurement, outside the timed section.
//!
//! Row a′ compares the ways the harness can start a child (`HARNESS_SPAWN_METHOD`, see
//! `harness/src/process/mod.rs`): each runs in a child process of its own (the method is read once
//! per process), `Server::spawn` against raw interleaved as in row a, and reports its ratio.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use harness::Server;

use super::report::{Line, Report};
use super::setup::{pick_free_port, report_to_parent, run_child_with};
use super::stats::{Samples, fmt_ms};

/// Measured iterations per method.
const N: usize = 100;
/// Measured iterations per method in each row a′ child (more: each ratio is a few percent).
const METHOD_N: usize = 300;
/// Unrecorded iterations first (page cache, the harness's watchdog and spawner thread).
const WARMUP: usize = 5;
/// The longest any one start may take before the row fails.
const LIMIT: Duration = Duration::from_secs(10);
/// The ratio row a must stay under (the bar; the goal is 1.02).
const TARGET_RATIO: f64 = 1.10;
/// The ratio row a aims for.
const GOAL_RATIO: f64 = 1.02;

#[derive(Debug, Clone, Copy)]
enum Method {
    Harness,
    Raw,
    Poll(Duration),
}

const METHODS: [Method; 4] = [
    Method::Harness,
    Method::Raw,
    Method::Poll(Duration::from_millis(100)),
    Method::Poll(Duration::from_millis(250)),
];

/// Runs rows a and b and adds them to `report`.
pub(crate) async fn run(server: &Server, report: &mut Report) -> anyhow::Result<()> {
    let program = server.validate()?;
    let mut samples: [Samples; 4] = Default::default();
    eprintln!("bench: a/b. ready latency, {N} interleaved iterations of 4 methods");
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    for iteration in 0..WARMUP + N {
        let mut order = [0, 1, 2, 3];
        // Fisher-Yates with xorshift64: fixed seed, so runs are comparable.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        for index in order {
            let took = measure(METHODS[index], server, &program).await?;
            if iteration >= WARMUP {
                samples[index].push(took);
            }
        }
    }
    let [harness, raw, poll100, poll250] = samples;
    let ratio = harness.median_ms() / raw.median_ms();
    let speedup100 = poll100.median_ms() / harness.median_ms();
    let speedup250 = poll250.median_ms() / harness.median_ms();

    report.num("ready_ratio_vs_raw", ratio);
    report.num("ready_speedup_vs_poll_100ms", speedup100);
    report.num("ready_speedup_vs_poll_250ms", speedup250);
    report.num(
        "ready_harness_overhead_ms",
        harness.median_ms() - raw.median_ms(),
    );
    report.set("ready_n", N);
    for (name, s) in [
        ("harness", &harness),
        ("raw", &raw),
        ("poll_100ms", &poll100),
        ("poll_250ms", &poll250),
    ] {
        report.num(&format!("ready_{name}_median_ms"), s.median_ms());
        report.num(&format!("ready_{name}_p95_ms"), s.p95_ms());
    }
    report.line(Line {
        row: "a. Ready latency".into(),
        measured: format!(
            "`Server::spawn` until ready vs. raw `Command` spawn until the first stdout line; n={N} each"
        ),
        result: format!(
            "{} vs. {}: **{ratio:.2}×**",
            harness.summary(),
            raw.summary()
        ),
        target: format!("≤ {TARGET_RATIO:.2}× (goal {GOAL_RATIO:.2}×)"),
        met: Some(ratio <= TARGET_RATIO),
    });
    report.line(Line {
        row: "b. vs. TCP polling".into(),
        measured: format!(
            "free port picked, `--port P`, connect every 100 ms / 250 ms until accepted; n={N} each"
        ),
        result: format!(
            "{} / {}: harness **{speedup100:.0}× / {speedup250:.0}× faster** (median {} ms)",
            poll100.summary(),
            poll250.summary(),
            fmt_ms(harness.median_ms())
        ),
        target: "—".into(),
        met: None,
    });
    Ok(())
}

/// The spawn methods compared in row a′: the default first.
const SPAWN_METHODS: [(&str, &str); 4] = [
    (
        "clone",
        "clone(CLONE_VM|CLONE_VFORK) on the spawner thread (the default)",
    ),
    (
        "clone-direct",
        "the same on the calling thread: the spawner thread's hop",
    ),
    (
        "fork",
        "std `Command` + `pre_exec`: std forks (before this change)",
    ),
    (
        "posix_spawn",
        "std `Command` without `pre_exec`, registered after: has a window",
    ),
];

/// Row a′: runs [`method_child`] once per spawn method and adds their ratios to `report`.
pub(crate) fn methods(report: &mut Report) -> anyhow::Result<()> {
    eprintln!(
        "bench: a'. spawn methods, {METHOD_N} interleaved iterations each, in a child per method"
    );
    let mut parts = Vec::new();
    for (method, what) in SPAWN_METHODS {
        let out = run_child_with("ready-method", &[("HARNESS_SPAWN_METHOD", method)])?;
        let number = |key: &str| {
            out[key]
                .as_f64()
                .with_context(|| format!("the ready-method child reported no {key}: {out}"))
        };
        let (ratio, harness, raw) = (number("ratio")?, number("harness_ms")?, number("raw_ms")?);
        eprintln!("bench: a'. {method}: {ratio:.3}x ({harness:.2} ms vs. raw {raw:.2} ms): {what}");
        report.num(&format!("ready_ratio_{}", method.replace('-', "_")), ratio);
        report.num(
            &format!("ready_{}_median_ms", method.replace('-', "_")),
            harness,
        );
        parts.push(format!("`{method}` **{ratio:.2}×**"));
    }
    report.line(Line {
        row: "a′. Spawn methods".into(),
        measured: format!(
            "row a per way of starting the child, each in a process of its own vs. raw; n={METHOD_N} each"
        ),
        result: parts.join(", "),
        target: "—".into(),
        met: None,
    });
    Ok(())
}

/// In a child with `HARNESS_SPAWN_METHOD` set: `Server::spawn` vs. raw, interleaved; prints
/// the medians and their ratio.
pub(crate) async fn method_child(server: &Server) -> anyhow::Result<()> {
    let program = server.validate()?;
    let mut samples: [Samples; 2] = Default::default();
    for iteration in 0..WARMUP + METHOD_N {
        for k in 0..2 {
            let index = (iteration + k) % 2;
            let method = [Method::Harness, Method::Raw][index];
            let took = measure(method, server, &program).await?;
            if iteration >= WARMUP {
                samples[index].push(took);
            }
        }
    }
    let [harness, raw] = samples;
    report_to_parent(&serde_json::json!({
        "ratio": harness.median_ms() / raw.median_ms(),
        "harness_ms": harness.median_ms(),
        "raw_ms": raw.median_ms(),
    }))
}

async fn measure(method: Method, server: &Server, program: &Path) -> anyhow::Result<Duration> {
    match method {
        Method::Harness => {
            let started = Instant::now();
            let handle = server.spawn().await?;
            let took = started.elapsed();
            handle.stop().await?;
            Ok(took)
        }
        Method::Raw => {
            let program = program.to_path_buf();
            tokio::task::spawn_blocking(move || raw(&program)).await?
        }
        Method::Poll(every) => {
            let program = program.to_path_buf();
            tokio::task::spawn_blocking(move || poll(&program, every)).await?
        }
    }
}

/// Spawn with stdout piped and `PORT=0`, until the first stdout line.
fn raw(program: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .env("PORT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout is piped")?).read_line(&mut line)?;
    let took = started.elapsed();
    child.kill()?;
    child.wait()?;
    if !line.contains("\"harness\"") {
        bail!("the first stdout line is not the handshake: {line:?}");
    }
    Ok(took)
}

/// A port picked free, passed with `--port`, then TCP connects every `every` until one succeeds.
fn poll(program: &Path, every: Duration) -> anyhow::Result<Duration> {
    let port = pick_free_port()?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let connected = loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break Some(started.elapsed());
        }
        if started.elapsed() > LIMIT {
            break None;
        }
        std::thread::sleep(every);
    };
    child.kill()?;
    child.wait()?;
    connected.with_context(|| format!("port {port} did not accept a connection within {LIMIT:?}"))
}
