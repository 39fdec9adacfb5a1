//! Row f: how long the servers outlive a SIGKILLed test process.
//!
//! An owner child (`bench --row owner`) starts [`SERVERS`] fixtures-app, each leaving a grandchild
//! (`--spawn-grandchild`), and prints `READY` with every pid. The bench SIGKILLs the owner, so no
//! `Drop` runs, and polls `/proc` every millisecond until none of those processes is alive (a
//! zombie counts as gone: it holds no port, no file, no memory).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use harness::Server;

use super::procs::alive;
use super::report::{Line, Report};
use super::setup::{ROW_ARG, spawn_concurrently};
use super::stats::Samples;

/// Servers per owner.
const SERVERS: usize = 4;
/// Owners killed.
const RUNS: usize = 10;
/// How long the descendants may take to go before the row fails.
const LIMIT: Duration = Duration::from_secs(5);
/// How long an owner may take to start its servers.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long an owner waits to be killed before it gives up and exits on its own.
const OWNER_LIFETIME: Duration = Duration::from_secs(120);

/// The owner's side: starts the servers, prints `READY pid...`, waits to be killed.
pub(crate) async fn owner(server: &Server) -> anyhow::Result<()> {
    let server = server.clone().arg("--spawn-grandchild");
    let handles = spawn_concurrently(&server, SERVERS)
        .await?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut pids = Vec::new();
    for handle in &handles {
        let whoami: serde_json::Value = http
            .get(handle.url().join("whoami")?)
            .send()
            .await?
            .json()
            .await?;
        let grandchild = whoami["grandchild_pid"]
            .as_u64()
            .with_context(|| format!("/whoami names no grandchild_pid: {whoami}"))?;
        pids.extend([u64::from(handle.pid()), grandchild]);
    }
    let pids: Vec<String> = pids.iter().map(u64::to_string).collect();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "READY {}", pids.join(" "))?;
    stdout.flush()?;
    drop(stdout);
    tokio::time::sleep(OWNER_LIFETIME).await;
    Ok(())
}

/// The parent's side: kills [`RUNS`] owners and adds row f to `report`.
pub(crate) fn run(report: &mut Report) -> anyhow::Result<()> {
    eprintln!(
        "bench: f. SIGKILL of the owner until its {} descendants are gone, {RUNS} runs",
        SERVERS * 2
    );
    let mut samples = Samples::default();
    for _ in 0..RUNS {
        samples.push(kill_once()?);
    }
    report.num("kill_to_gone_ms", samples.median_ms());
    report.num("kill_to_gone_p95_ms", samples.p95_ms());
    report.set("kill_to_gone_runs", RUNS);
    report.line(Line {
        row: "f. Death".into(),
        measured: format!(
            "SIGKILL of the owning process until its last descendant ({SERVERS} servers + {SERVERS} grandchildren) is gone; /proc polled every 1 ms; n={RUNS}"
        ),
        result: format!("**{}**", samples.summary()),
        target: "—".into(),
        met: None,
    });
    Ok(())
}

fn kill_once() -> anyhow::Result<Duration> {
    let mut owner = Command::new(std::env::current_exe()?)
        .args([ROW_ARG, "owner"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = owner.stdout.take().context("stdout is piped")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(START_LIMIT) {
        Ok(line) if line.starts_with("READY ") => line,
        other => {
            owner.kill()?;
            owner.wait()?;
            bail!("the owner did not get ready: {other:?}");
        }
    };
    let pids: Vec<u32> = line["READY ".len()..]
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;

    let started = Instant::now();
    owner.kill()?;
    let gone = loop {
        if pids.iter().all(|&pid| !alive(pid)) {
            break Some(started.elapsed());
        }
        if started.elapsed() > LIMIT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    owner.wait()?;
    match gone {
        Some(took) => Ok(took),
        None => {
            let left: Vec<String> = pids
                .iter()
                .filter(|&&pid| alive(pid))
                .map(u32::to_string)
                .collect();
            // Do not leave them behind, whatever the harness failed to do.
            let _ = Command::new("kill").arg("-KILL").args(&left).status();
            bail!("still alive {LIMIT:?} after the owner's SIGKILL: {left:?}")
        }
    }
}
