//! Row e: fixtures-app writes 1 GiB to stdout while serving; the harness drains it into bounded
//! logs. Compared with the same flood written to `/dev/null`, the fastest a reader could be.
//!
//! The harness side runs in a child process (`bench --row flood`) so that its peak RSS is the
//! flood's alone. The `/dev/null` side cannot count bytes, so it waits for fixtures-app's
//! `flood finished` log line on stderr. Both are timed from spawn.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use harness::{Server, Stream};
use serde_json::json;

use super::report::{Line, Report};
use super::setup::{self, peak_rss_mib};
use super::stats::Samples;

const GIB: u64 = 1024 * 1024 * 1024;
/// Runs of each method, interleaved.
const RUNS: usize = 3;
/// The longest one flood may take.
const LIMIT: Duration = Duration::from_secs(300);
/// How often the harness side checks the byte count.
const POLL: Duration = Duration::from_millis(50);
/// The peak RSS row e aims for.
const TARGET_RSS_MIB: f64 = 32.0;

/// The child's side: one flood through the harness; prints its duration and the peak RSS.
pub(crate) async fn child(server: &Server) -> anyhow::Result<()> {
    let server = server
        .clone()
        .args(["--stdout-bytes-after", &GIB.to_string()]);
    let started = Instant::now();
    let web = server.spawn().await?;
    loop {
        let written = web.logs().total_bytes(Stream::Stdout);
        if written >= GIB {
            break;
        }
        if started.elapsed() > LIMIT {
            bail!("the flood stalled at {written} bytes after {LIMIT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
    let took = started.elapsed();
    let peak = peak_rss_mib()?;
    web.stop().await?;
    setup::report_to_parent(&json!({ "secs": took.as_secs_f64(), "peak_rss_mib": peak }))
}

/// The parent's side: interleaves child floods with `/dev/null` floods and adds row e.
pub(crate) async fn run(server: &Server, report: &mut Report) -> anyhow::Result<()> {
    let program = server.validate()?;
    eprintln!("bench: e. 1 GiB log flood, {RUNS} runs through the harness and {RUNS} to /dev/null");
    let mut harness = Samples::default();
    let mut devnull = Samples::default();
    let mut peak: f64 = 0.0;
    for _ in 0..RUNS {
        let out = tokio::task::spawn_blocking(|| setup::run_child("flood")).await??;
        let secs = out["secs"]
            .as_f64()
            .context("the flood child reported no `secs`")?;
        harness.push(Duration::from_secs_f64(secs));
        peak = peak.max(
            out["peak_rss_mib"]
                .as_f64()
                .context("the flood child reported no `peak_rss_mib`")?,
        );
        let program = program.clone();
        devnull.push(tokio::task::spawn_blocking(move || to_devnull(&program)).await??);
    }
    let mib_s = |s: &Samples| 1024.0 / s.median().as_secs_f64();
    let (through_harness, through_devnull) = (mib_s(&harness), mib_s(&devnull));
    let ratio = through_harness / through_devnull;

    report.num("flood_throughput_ratio", ratio);
    report.num("flood_peak_rss_mib", peak);
    report.num("flood_harness_mib_per_s", through_harness);
    report.num("flood_devnull_mib_per_s", through_devnull);
    report.num("flood_harness_median_ms", harness.median_ms());
    report.num("flood_devnull_median_ms", devnull.median_ms());
    report.line(Line {
        row: "e. Log flood".into(),
        measured: format!(
            "1 GiB on stdout drained by the harness vs. written to `/dev/null`; median of {RUNS}"
        ),
        result: format!(
            "{through_harness:.0} MiB/s vs. {through_devnull:.0} MiB/s: **{ratio:.2}×**; harness peak RSS **{peak:.1} MiB**"
        ),
        target: format!("RSS ≤ {TARGET_RSS_MIB:.0} MiB"),
        met: Some(peak <= TARGET_RSS_MIB),
    });
    Ok(())
}

/// The flood written to `/dev/null`, from spawn until fixtures-app logs `flood finished`.
fn to_devnull(program: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(["--stdout-bytes-after", &GIB.to_string()])
        .env("PORT", "0")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create("/dev/null")?)
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().context("stderr is piped")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("flood finished") {
                let _ = tx.send(started.elapsed());
                return;
            }
        }
    });
    let finished = rx.recv_timeout(LIMIT);
    child.kill()?;
    child.wait()?;
    finished.map_err(|_| {
        anyhow::anyhow!("fixtures-app did not log `flood finished` within {LIMIT:?} (rebuild it?)")
    })
}
