//! The `fixtures-app` binary: flags in, handshake on stdout, logs on stderr.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = fixtures_app::Config::parse();
    init_logging();
    match fixtures_app::run(config).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("fixtures-app: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Sends logs to stderr, filtered by `RUST_LOG` (default `info`); stdout is for the handshake.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
