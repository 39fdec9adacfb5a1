//! What ends the server: SIGTERM, SIGINT or, when asked, end of file on stdin.
//!
//! The signal handlers are installed before the handshake is printed: a harness may send SIGTERM
//! the moment it reads the line, and without a handler that would kill the process outright
//! instead of shutting it down with exit code 0.

use std::future;
use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::oneshot;

/// Installed shutdown triggers; [`Shutdown::requested`] waits for the first.
#[derive(Debug)]
pub(crate) struct Shutdown {
    term: Signal,
    int: Signal,
    stdin_eof: Option<oneshot::Receiver<()>>,
    ignore_sigterm: bool,
}

impl Shutdown {
    /// Installs the SIGTERM and SIGINT handlers and, if `exit_on_stdin_eof`, starts a thread that
    /// reads stdin to its end.
    pub(crate) fn install(ignore_sigterm: bool, exit_on_stdin_eof: bool) -> io::Result<Self> {
        let term = signal(SignalKind::terminate())?;
        let int = signal(SignalKind::interrupt())?;
        let stdin_eof = exit_on_stdin_eof.then(|| {
            let (tx, rx) = oneshot::channel();
            // A plain thread, not `spawn_blocking`: the runtime would wait for it on exit.
            std::thread::spawn(move || {
                let result = io::copy(&mut io::stdin().lock(), &mut io::sink());
                if let Err(error) = result {
                    tracing::warn!(%error, "reading stdin failed; treating it as closed");
                }
                let _ = tx.send(());
            });
            rx
        });
        Ok(Self {
            term,
            int,
            stdin_eof,
            ignore_sigterm,
        })
    }

    /// Waits until shutdown is requested, logging which trigger fired.
    pub(crate) async fn requested(self) {
        let Self {
            mut term,
            mut int,
            stdin_eof,
            ignore_sigterm,
        } = self;
        let stdin_closed = async {
            match stdin_eof {
                Some(rx) => {
                    let _ = rx.await;
                }
                None => future::pending().await,
            }
        };
        tokio::pin!(stdin_closed);
        loop {
            tokio::select! {
                _ = term.recv() => {
                    if ignore_sigterm {
                        tracing::warn!("ignoring SIGTERM, as asked by --ignore-sigterm");
                        continue;
                    }
                    tracing::info!("SIGTERM received, shutting down");
                }
                _ = int.recv() => tracing::info!("SIGINT received, shutting down"),
                () = &mut stdin_closed => tracing::info!("stdin closed, shutting down"),
            }
            return;
        }
    }
}
