//! The numbers behind the README's Performance section, measured in one run:
//!
//! ```text
//! cargo run --release -p harness-e2e --example bench
//! ```
//!
//! Rows: a. ready latency against a raw spawn; b. against TCP polling at 100 ms and 250 ms;
//! c. 256 servers at once, and the pick-a-free-port method at the same concurrency; d. pooled
//! against fresh browser sessions (Chrome, and Firefox when installed); e. a 1 GiB log flood;
//! f. the time from a SIGKILL of the owning process until its last descendant is gone; g–i. the
//! pooling WebDriver endpoint: the e2e suite under nextest with one warm stack against per-process
//! drivers, lease latency, forwarding overhead (`bench pool` runs these alone).
//! Row a also compares the ways of starting a child side by side (`a'.`, each in a child process
//! with `HARNESS_SPAWN_METHOD` set; see `harness/src/process/mod.rs`). `bench ready` runs row a and
//! that comparison only.
//!
//! Compared methods alternate within each iteration; results are medians and p95. The markdown
//! table goes to stdout and `target/harness-bench.md`, the numbers to `target/harness-bench.json`.
//! Rows whose peak memory is reported (c, e) and the process killed in f run as children of this
//! binary (`bench --row scale|flood|owner`). Linux only: it reads `/proc`. About five minutes on
//! two cores, plus about five for rows g–i.

#[path = "bench/browsers.rs"]
mod browsers;
#[path = "bench/death.rs"]
mod death;
#[path = "bench/flood.rs"]
mod flood;
use test_support::procs;
#[path = "bench/pool.rs"]
mod pool;
#[path = "bench/ready.rs"]
mod ready;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/scale.rs"]
mod scale;
#[path = "bench/setup.rs"]
mod setup;
#[path = "bench/stats.rs"]
mod stats;

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = match args.as_slice() {
        [flag, row] if flag == setup::ROW_ARG => runtime.block_on(child_row(row)),
        [] => runtime.block_on(all_rows(Rows::All)),
        [only] if only == "ready" => runtime.block_on(all_rows(Rows::Ready)),
        [only] if only == "pool" => runtime.block_on(all_rows(Rows::Pool)),
        _ => Err(anyhow::anyhow!(
            "usage: bench [ready|pool] (`cargo run --release -p harness-e2e --example bench`; `ready`: row a only; `pool`: rows g-i only)"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One row run in a child process, which reports to the parent on stdout.
async fn child_row(row: &str) -> anyhow::Result<()> {
    let server = setup::fixtures_app()?;
    match row {
        "scale" => scale::child(&server).await,
        "flood" => flood::child(&server).await,
        "owner" => death::owner(&server).await,
        "ready-method" => ready::method_child(&server).await,
        other => bail!("unknown row `{other}`"),
    }
}

/// Which rows a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    All,
    /// Row a and its method comparison.
    Ready,
    /// Rows g–i: the pooling WebDriver endpoint.
    Pool,
}

async fn all_rows(rows: Rows) -> anyhow::Result<()> {
    if !cfg!(target_os = "linux") {
        bail!("the bench reads /proc, so it runs on Linux only");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "bench: warning: a debug build; the README's numbers come from `cargo run --release -p harness-e2e --example bench`"
        );
    }
    let started = Instant::now();
    let server = setup::fixtures_app()?;
    let mut report = report::Report::default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    report.set("cpus", cpus);

    if rows != Rows::Pool {
        ready::run(&server, &mut report).await?;
        tokio::task::block_in_place(|| ready::methods(&mut report))?;
    }
    if rows == Rows::All {
        tokio::task::block_in_place(|| scale::run(&mut report))?;
        browsers::run(&server, &mut report).await?;
        flood::run(&server, &mut report).await?;
        tokio::task::block_in_place(|| death::run(&mut report))?;
    }
    if rows != Rows::Ready {
        tokio::task::block_in_place(|| pool::suite(&mut report))?;
        pool::run(&server, &mut report).await?;
    }
    report.num("bench_seconds", started.elapsed().as_secs_f64());

    let markdown = report.markdown();
    println!("{markdown}");
    let target = setup::target_dir()?;
    std::fs::create_dir_all(&target)?;
    let md_path = target.join("harness-bench.md");
    let json_path = target.join("harness-bench.json");
    std::fs::write(&md_path, &markdown).with_context(|| format!("write {}", md_path.display()))?;
    std::fs::write(&json_path, report.json() + "\n")
        .with_context(|| format!("write {}", json_path.display()))?;
    eprintln!(
        "bench: done in {:.0} s on {cpus} CPUs; wrote {} and {}",
        started.elapsed().as_secs_f64(),
        md_path.display(),
        json_path.display()
    );
    Ok(())
}
