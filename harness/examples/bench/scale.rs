//! Row c: 256 servers started at once in one process, on port 0 through the harness and then on
//! ports picked free beforehand, the way most tools do it.
//!
//! Runs in a child process (`bench --row scale`) so that its peak RSS is this row's alone.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context;
use harness::{Server, ServerHandle};
use serde_json::json;

use super::report::{Line, Report};
use super::setup::{self, peak_rss_mib, pick_free_port, spawn_concurrently};

/// Servers started at once.
const SERVERS: usize = 256;
/// Each server's ready timeout: 256 cold starts share two cores.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The child's side: starts the servers, prints one JSON line of counts.
pub(crate) async fn child(server: &Server) -> anyhow::Result<()> {
    let server = server.clone().ready_timeout(READY_TIMEOUT);

    let started = Instant::now();
    let mut handles = Vec::new();
    let mut first_error = None;
    for outcome in spawn_concurrently(&server, SERVERS).await? {
        match outcome {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let wall = started.elapsed();
    let peak = peak_rss_mib()?;
    let ports: HashSet<u16> = handles.iter().map(ServerHandle::port).collect();
    let ready = handles.len();
    let distinct = ports.len();
    stop_all(handles).await;
    if let Some(error) = first_error {
        eprintln!("bench: c. a server did not become ready: {error}");
    }

    // Most tools: pick a free port, close it, pass the number; every server at once.
    let started = Instant::now();
    let spawns: Vec<_> = (0..SERVERS)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                let port = pick_free_port()?;
                let spawned = server.arg("--port").arg(port.to_string()).spawn().await;
                anyhow::Ok((port, spawned))
            })
        })
        .collect();
    let mut given = Vec::new();
    let mut handles = Vec::new();
    let mut failures = 0;
    let mut bind_failures = 0;
    for spawn in spawns {
        let (port, spawned) = spawn.await??;
        given.push(port);
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                failures += 1;
                if e.to_string().contains("failed to bind") {
                    bind_failures += 1;
                }
            }
        }
    }
    let pick_wall = started.elapsed();
    let distinct_given: HashSet<u16> = given.iter().copied().collect();
    let collisions = given.len() - distinct_given.len();
    stop_all(handles).await;

    setup::report_to_parent(&json!({
        "servers": SERVERS,
        "ready": ready,
        "distinct_ports": distinct,
        "wall_ms": wall.as_secs_f64() * 1000.0,
        "peak_rss_mib": peak,
        "pick_failures": failures,
        "pick_bind_failures": bind_failures,
        "pick_collisions": collisions,
        "pick_wall_ms": pick_wall.as_secs_f64() * 1000.0,
    }))
}

async fn stop_all(handles: Vec<ServerHandle>) {
    let stops: Vec<_> = handles
        .into_iter()
        .map(|h| tokio::spawn(h.stop()))
        .collect();
    for stop in stops {
        let _ = stop.await;
    }
}

/// The parent's side: runs the child and adds row c to `report`.
pub(crate) fn run(report: &mut Report) -> anyhow::Result<()> {
    eprintln!("bench: c. {SERVERS} servers at once (in a child process)");
    let out = setup::run_child("scale")?;
    let count = |key: &str| -> anyhow::Result<u64> {
        out[key]
            .as_u64()
            .with_context(|| format!("the scale child reported no `{key}`: {out}"))
    };
    let float = |key: &str| -> anyhow::Result<f64> {
        out[key]
            .as_f64()
            .with_context(|| format!("the scale child reported no `{key}`: {out}"))
    };
    let (ready, distinct) = (count("ready")?, count("distinct_ports")?);
    let (failures, collisions) = (count("pick_failures")?, count("pick_collisions")?);
    let peak = float("peak_rss_mib")?;
    let wall = float("wall_ms")?;

    report.set("scale_servers", SERVERS);
    report.set("scale_ready", ready);
    report.set("scale_distinct_ports", distinct);
    report.num("scale_peak_rss_mib", peak);
    report.num("scale_wall_ms", wall);
    report.set("pick_free_port_failures", failures + collisions);
    report.set("pick_free_port_spawn_failures", failures);
    report.set("pick_free_port_bind_failures", count("pick_bind_failures")?);
    report.set("pick_free_port_collisions", collisions);
    report.num("pick_free_port_wall_ms", float("pick_wall_ms")?);

    let all = SERVERS as u64;
    report.line(Line {
        row: "c. Scale".into(),
        measured: format!("{SERVERS} `Server::spawn` at once in one process, port 0"),
        result: format!(
            "{ready}/{SERVERS} ready on {distinct} distinct ports in {:.1} s; harness peak RSS {peak:.0} MiB",
            wall / 1000.0
        ),
        target: "all ready, all distinct".into(),
        met: Some(ready == all && distinct == all),
    });
    report.line(Line {
        row: "c. Pick-a-free-port".into(),
        measured: format!("{SERVERS} at once: bind `127.0.0.1:0`, read, close, pass `--port P`"),
        result: format!(
            "{failures} servers failed to start, {collisions} ports given twice: **{}**",
            failures + collisions
        ),
        target: "—".into(),
        met: None,
    });
    Ok(())
}
