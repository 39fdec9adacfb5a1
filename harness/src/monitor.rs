//! The threads that watch a spawned server: one drains each pipe, one waits for the exit.
//!
//! They are plain OS threads, not tokio tasks, on purpose: a server shared by many `#[tokio::test]`s
//! outlives the runtime of the test that started it, and its pipes must keep draining after that
//! runtime is gone, or the server blocks on a full pipe. They report through `watch` channels, which
//! need no runtime to send on.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

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
    },
    Malformed(HandshakeError),
}

/// State shared by a server's handle and its threads.
#[derive(Debug)]
pub(crate) struct Monitor {
    name: String,
    echo: bool,
    rings: Mutex<Rings>,
    notes: Mutex<Vec<String>>,
    settled: AtomicBool,
    phase: watch::Sender<Phase>,
    /// Set once an echo write failed (stderr closed, `| head`): echoing stops, draining goes on.
    echo_broken: AtomicBool,
    exit: watch::Sender<Option<Exit>>,
    exit_sync: (Mutex<Option<Exit>>, Condvar),
    closed_streams: watch::Sender<u8>,
    drained_sync: (Mutex<u8>, Condvar),
}

impl Monitor {
    pub(crate) fn new(name: String, echo: bool) -> Arc<Self> {
        Arc::new(Self {
            name,
            echo,
            rings: Mutex::default(),
            notes: Mutex::default(),
            settled: AtomicBool::new(false),
            phase: watch::channel(Phase::Starting).0,
            echo_broken: AtomicBool::new(false),
            exit: watch::channel(None).0,
            exit_sync: (Mutex::new(None), Condvar::new()),
            closed_streams: watch::channel(0).0,
            drained_sync: (Mutex::new(0), Condvar::new()),
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
        let (lock, cvar) = &self.drained_sync;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        cvar.notify_all();
        self.closed_streams.send_modify(|n| *n += 1);
    }

    /// Keeps a note of what was seen for a timeout error: the first few only.
    fn note(&self, note: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        if notes.len() < MAX_NOTES && !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// What was seen on the way to readiness that did not count, for a timeout error.
    pub(crate) fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn take(&self, stream: Stream, lines: Vec<String>, ready: &mut Option<Ready>) {
        if lines.is_empty() {
            return;
        }
        if ready.is_some() && self.settled.load(Ordering::Acquire) {
            *ready = None;
        }
        let echo = self.echo && !self.echo_broken.load(Ordering::Relaxed);
        let mut echoed = Vec::new();
        // Readiness is published under the rings' lock, so whoever sees it also sees the line.
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
                    Seen::Ready(listeners) => Some(Phase::Ready {
                        listeners,
                        line: text.clone(),
                    }),
                    Seen::Malformed(e) => Some(Phase::Malformed(e)),
                };
                if let Some(phase) = settle {
                    *ready = None;
                    if !self.settled.swap(true, Ordering::AcqRel) {
                        self.phase.send_replace(phase);
                    }
                }
            }
            if echo {
                echoed.push(text.clone());
            }
            rings.push(stream, text, raw_len);
        }
        drop(rings);
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

    /// Records the exit, for the waiters of both kinds. The wait thread and [`Self::check_exit`]
    /// may both publish it; the first one wins.
    fn publish_exit(&self, exit: Exit) {
        let (lock, cvar) = &self.exit_sync;
        {
            let mut seen = lock.lock().unwrap_or_else(|e| e.into_inner());
            if seen.is_none() {
                *seen = Some(exit.clone());
            }
        }
        cvar.notify_all();
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
        let (lock, cvar) = &self.exit_sync;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cvar
            .wait_timeout_while(guard, limit, |exit| exit.is_none())
            .unwrap_or_else(|e| e.into_inner());
        guard.clone()
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
        let (lock, cvar) = &self.drained_sync;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cvar
            .wait_timeout_while(guard, limit, |n| *n < STREAMS)
            .unwrap_or_else(|e| e.into_inner());
        *guard >= STREAMS
    }

    pub(crate) fn logs(&self) -> Logs {
        self.rings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .snapshot()
    }
}
