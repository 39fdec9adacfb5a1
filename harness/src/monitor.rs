//! The threads that watch a spawned server: one drains each pipe, one waits for the exit.
//!
//! They are plain OS threads, not tokio tasks, on purpose: a server shared by many `#[tokio::test]`s
//! outlives the runtime of the test that started it, and its pipes must keep draining after that
//! runtime is gone, or the server blocks on a full pipe. They report through `watch` channels, which
//! need no runtime to send on. Each fact has one channel and nothing else: whether the server
//! settled ([`Phase`]), its exit, and how many pipes closed. Callers without a runtime (`Drop`)
//! wait on the same channels with [`block_on_timeout`].

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use url::Url;

use crate::Exit;
use crate::handshake::{HandshakeError, LineSplitter, strip_ansi};
use crate::logs::{Logs, MAX_LINE, Rings, Stream};
use crate::ready::{Ready, Seen};

/// How many notes of lines that did not count a timeout error shows.
const MAX_NOTES: usize = 3;

/// Both pipes, stdout and stderr, have a reader thread each.
const STREAMS: u8 = 2;

/// How long to wait, once a server is dead, for its pipes to close so that its output is complete.
/// Only a process still holding the pipes makes this wait that long: a member of its group when
/// the group was not killed, or a descendant that escaped the group.
pub(crate) const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// How far a server got towards readiness.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Starting,
    Ready {
        listeners: BTreeMap<String, Url>,
        /// The line that said so (empty when readiness came from `/proc`).
        line: String,
        /// The pid the handshake announced, if readiness came from one.
        pid: Option<u32>,
    },
    Malformed(HandshakeError),
    /// The server announced loopback although it was asked to bind a host (see
    /// [`Seen::IgnoredHost`]).
    IgnoredHost(String),
}

/// State shared by a server's handle and its threads.
#[derive(Debug)]
pub(crate) struct Monitor {
    name: String,
    echo: bool,
    rings: Mutex<Rings>,
    notes: Mutex<Vec<String>>,
    /// Leaves [`Phase::Starting`] once, and never changes again.
    phase: watch::Sender<Phase>,
    /// Set once an echo write failed (stderr closed, `| head`): echoing stops, draining goes on.
    echo_broken: AtomicBool,
    /// Set once, by whoever sees the exit first.
    exit: watch::Sender<Option<Exit>>,
    closed_streams: watch::Sender<u8>,
    /// The file every line is also appended to ([`Server::log_file`](crate::Server::log_file)).
    log: Option<std::fs::File>,
    /// Set once a write to `log` failed: the copy stops, draining goes on.
    log_broken: AtomicBool,
}

impl Monitor {
    pub(crate) fn new(name: String, echo: bool, log: Option<std::fs::File>) -> Arc<Self> {
        Arc::new(Self {
            name,
            echo,
            rings: Mutex::default(),
            notes: Mutex::default(),
            phase: watch::channel(Phase::Starting).0,
            echo_broken: AtomicBool::new(false),
            exit: watch::channel(None).0,
            closed_streams: watch::channel(0).0,
            log,
            log_broken: AtomicBool::new(false),
        })
    }

    /// Starts draining `pipe` on its own thread, checking lines against `ready` until settled.
    pub(crate) fn drain(
        self: &Arc<Self>,
        pipe: impl Read + Send + 'static,
        stream: Stream,
        ready: Option<Ready>,
    ) -> std::io::Result<()> {
        let monitor = Arc::clone(self);
        std::thread::Builder::new()
            .name(format!("harness-{stream}"))
            .spawn(move || monitor.drain_loop(pipe, stream, ready))
            .map(drop)
    }

    fn drain_loop(&self, mut pipe: impl Read, stream: Stream, mut ready: Option<Ready>) {
        let mut splitter = LineSplitter::new(MAX_LINE);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let lines = splitter.push(&buf[..n]);
                    self.take(stream, lines, &mut ready);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if let Some(last) = splitter.finish() {
            self.take(stream, vec![last], &mut ready);
        }
        self.closed_streams.send_modify(|n| *n += 1);
    }

    /// Keeps a note of what was seen for a timeout error: the first few only.
    fn note(&self, note: String) {
        // Nothing panics under this lock, so it is never poisoned.
        let mut notes = self.notes.lock().expect("the notes lock is never poisoned");
        if notes.len() < MAX_NOTES && !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// What was seen on the way to readiness that did not count, for a timeout error.
    pub(crate) fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .expect("the notes lock is never poisoned")
            .clone()
    }

