//! What every row needs: fixtures-app built in this profile, the target directory, free ports,
//! peak memory, and the bench re-run as a child for rows measured in a process of their own.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use harness::Server;

/// The hidden argument that runs one row in a child process: `bench --row scale`.
pub(crate) const ROW_ARG: &str = "--row";

/// fixtures-app as a [`Server`]; built with cargo first (in this binary's profile) if missing,
/// since `cargo run --example bench` builds harness alone.
pub(crate) fn fixtures_app() -> anyhow::Result<Server> {
    cargo_bin("fixtures-app", "fixtures-app")?;
    Ok(Server::cargo_bin("fixtures-app")?)
}

/// The path of binary `bin` of workspace package `package`, built with cargo first (in this
/// binary's profile) if missing.
pub(crate) fn cargo_bin(package: &str, bin: &str) -> anyhow::Result<PathBuf> {
    let profile = profile_dir()?;
    let path = profile.join(bin);
    if path.is_file() && package != "harness-e2e-cli" {
        return Ok(path);
    }
    // The CLI is rebuilt every time (cargo makes that a no-op when it is current): a stale
    // endpoint would measure old code.
    let mut args = vec!["build", "--quiet", "-p", package, "--bin", bin];
    match profile.file_name().and_then(|n| n.to_str()) {
        Some("release") => args.push("--release"),
        Some("debug") | None => {}
        Some(other) => bail!("unknown profile directory `{other}`; build {package} yourself"),
    }
    eprintln!("bench: running `cargo {}`", args.join(" "));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .status()
        .context("failed to run cargo")?;
    if !status.success() || !path.is_file() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(path)
}

/// `target/<profile>`, the directory of this example's directory.
fn profile_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .context("the bench runs from target/<profile>/examples")
}

/// `$CARGO_TARGET_DIR`, or the `target` directory this example was built in.
pub(crate) fn target_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return Ok(std::env::current_dir()?.join(dir));
    }
    profile_dir()?
        .parent()
        .map(Path::to_path_buf)
        .context("target/<profile> has a parent")
}

/// The method most tools use: bind `127.0.0.1:0`, read the port, close the socket.
pub(crate) fn pick_free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// This process's peak resident set size (`VmHWM`), in MiB.
pub(crate) fn peak_rss_mib() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .context("VmHWM has a value")?
        .parse()?;
    Ok(kib / 1024.0)
}

/// Runs `bench --row <row>` to the end and parses the JSON line it prints last.
pub(crate) fn run_child(row: &str) -> anyhow::Result<serde_json::Value> {
    run_child_with(row, &[])
}

/// [`run_child`] with extra environment variables.
pub(crate) fn run_child_with(row: &str, env: &[(&str, &str)]) -> anyhow::Result<serde_json::Value> {
    let output = Command::new(std::env::current_exe()?)
        .args([ROW_ARG, row])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("failed to run the `{row}` row in a child"))?;
    if !output.status.success() {
        bail!("the `{row}` row failed in its child ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().context("the child printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("the child printed {line:?}"))
}

/// Prints `value` as the one JSON line a child row reports.
pub(crate) fn report_to_parent(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{value}")?;
    stdout.flush()?;
    Ok(())
}

/// Spawns `n` copies of `server` at once and returns every outcome, in spawn order.
pub(crate) async fn spawn_concurrently(
    server: &harness::Server,
    n: usize,
) -> anyhow::Result<Vec<Result<harness::ServerHandle, harness::Error>>> {
    let spawns: Vec<_> = (0..n)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move { server.spawn().await })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for spawn in spawns {
        outcomes.push(spawn.await?);
    }
    Ok(outcomes)
}
