//! Start-up and shutdown: bind, misbehave as asked, print the handshake, serve.

use std::future::{self, IntoFuture};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::Config;
use crate::flood::{self, Phase, Stream};
use crate::ids::random_id;
use crate::misbehave;
use crate::routes::app;
use crate::shutdown::Shutdown;
use crate::state::AppState;

/// How long requests still in flight may run after a shutdown signal before the app exits anyway.
/// A quarter of the 1 s within which the app exits after SIGTERM (its tests check that), leaving
/// the rest for a loaded machine.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);

/// Runs the app as `config` says, until a shutdown signal; returns the exit code to use.
///
/// Startup order: bind, install signal handlers, spawn the grandchild, write the "before" floods,
/// exit if asked to, wait the handshake delay, print the handshake (or not), start the "after"
/// floods, serve.
pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let requested = SocketAddr::new(config.host, config.port);
    let listener = TcpListener::bind(requested)
        .await
        .with_context(|| format!("failed to bind {requested}"))?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "bound");
    let shutdown = Shutdown::install(config.ignore_sigterm, config.exit_on_stdin_eof)
        .context("failed to install signal handlers")?;

    let grandchild = if config.spawn_grandchild {
        Some(misbehave::spawn_grandchild().context("failed to spawn the grandchild")?)
    } else {
        None
    };
    flood_before(&config)?;

    if let Some(code) = config.exit_before_handshake {
        eprintln!(
            "fixtures-app: exiting with code {code} before the handshake \
             (as asked by --exit-before-handshake)"
        );
        return Ok(ExitCode::from(code));
    }
    if config.handshake_delay_ms > 0 {
        tracing::info!(ms = config.handshake_delay_ms, "delaying the handshake");
        tokio::time::sleep(Duration::from_millis(config.handshake_delay_ms)).await;
    }
    if config.no_handshake {
        tracing::info!("not printing the handshake, as asked by --no-handshake");
    } else if config.malformed_handshake {
        tracing::info!("printing a malformed handshake, as asked by --malformed-handshake");
        misbehave::announce_malformed().context("failed to print the handshake")?;
    } else {
        harness::handshake::announce([("http", local)]).context("failed to print the handshake")?;
    }
    flood_after(&config);

    let instance_id = config.instance_id.unwrap_or_else(random_id);
    tracing::info!(%instance_id, "serving on http://{local}");
    let state = AppState::with_grandchild(instance_id, grandchild);
    serve(listener, app(state), shutdown).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Serves until shutdown is requested, then gives requests in flight [`SHUTDOWN_GRACE`] to end.
async fn serve(listener: TcpListener, router: Router, shutdown: Shutdown) -> anyhow::Result<()> {
    let (fired_tx, fired_rx) = oneshot::channel();
    let signal = async move {
        shutdown.requested().await;
        let _ = fired_tx.send(());
    };
    let server = axum::serve(listener, router)
        .with_graceful_shutdown(signal)
        .into_future();
    let grace_over = async {
        match fired_rx.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => future::pending().await,
        }
    };
    tokio::select! {
        result = server => result.context("server failed"),
        () = grace_over => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still in flight after the grace period; exiting anyway");
            Ok(())
        }
    }
}

/// Writes the "before" floods, both streams at once so neither waits on the other's reader.
fn flood_before(config: &Config) -> anyhow::Result<()> {
    std::thread::scope(|scope| {
        let stdout =
            scope.spawn(|| flood::flood(Stream::Stdout, Phase::Before, config.stdout_bytes_before));
        let stderr =
            scope.spawn(|| flood::flood(Stream::Stderr, Phase::Before, config.stderr_bytes_before));
        for (stream, handle) in [(Stream::Stdout, stdout), (Stream::Stderr, stderr)] {
            handle
                .join()
                .expect("the flood thread does not panic")
                .with_context(|| format!("failed to flood {stream}"))?;
        }
        Ok(())
    })
}

/// Starts the "after" floods on their own threads, so the server keeps answering meanwhile.
fn flood_after(config: &Config) {
    for (stream, bytes) in [
        (Stream::Stdout, config.stdout_bytes_after),
        (Stream::Stderr, config.stderr_bytes_after),
    ] {
        if bytes == 0 {
            continue;
        }
        std::thread::spawn(move || {
            if let Err(error) = flood::flood(stream, Phase::After, bytes) {
                tracing::warn!(%stream, %error, "flood after the handshake stopped");
            }
        });
    }
}