    fn take(&self, stream: Stream, lines: Vec<String>, ready: &mut Option<Ready>) {
        if lines.is_empty() {
            return;
        }
        if ready.is_some() && !matches!(*self.phase.borrow(), Phase::Starting) {
            *ready = None;
        }
        let echo = self.echo && !self.echo_broken.load(Ordering::Relaxed);
        let mut echoed = Vec::new();
        let mut logged = String::new();
        // Readiness is published under the rings' lock, so whoever sees it also sees the line.
        // The one lock that recovers from poison: the readiness rule runs under it, and its
        // warnings reach a user's `tracing` subscriber, which may panic; the logs stay readable.
        let mut rings = self.rings.lock().unwrap_or_else(|e| e.into_inner());
        for raw in lines {
            let raw_len = raw.len();
            let text = strip_ansi(&raw);
            if let Some(rule) = ready.as_ref() {
                let settle = match rule.check(&text) {
                    Seen::Nothing => {
                        if rule.is_handshake()
                            && let Some(fragment) = crate::ready::looks_like_announcement(&text)
                        {
                            self.note(format!(
                                "saw {fragment:?} in line {text:?}, but no harness handshake; if the server cannot print one, wait for that line instead: Ready::line(r\"...(?P<port>\\d+)\") (CLI: --ready NAME=REGEX)"
                            ));
                        }
                        None
                    }
                    Seen::Rejected { line, why } => {
                        self.note(crate::ready::rejected_note(&line, &why));
                        None
                    }
                    Seen::Ready { listeners, pid } => Some(Phase::Ready {
                        listeners,
                        line: text.clone(),
                        pid,
                    }),
                    Seen::Malformed(e) => Some(Phase::Malformed(e)),
                    Seen::IgnoredHost(why) => Some(Phase::IgnoredHost(why)),
                };
                if let Some(phase) = settle {
                    *ready = None;
                    // The other pipe's thread may have settled it first; the first one wins.
                    self.phase.send_if_modified(|seen| {
                        let first = matches!(seen, Phase::Starting);
                        if first {
                            *seen = phase;
                        }
                        first
                    });
                }
            }
            if echo {
                echoed.push(text.clone());
            }
            if self.log.is_some() {
                logged.push_str(&text);
                logged.push('\n');
            }
            rings.push(stream, text, raw_len);
        }
        drop(rings);
        // One append per batch: the file is opened for appending, so the two pipes' threads never
        // overwrite each other's lines.
        if let Some(mut file) = self.log.as_ref()
            && !logged.is_empty()
            && !self.log_broken.load(Ordering::Relaxed)
            && file.write_all(logged.as_bytes()).is_err()
        {
            self.log_broken.store(true, Ordering::Relaxed);
        }
        // Echoed outside the lock: a slow stderr must not hold up `logs()`. Never `eprintln!`:
        // it panics when stderr is gone, which would end this thread, stop the draining and
        // leave the server blocked on a full pipe.
        if !echoed.is_empty() {
            let mut err = std::io::stderr().lock();
            for text in echoed {
                if writeln!(err, "[{}] {text}", self.name).is_err() {
                    self.echo_broken.store(true, Ordering::Relaxed);
                    break;
                }
            }
        }
    }

    /// Starts the thread that waits for `pid` to exit (without reaping it). A wait that fails is
    /// published as [`Exit::Unknown`], never as a status nobody saw.
    pub(crate) fn watch_exit(self: &Arc<Self>, pid: u32) -> std::io::Result<()> {
        let monitor = Arc::clone(self);
        std::thread::Builder::new()
            .name("harness-wait".into())
            .spawn(move || {
                let exit = match crate::process::wait_exit(pid) {
                    Ok(status) => Exit::from(status),
                    Err(e) => Exit::Unknown {
                        why: format!("waiting for pid {pid} failed: {e}"),
                    },
                };
                monitor.publish_exit(exit);
            })
            .map(drop)
    }

    /// Records the exit. The wait thread and [`Self::check_exit`] may both publish it; the first
    /// one wins.
    fn publish_exit(&self, exit: Exit) {
        self.exit.send_if_modified(|seen| {
            if seen.is_some() {
                return false;
            }
            *seen = Some(exit);
            true
        });
    }

    /// The exit status of `pid`, asking the OS now rather than trusting the wait thread to have
    /// caught up: a caller that just saw a consequence of the exit (a refused connection, say)
    /// must not be told the server still runs. `pid` must not have been reaped yet.
    pub(crate) fn check_exit(&self, pid: u32) -> Option<Exit> {
        if let Some(exit) = self.exit_status() {
            return Some(exit);
        }
        let exit = match crate::process::try_exit(pid) {
            Ok(status) => Exit::from(status?),
            // The wait thread sees the same failure and publishes it as unknown.
            Err(_) => return None,
        };
        self.publish_exit(exit.clone());
        Some(exit)
    }

