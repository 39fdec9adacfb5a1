//! fixtures-app for the demo. `cargo run -p harness-e2e-cli -- demo` builds harness alone, so on a fresh
//! clone the server the demo runs against is not there yet: the demo builds it, in the profile of
//! the running binary, then looks again.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use harness::{Error, Server};

/// How long building fixtures-app may take (a cold build on a small machine).
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// fixtures-app as a [`Server`], built first if it is not next to this binary.
pub(super) async fn fixtures_app() -> Result<Server, String> {
    match Server::cargo_bin("fixtures-app") {
        Ok(server) => return Ok(server),
        Err(Error::CargoBinNotFound { .. }) => {}
        Err(e) => return Err(e.to_string()),
    }
    let args = build_args();
    let shown = format!("cargo {}", args.join(" "));
    say!("harness demo: fixtures-app is not built yet; building it");
    say!("$ {shown}");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The workspace this binary was built from; cargo finds the root from there.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(cargo);
    command.args(&args).stdin(Stdio::null()).kill_on_drop(true);
    if workspace.is_dir() {
        command.current_dir(workspace);
    }
    let status = match tokio::time::timeout(BUILD_TIMEOUT, command.status()).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => return Err(format!("failed to run `{shown}`: {e}")),
        Err(_) => {
            return Err(format!(
                "`{shown}` did not finish within {} min",
                BUILD_TIMEOUT.as_secs() / 60
            ));
        }
    };
    if !status.success() {
        return Err(format!(
            "`{shown}` failed ({status}); fix the build, then run the demo again"
        ));
    }
    Server::cargo_bin("fixtures-app").map_err(|e| e.to_string())
}

/// `build -p fixtures-app`, plus the profile of the directory this binary runs from.
fn build_args() -> Vec<String> {
    let mut args: Vec<String> = ["build", "-p", "fixtures-app"].map(String::from).into();
    let profile = harness::__cli::cargo_target_dir()
        .and_then(|dir| dir.file_name().map(|n| n.to_string_lossy().into_owned()));
    match profile.as_deref() {
        None | Some("debug") => {}
        Some("release") => args.push("--release".into()),
        Some(other) => args.extend(["--profile".into(), other.to_owned()]),
    }
    args
}
