//! `harness run` never reports a pass nobody saw: a parent that ignores SIGCHLD, a stderr that is
//! closed or goes away, an interrupted run, a server URL with a query.

use std::io::{PipeReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use crate::support::{
    LIMIT, MARKER_KEY, Running, fixtures_app, harness, harness_bin, unique, with_suite_setup,
};

/// Starts `harness` with `args` from a Python parent that ignores SIGCHLD, as some supervisors
/// and shells do; the ignored disposition is inherited across `exec`.
fn run_with_sigchld_ignored(args: &[&str]) -> crate::support::Output {
    let mut cmd = Command::new("python3");
    cmd.args([
        "-c",
        "import os, signal, sys\n\
         signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n\
         os.execv(sys.argv[1], sys.argv[1:])",
        harness_bin(),
    ])
    .args(args);
    Running::start(with_suite_setup(cmd)).wait(LIMIT)
}

#[test]
fn a_parent_that_ignores_sigchld_cannot_turn_a_failure_into_a_pass() {
    let web = format!("web={}", fixtures_app());
    let out = run_with_sigchld_ignored(&["run", "--server", &web, "--", "false"]);
    assert_eq!(
        out.code(),
        Some(1),
        "`false` failed, so must harness: {out}"
    );
    let out = run_with_sigchld_ignored(&["run", "--server", &web, "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.code(), Some(7), "{out}");
    // The test command itself gets SIGCHLD back at its default: its own waits work too.
    let out = run_with_sigchld_ignored(&[
        "run",
        "--server",
        &web,
        "--",
        "python3",
        "-c",
        "import signal, sys; sys.exit(0 if signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL else 9)",
    ]);
    assert_eq!(out.code(), Some(0), "{out}");
    let out = run_with_sigchld_ignored(&["run", "--server", &web, "--", "true"]);
    assert_eq!(out.code(), Some(0), "{out}");
}

/// Waits (at most [`LIMIT`]) for `child` to exit.
fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("harness still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `harness` with `args`, its stderr a pipe whose read end the caller holds (`Some`) or
/// that is already closed (`None`), its stdout collected. Returns the child and the read end.
fn spawn_with_stderr_pipe(args: &[&str], keep_reader: bool) -> (Child, Option<PipeReader>) {
    let (reader, writer) = std::io::pipe().unwrap();
    let reader = if keep_reader {
        Some(reader)
    } else {
        drop(reader);
        None
    };
    let mut cmd = harness(args);
    cmd.stderr(Stdio::from(writer));
    let child = cmd.spawn().expect("spawn harness");
    drop(cmd); // Our copy of the write end, or the pipe would never end.
    (child, reader)
}

/// The whole stdout of a finished `harness` (waiting at most 10 s for it to end).
fn stdout_of(child: &mut Child) -> String {
    let mut stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("harness exited but its stdout stayed open (a leaked process?)")
}

#[test]
fn a_closed_stderr_changes_no_exit_status() {
    let web = format!("web={}", fixtures_app());
    let cases: &[(&[&str], i32)] = &[
        // A usage error is one line on stderr.
        (&["run", "--ready-timeout", "0", "--", "true"], 2),
        // A failing test command makes harness print the servers' last lines.
        (&["run", "--server", &web, "--", "sh", "-c", "exit 3"], 3),
        (&["run", "--logs", "--server", &web, "--", "true"], 0),
        (&["run", "--server", &web, "--", "true"], 0),
    ];
    for (args, want) in cases {
        let (mut child, _) = spawn_with_stderr_pipe(args, false);
        let status = wait_bounded(&mut child);
        let stdout = stdout_of(&mut child);
        assert_eq!(
            status.code(),
            Some(*want),
            "harness {args:?} with stderr closed: {status} (101 is a panic)\n{stdout}"
        );
    }
}

/// The test command of the drain test: waits (at most 30 s) until server `WEB` has written
/// `sys.argv[1]` bytes (its stdout flood, which only a reader draining its pipe lets through),
/// then GETs `hello` from it and exits with `sys.argv[2]`.
const AFTER_FLOOD: &str = "import os, sys, time, urllib.request as u
want, code = int(sys.argv[1]), int(sys.argv[2])
pid = os.environ['WEB_PID']
deadline = time.monotonic() + 30
written = 0
while time.monotonic() < deadline:
    with open(f'/proc/{pid}/io') as f:
        written = int(next(l for l in f if l.startswith('wchar:')).split()[1])
    if written >= want:
        break
    time.sleep(0.02)
print(f'written={written}', flush=True)
if written < want:
    print('FLOOD-STUCK', flush=True)
    sys.exit(1)
opener = u.build_opener(u.ProxyHandler({}))
print(opener.open(os.environ['WEB_URL'] + 'hello', timeout=10).read().decode(), flush=True)
sys.exit(code)";

#[test]
fn logs_keep_draining_after_the_stderr_reader_goes_away() {
    const FLOOD: u64 = 4_000_000;
    let web = format!("web={} --stdout-bytes-after {FLOOD}", fixtures_app());
    for code in [0, 3] {
        let code_text = code.to_string();
        let flood_text = FLOOD.to_string();
        let (mut child, reader) = spawn_with_stderr_pipe(
            &[
                "run",
                "--logs",
                "--server",
                &web,
                "--",
                "python3",
                "-c",
                AFTER_FLOOD,
                &flood_text,
                &code_text,
            ],
            true,
        );
        // `2>&1 | head -c 2000`: read 2000 bytes of the echo, then close the pipe.
        let mut reader = reader.expect("the read end");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut first = vec![0; 2000];
            let read = reader.read_exact(&mut first).map(|()| first);
            let _ = tx.send(read);
            // `reader` is dropped here: the pipe is closed while the server still floods.
        });
        let first = rx
            .recv_timeout(LIMIT)
            .expect("2000 bytes of echo in time")
            .expect("2000 bytes of echo");
        assert!(
            String::from_utf8_lossy(&first).contains("[web] "),
            "the echo had started: {}",
            String::from_utf8_lossy(&first)
        );
        let status = wait_bounded(&mut child);
        let stdout = stdout_of(&mut child);
        assert!(
            stdout.contains("Hello World"),
            "the server kept being drained and answering: {status}\n{stdout}"
        );
        assert_eq!(
            status.code(),
            Some(code),
            "the test command's status, no SIGPIPE death, no panic: {status}\n{stdout}"
        );
    }
}

/// `harness run -- sh -c ...` whose command traps `signal` and exits 0; returns harness's status
/// after `signal` reached it.
fn interrupted_run(signal: &str) -> crate::support::Output {
    let script =
        format!("trap 'echo CAUGHT; exit 0' {signal}; echo READY; while :; do sleep 0.1; done");
    let run = Running::start(harness(&["run", "--", "sh", "-c", &script]));
    run.line(LIMIT, |l| l == "READY");
    run.signal(signal);
    run.wait(Duration::from_secs(30))
}

#[test]
fn an_interrupted_run_is_never_a_pass() {
    let out = interrupted_run("INT");
    assert!(out.stdout.contains("CAUGHT"), "the command exited 0: {out}");
    assert_eq!(out.code(), Some(130), "{out}");
    let out = interrupted_run("TERM");
    assert!(out.stdout.contains("CAUGHT"), "the command exited 0: {out}");
    assert_eq!(out.code(), Some(143), "{out}");
}

#[test]
fn a_query_or_fragment_in_a_servers_url_stays_out_of_name_url() {
    // A real HTTP server on an OS-assigned port, announcing its URL with a path, query and fragment.
    let server = "q=python3 -c \"import http.server as h; \
        s = h.HTTPServer(('127.0.0.1', 0), h.SimpleHTTPRequestHandler); \
        print('ready http://127.0.0.1:%d/app?x=1#top' % s.server_port, flush=True); \
        s.serve_forever()\"";
    let out = crate::support::run(&[
        "run",
        "--server",
        server,
        "--ready",
        r"q=ready (?P<url>\S+)",
        "--",
        "sh",
        "-c",
        r#"echo "url=$Q_URL"; test "$Q_URL" = "http://127.0.0.1:$Q_PORT/app/""#,
    ]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("/app/\n"), "{out}");
}

/// A server whose child leaves the process group (`setsid`) and keeps the output pipes: when
/// `harness run` stops the server, it names the escapee instead of staying silent.
#[test]
fn a_process_that_escaped_a_server_is_reported_as_a_leak() {
    // The handshake comes only once the sleep has left the group: a stop before its `setsid`
    // would kill it with the group, and there would be no leak to report.
    let server = r#"esc=sh -c 'setsid sleep 30 & n=0; until [ "$(cut -d" " -f5 /proc/$!/stat)" != $$ ] || [ $n -ge 500 ]; do n=$((n+1)); sleep 0.01; done; echo "{\"harness\":1,\"pid\":$$,\"listening\":{\"http\":\"http://127.0.0.1:9\"}}"; exec sleep 60'"#;
    let marker = unique();
    let mut cmd = harness(&["run", "--server", server, "--", "true"]);
    cmd.env(MARKER_KEY, &marker);
    let out = Running::start(cmd).wait(LIMIT);
    // The escapee carries the test's marker; end it whatever the assertions say.
    let escapees = crate::support::processes_marked(&marker);
    for (pid, _) in &escapees {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert_eq!(out.code(), Some(0), "{out}");
    let leak = out
        .stderr
        .lines()
        .find(|l| l.starts_with("harness: LEAK: server `esc`"))
        .unwrap_or_else(|| panic!("no leak warning: {out}"));
    assert!(leak.contains("(sleep 30)"), "{leak}");
    let (pid, _) = escapees
        .iter()
        .find(|(_, name)| name == "sleep")
        .unwrap_or_else(|| panic!("the escapee is still there to be named: {out}"));
    assert!(leak.contains(&format!("pid {pid} ")), "{leak}");
}
