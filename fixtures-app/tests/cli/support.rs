//! A spawned fixture app whose output is read on background threads and waited on with deadlines.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use harness::handshake::{self, Handshake};
use rustix::process::{Pid, Signal, kill_process};

/// Deadline for things that should happen promptly but may be slowed by a busy machine.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

enum Event {
    Line(Stream, String),
    Eof,
}

/// A running `fixtures-app`; dropping it kills the app and any pid handed to [`Fixture::also_kill`].
pub(crate) struct Fixture {
    args: Vec<String>,
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Event>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    open_streams: usize,
    status: Option<ExitStatus>,
    also_kill: Vec<u32>,
}

impl Fixture {
    /// The binary with a clean environment (none of its variables inherited) and piped stdio.
    pub(crate) fn command() -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fixtures-app"));
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("FIXTURES_")
                || ["PORT", "HARNESS_INSTANCE_ID", "RUST_LOG"].contains(&name.as_ref())
            {
                command.env_remove(name.as_ref());
            }
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Spawns the binary with `args`.
    pub(crate) fn spawn(args: &[&str]) -> Self {
        let mut command = Self::command();
        command.args(args);
        Self::spawn_command(command)
    }

    /// Spawns a command made by [`Fixture::command`].
    pub(crate) fn spawn_command(mut command: Command) -> Self {
        let args = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut child = command.spawn().expect("spawn fixtures-app");
        let (tx, events) = mpsc::channel();
        read_lines(Stream::Stdout, child.stdout.take().unwrap(), tx.clone());
        read_lines(Stream::Stderr, child.stderr.take().unwrap(), tx);
        Self {
            args,
            stdin: child.stdin.take(),
            child,
            events,
            stdout: Vec::new(),
            stderr: Vec::new(),
            open_streams: 2,
            status: None,
            also_kill: Vec::new(),
        }
    }

    /// The app's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every stdout line read so far.
    pub(crate) fn stdout(&self) -> &[String] {
        &self.stdout
    }

    /// Every stderr line read so far.
    pub(crate) fn stderr(&self) -> &[String] {
        &self.stderr
    }

    /// Kills `pid` too when this fixture is dropped.
    pub(crate) fn also_kill(&mut self, pid: u32) {
        self.also_kill.push(pid);
    }

    /// Offers `found` every line recorded so far, then reads new lines, until it returns true for
    /// one (true), or until `timeout` passes or both pipes close (false). Every line is recorded.
    ///
    /// Replaying the recorded lines first matters: the two pipes race, so a line a test waits for
    /// may already have been read (and recorded) while it waited for a line on the other pipe.
    pub(crate) fn wait_until(
        &mut self,
        timeout: Duration,
        mut found: impl FnMut(Stream, &str) -> bool,
    ) -> bool {
        let recorded = self.stdout.iter().map(|l| (Stream::Stdout, l));
        let mut recorded = recorded.chain(self.stderr.iter().map(|l| (Stream::Stderr, l)));
        if recorded.any(|(stream, line)| found(stream, line)) {
            return true;
        }
        let deadline = Instant::now() + timeout;
        while self.open_streams > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Line(stream, line)) => {
                    let hit = found(stream, &line);
                    match stream {
                        Stream::Stdout => self.stdout.push(line),
                        Stream::Stderr => self.stderr.push(line),
                    }
                    if hit {
                        return true;
                    }
                }
                Ok(Event::Eof) => self.open_streams -= 1,
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => self.open_streams = 0,
            }
        }
        false
    }

    /// Waits for a line on `stream` that contains `needle`, and returns it.
    pub(crate) fn wait_for(&mut self, stream: Stream, needle: &str, timeout: Duration) -> String {
        let mut hit = None;
        let found = self.wait_until(timeout, |s, line| {
            let yes = s == stream && line.contains(needle);
            if yes {
                hit = Some(line.to_owned());
            }
            yes
        });
        assert!(
            found,
            "no {stream:?} line containing {needle:?} within {timeout:?}\n{self}"
        );
        hit.unwrap()
    }

    /// Waits for a line on stdout that is meant as a handshake and returns it raw.
    pub(crate) fn handshake_line(&mut self, timeout: Duration) -> Option<String> {
        let mut hit = None;
        self.wait_until(timeout, |stream, line| {
            let yes = stream == Stream::Stdout && handshake::detect(line).is_some();
            if yes {
                hit = Some(line.to_owned());
            }
            yes
        });
        hit
    }

    /// Waits for a valid handshake naming this process.
    pub(crate) fn handshake(&mut self, timeout: Duration) -> Handshake {
        let Some(line) = self.handshake_line(timeout) else {
            panic!("no handshake within {timeout:?}\n{self}");
        };
        let parsed = handshake::parse(&line).unwrap_or_else(|e| panic!("{e}\n{self}"));
        assert_eq!(parsed.pid, self.pid(), "{self}");
        parsed
    }

    /// Reads output until both pipes close or `timeout` passes.
    pub(crate) fn drain(&mut self, timeout: Duration) {
        self.wait_until(timeout, |_, _| false);
        assert_eq!(
            self.open_streams, 0,
            "pipes still open after {timeout:?}\n{self}"
        );
    }

    /// Sends `signal` to the app.
    pub(crate) fn signal(&self, signal: Signal) {
        kill_process(pid(self.pid()), signal).expect("send signal");
    }

    /// Closes the app's stdin.
    pub(crate) fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// The exit status, if the app has exited.
    pub(crate) fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    /// Waits for the app to exit, polling until `timeout`; panics if it is still running.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running {timeout:?} later\n{self}"
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl fmt::Display for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: fixtures-app {}", self.args.join(" "))?;
        writeln!(f, "pid: {}, status: {:?}", self.child.id(), self.status)?;
        for (name, lines) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let skip = lines.len().saturating_sub(20);
            writeln!(f, "--- {name} ({} lines, last 20) ---", lines.len())?;
            for line in &lines[skip..] {
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for &extra in &self.also_kill {
            let _ = kill_process(pid(extra), Signal::KILL);
        }
        if self.try_status().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn pid(raw: u32) -> Pid {
    Pid::from_raw(i32::try_from(raw).unwrap()).expect("a positive pid")
}

/// Forwards `pipe`'s lines to `tx` from a background thread, then its end. Invalid UTF-8 is
/// replaced, as the harness does: the app under test never prints it, so no test needs more.
fn read_lines(stream: Stream, pipe: impl Read + Send + 'static, tx: Sender<Event>) {
    thread::spawn(move || {
        for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line).into_owned();
            if tx.send(Event::Line(stream, line)).is_err() {
                return;
            }
        }
        let _ = tx.send(Event::Eof);
    });
}

/// `GET path` over a fresh HTTP/1.1 connection; returns the status code and the body.
pub(crate) fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = test_support::http::get(&format!("http://{addr}{path}"));
    (response.status, response.body)
}

/// `GET path` expecting 200 and a JSON body.
pub(crate) fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, body) = http_get(addr, path);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}