    /// Waits until the server is ready or printed a malformed handshake.
    pub(crate) async fn settled(&self) -> Phase {
        let mut phase = self.phase.subscribe();
        let settled = phase
            .wait_for(|p| !matches!(p, Phase::Starting))
            .await
            .map(|p| p.clone());
        // The sender lives in `self`, so the channel cannot close while we wait.
        settled.unwrap_or(Phase::Starting)
    }

    /// Waits until the server has exited (or its exit is known to be unobservable).
    pub(crate) async fn exited(&self) -> Exit {
        let mut exit = self.exit.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        match exit.wait_for(Option::is_some).await {
            Ok(seen) => seen.clone().expect("waited for Some"),
            Err(_) => Exit::Unknown {
                why: "the harness stopped watching the server".into(),
            },
        }
    }

    /// The exit, if the server has exited.
    pub(crate) fn exit_status(&self) -> Option<Exit> {
        self.exit.borrow().clone()
    }

    /// Blocks until the server has exited, at most `limit`.
    pub(crate) fn wait_exit_blocking(&self, limit: Duration) -> Option<Exit> {
        block_on_timeout(self.exited(), limit)
    }

    /// Waits until both pipes are closed, at most until `deadline` (a process that escaped the
    /// group may hold them open). Returns whether they closed: their reader threads have then
    /// recorded everything the server wrote.
    pub(crate) async fn wait_drained(&self, deadline: tokio::time::Instant) -> bool {
        let mut closed = self.closed_streams.subscribe();
        tokio::time::timeout_at(deadline, closed.wait_for(|n| *n >= STREAMS))
            .await
            .is_ok()
    }

    /// [`wait_drained`](Self::wait_drained) for callers without a runtime (`Drop`).
    pub(crate) fn wait_drained_blocking(&self, limit: Duration) -> bool {
        let mut closed = self.closed_streams.subscribe();
        block_on_timeout(closed.wait_for(|n| *n >= STREAMS), limit).is_some()
    }

    pub(crate) fn logs(&self) -> Logs {
        self.rings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .snapshot()
    }
}

/// Wakes the thread that blocks in [`block_on_timeout`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it is done, at most `limit`; `None` if it was not done in
/// time. For waiting on a `watch` channel without a runtime (`Drop` may run outside one, or on a
/// runtime thread that must not `block_on`). Unconstrained: inside a task whose cooperative budget
/// is spent, a constrained poll would return `Pending` and wake at once, spinning until `limit`.
fn block_on_timeout<F: Future>(future: F, limit: Duration) -> Option<F::Output> {
    let deadline = Instant::now() + limit;
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(tokio::task::coop::unconstrained(future));
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        // A spurious or early unpark only costs one more poll.
        std::thread::park_timeout(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_timeout_sees_a_send_from_another_thread() {
        let (tx, mut rx) = watch::channel(0u8);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send_replace(1);
            tx
        });
        let seen = block_on_timeout(rx.wait_for(|n| *n == 1), Duration::from_secs(10));
        assert_eq!(seen.map(|n| *n.expect("the sender is alive")), Some(1));
        drop(sender.join());
    }

    #[test]
    fn block_on_timeout_gives_up_at_the_limit() {
        let (_tx, mut rx) = watch::channel(0u8);
        let start = Instant::now();
        let seen = block_on_timeout(rx.wait_for(|n| *n == 1), Duration::from_millis(50));
        assert!(seen.is_none());
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[tokio::test]
    async fn block_on_timeout_inside_a_task_with_its_budget_spent() {
        // Spend the task's cooperative budget without yielding (each ready `changed` costs one
        // unit), then block: an unconstrained poll still sees the value; a constrained one would
        // return `Pending` until the limit.
        let (tx, mut rx) = watch::channel(0u8);
        let noop = Waker::noop();
        let mut cx = Context::from_waker(noop);
        while tokio::task::coop::has_budget_remaining() {
            tx.send_replace(0);
            assert!(pin!(rx.changed()).poll(&mut cx).is_ready());
        }
        tx.send_replace(1);
        let seen = block_on_timeout(rx.wait_for(|n| *n == 1), Duration::from_secs(10));
        assert_eq!(seen.map(|n| *n.expect("the sender is alive")), Some(1));
    }
}
