//! The runtime that owns every WebDriver session's background task.
//!
//! It has one worker thread, shared by every session of the process: nothing that blocks may run
//! on it, or every other test's WebDriver commands wait. Blocking cleanup (stopping a driver
//! process, which waits for it to die, and deleting a profile) goes to [`finish_off_runtime`].

use std::future::Future;
use std::sync::OnceLock;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("harness-webdriver")
            .enable_all()
            .build()
            .expect("failed to start the harness WebDriver runtime")
    })
}

/// Runs `future` on the WebDriver runtime and awaits it from any runtime.
pub(crate) async fn run<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match runtime().spawn(future).await {
        Ok(output) => output,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Starts `future` on the WebDriver runtime without waiting for it (cleanup from `Drop`).
pub(crate) fn detach<F>(future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    runtime().spawn(future);
}

/// Runs `future` on the WebDriver runtime without waiting for it, then drops `blocking` (whose
/// `Drop` may block, e.g. a driver's [`ServerHandle`](crate::ServerHandle), which kills the
/// process and waits for it to die) on a thread of its own, never on the runtime's one worker.
pub(crate) fn detach_then_drop<F, T>(future: F, blocking: T)
where
    F: Future<Output = ()> + Send + 'static,
    T: Send + 'static,
{
    detach(async move {
        future.await;
        finish_off_runtime(blocking);
    });
}

/// Drops `value` on a new thread. If no thread can be started, the failed spawn drops it here:
/// blocking is better than leaking a process until the watchdog ends it with this process.
pub(crate) fn finish_off_runtime<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("harness-cleanup".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// Blocks in `Drop` until released (or 20 s pass), like a driver that is slow to die.
    struct SlowToDrop {
        release: mpsc::Receiver<()>,
        dropped: mpsc::Sender<String>,
    }

    impl Drop for SlowToDrop {
        fn drop(&mut self) {
            let _ = self.release.recv_timeout(Duration::from_secs(20));
            let thread = std::thread::current().name().unwrap_or("?").to_owned();
            let _ = self.dropped.send(thread);
        }
    }

    #[tokio::test]
    async fn a_slow_drop_never_blocks_other_sessions_commands() {
        let (release, gate) = mpsc::channel();
        let (dropped, was_dropped) = mpsc::channel();
        let slow = SlowToDrop {
            release: gate,
            dropped,
        };
        let (closed_tx, closed) = tokio::sync::oneshot::channel();
        detach_then_drop(
            async move {
                let _ = closed_tx.send(());
            },
            slow,
        );
        // The session's close ran; its driver is now being stopped (held by the gate).
        tokio::time::timeout(Duration::from_secs(5), closed)
            .await
            .expect("the close ran on the WebDriver runtime")
            .unwrap();
        // Another session's command: it must not wait for that driver.
        let started = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(5), run(async { 42 })).await;
        let waited = started.elapsed();
        release.send(()).unwrap();
        assert_eq!(
            answer.ok(),
            Some(42),
            "a command waited {waited:?} behind a driver being stopped"
        );
        let thread = was_dropped
            .recv_timeout(Duration::from_secs(20))
            .expect("the slow value was dropped after all");
        assert_eq!(
            thread, "harness-cleanup",
            "dropped off the runtime's thread"
        );
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_server_handed_off_is_still_stopped() {
        let server = crate::Server::new("python3")
            .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
            .ready(crate::Ready::line(r"port (?P<port>\d+)").unwrap())
            .ready_timeout(Duration::from_secs(20))
            .spawn()
            .await
            .expect("python3 -m http.server starts");
        let pid = server.pid();
        let stat = format!("/proc/{pid}/stat");
        assert!(std::path::Path::new(&stat).exists(), "it runs");
        detach_then_drop(async {}, server);
        // Killed and reaped by the cleanup thread: then its /proc entry is gone.
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::path::Path::new(&stat).exists() {
            assert!(
                Instant::now() < deadline,
                "pid {pid} still there after 15 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
