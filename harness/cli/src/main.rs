//! The `harness` command-line tool: the library's [`Server`](harness::Server) guarantees for any
//! test command, in any language.
//!
//! # Commands
//! - `harness run [OPTIONS] -- TEST_COMMAND [ARGS...]` starts the servers (and browser driver)
//!   concurrently, runs TEST_COMMAND (without a shell) once all are ready, then stops everything.
//! - `harness serve [OPTIONS]` starts them, prints one JSON line on stdout, streams their logs to
//!   stderr, and runs until Ctrl-C or SIGTERM. The line (keys sorted, `webdriver_url` is `null`
//!   without `--browser`):
//!
//!   ```text
//!   {"servers":{"web":{"url":"http://127.0.0.1:41507/","port":41507,"pid":123}},"webdriver_url":"http://127.0.0.1:9515"}
//!   ```
//!
//! Options of both: `--server NAME=COMMAND` (repeatable; COMMAND split like a POSIX shell would),
//! `--ready NAME=REGEX` (a regex with a named group `url` or `port`, tried on every stdout and
//! stderr line; without it the v1 handshake), `--health NAME=PATH`, `--ready-timeout SECS` (30),
//! `--grace SECS` (5), `--browser chrome|firefox`. A `SECS` is more than 0 and at most a year. `run` also takes `--logs`, which streams server
//! logs to stderr with a `[NAME]` prefix; without it, the last 40 lines of each server's stdout and
//! stderr are shown only when something failed. `HARNESS_LOG=1` streams them too.
//!
//! `--host ADDR` makes every server reachable from other machines (the browsers of a Selenium
//! Grid): each is asked to bind ADDR, an address of this machine such as a bridge address, through
//! `HARNESS_HOST=ADDR` in its environment (fixtures-app binds it; a server of yours must too), and
//! its `NAME_URL` uses ADDR. The default is `HARNESS_HOST`, else loopback. `0.0.0.0`, `::` and an
//! address not on this machine are refused before anything starts (exit status 2); a server that
//! announces loopback instead fails at once (3).
//!
//! `--pool N` (1 to 64, with `--browser`) serves `WEBDRIVER_URL` from a pooling endpoint (below)
//! run inside `harness` instead of a bare driver, exported as `HARNESS_WEBDRIVER_POOL` too (and as
//! `serve`'s `webdriver_url`); `--isolation reset|context` as for `harness webdriver`.
//!
//! `harness webdriver [--browser chrome|firefox] [--pool N] [--isolation reset|context]
//! [--lease-timeout SECS] [--idle-timeout SECS]` runs only the pooling W3C WebDriver endpoint: it
//! binds `127.0.0.1:0`, starts the driver (one chromedriver; one geckodriver per Firefox session)
//! and N warm sessions (default 2) of the library's kind (headless, `--no-sandbox` as root, a
//! temporary profile each), prints the v1 handshake once the driver and the first of them are
//! up (the others warm up behind it; a lease waits for one)
//! `{"harness":1,"pid":PID,"listening":{"webdriver":"http://127.0.0.1:PORT"}}` (so it starts as a
//! library `Server`), and serves until SIGINT or SIGTERM. The browser defaults to
//! `HARNESS_BROWSER`, else Chrome.
//!
//! - `POST /session` leases an idle warm session (probed first: a crashed browser is replaced,
//!   never handed out) when the request asks for nothing the warm sessions lack: browserName (if
//!   any) the pool's, `pageLoadStrategy` normal, browser arguments only from `--headless`,
//!   `--headless=new`, `--no-sandbox`, `--disable-gpu`, `--disable-dev-shm-usage`,
//!   `--window-size=1280,800`, `-headless`, no extensions. `timeouts` are applied to the lease
//!   (and reset to the W3C defaults after it). Any other request gets a fresh one-off session
//!   with its capabilities merged over the library's defaults, deleted for real at its end, or a
//!   `session not created` error saying why. When every warm session is leased, the request
//!   waits up to `--lease-timeout` (30 s), then fails naming `--pool`.
//! - `DELETE /session/{id}` answers at once; the session is reset in the background and goes
//!   back to the pool (a failed reset discards and replaces it).
//! - Everything else under `/session/{id}/` is forwarded unchanged to the driver. Lease ids are
//!   the endpoint's own: a stale one gets `invalid session id`, never another lease's browser. A
//!   lease with no request for `--idle-timeout` (300 s) is reclaimed and its id invalidated.
//! - WebDriver BiDi is not proxied: `webSocketUrl` is stripped from requests and answers.
//! - Its drivers and browsers die with it, even when it is SIGKILLed.
//!
//! `harness demo` shows both at work on this repository's fixtures-app: 4 servers and 4 headless
//! Chrome sessions in parallel, installing Chromium with apt-get first if it is missing and it may
//! (as root or with passwordless sudo). It exits 0 only when every check passed.
//!
//! # Environment of TEST_COMMAND
//! For each server, `NAME_URL` (its base URL: the path ends in `/`, and a query or fragment the
//! server announced is dropped, so `"$WEB_URL"hello` is a path: `http://127.0.0.1:8080/app?x=1`
//! gives `http://127.0.0.1:8080/app/`), `NAME_PORT` and `NAME_PID` (its process; on Unix the leader
//! of its process group), NAME upper-cased with `-` turned into `_` (`--server web-api=...` gives
//! `WEB_API_URL`); with `--browser`, `WEBDRIVER_URL`, without a trailing `/`
//! (`http://127.0.0.1:9515`), as stock clients like Selenium expect; with `--pool`, the
//! endpoint's URL, in `HARNESS_WEBDRIVER_POOL` too. A server whose variables
//! would clash with `WEBDRIVER_URL` or `harness`'s own `HARNESS_*` settings (`--server
//! webdriver=...`, `--server harness-log=...`) is refused as a usage error.
//!
//! # Exit status
//! `harness run` exits 0 only when it saw TEST_COMMAND exit 0 (and no server died, and no signal
//! interrupted the run).
//!
//! - `run`: TEST_COMMAND's own status, or 128+N if it died of signal N;
//! - 1: `harness` itself failed (it could not start its async runtime or its signal handlers);
//! - 2: a usage error (bad option, unknown server name, program not found, bad regex...), found
//!   before anything starts and printed on one line as `harness: error: ...`;
//! - 3: a server or the driver did not become ready; the error on stderr says why (exited, with
//!   its status, or still running at the timeout) with the last lines of its output;
//! - 4: a server died while the tests ran (or while `serve` ran), said on stderr with its status
//!   and last lines, and the tests themselves passed (a failing test command keeps its own status);
//! - 5: TEST_COMMAND's exit could not be observed (waiting for it failed), said on stderr; never
//!   read as a pass;
//! - 126: TEST_COMMAND was found but could not be started;
//! - `serve`: 0 after a shutdown asked for by SIGINT or SIGTERM;
//! - 128+N: `run` was interrupted by signal N (130 for SIGINT, 143 for SIGTERM), whatever
//!   TEST_COMMAND returned, even 0 after trapping it; either command was killed at once by a
//!   second signal N, or stopped by one during startup.
//!
//! A closed or broken stderr (`harness run --logs ... 2>&1 | head`) changes none of these:
//! `harness` ignores failed writes to it (no SIGPIPE death, no panic) and keeps draining the
//! servers' logs.
//!
//! # Signals and cleanup
//! SIGCHLD is reset to its default first thing: a parent that ignores it (and so would have the
//! kernel reap `harness`'s children before anyone saw their exit) changes nothing.
//!
//! The first SIGINT or SIGTERM is passed on to TEST_COMMAND; when it exits, the servers are
//! stopped (SIGTERM to each process group, `--grace`, then SIGKILL). A second signal kills
//! everything at once. If `harness` itself is SIGKILLed, every server, driver and browser, with
//! all their descendants, dies with it (the library's parent-death signal and watchdog), and so
//! does TEST_COMMAND:
//!
//! - usually (stdin is not a terminal, or `harness` is not in the terminal's foreground: CI,
//!   scripts, test runners) TEST_COMMAND leads a process group of its own, protected like a server,
//!   so its whole tree dies with `harness`; SIGINT and SIGTERM are forwarded to that whole group;
//!   whatever it leaves running in its group when it exits is killed;
//! - interactively (stdin is the terminal and `harness` is in its foreground group) it stays in
//!   `harness`'s process group so it can still read the terminal and gets Ctrl-C straight from it
//!   (`harness` then forwards only SIGTERM); only the command itself has the parent-death signal,
//!   and the terminal's SIGHUP reaches the rest if the terminal goes away.

/// `eprintln!` that never panics: a closed or broken stderr (`harness ... 2>&1 | head`) must not
/// turn into a panic and exit 101, nor stop `harness` from finishing its work and its cleanup.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics (a reader that went away is no reason to stop).
macro_rules! say_out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod args;
mod demo;
mod exit;
mod lifetime;
mod plan;
mod presets;
mod run;
mod serve;
mod server_options;
mod signals;
mod stack;
mod test_command;
mod usage;
mod webdriver;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use args::{Cli, Command};
use usage::UsageError;

const LONG_ABOUT: &str = "\
Start test servers on OS-assigned ports, run tests against them, and never leak a process.

Every server leads its own process group and dies with `harness`, even when `harness` is \
SIGKILLed.

Exit status of `run`: 0 only when the test command was seen exiting 0; otherwise the test \
command's own code (128+N if it died of signal N); 1 harness itself failed; 2 usage error \
(nothing started); 3 a server or the driver did not become ready; 4 a server died while the tests \
ran (and they passed); 5 the test command's exit could not be observed; 126 the test command \
could not be started; 130 / 143 the run was interrupted by SIGINT / SIGTERM, whatever the test \
command returned.";

const RUN_EXAMPLE: &str = "\
Examples:
  harness run --server web=./target/debug/app -- cargo test --test e2e
  harness run --server 'py=python3 -m http.server 0 --bind 127.0.0.1' \\
      --ready 'py=port (?P<port>\\d+)' -- sh -c 'curl -f \"$PY_URL\"'";

/// Runs the `harness` command line and returns its exit status (see the [crate docs](crate)).
fn main() -> ExitCode {
    // Before anything is spawned: a parent that ignores SIGCHLD would make the kernel reap our
    // children itself, every wait would fail, and nobody would see the test command's exit.
    reset_sigchld();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(&error),
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return internal_error("start the async runtime", &error),
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Serve(args) => serve::serve(args).await,
            Command::Webdriver(args) => webdriver::command(args).await,
            Command::Demo => demo::demo().await,
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

/// Prints a usage error on one line; exit status 2.
fn usage_error(error: &UsageError) -> ExitCode {
    say!("harness: error: {error}");
    ExitCode::from(exit::USAGE)
}

/// Prints an unexpected failure of `harness` itself; exit status 1.
fn internal_error(what: &str, error: &dyn std::error::Error) -> ExitCode {
    say!(
        "harness: error: failed to {what}: {}",
        usage::one_line(error)
    );
    ExitCode::FAILURE
}

/// `--help` and `--version` as clap prints them; any other clap error on one line, status 2.
fn clap_exit(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(exit::USAGE)
        }
        kind => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let mut message = first.strip_prefix("error: ").unwrap_or(first).to_owned();
            // `harness run --server web=app pytest -x`: the test command needs a `--` before it.
            if kind == ErrorKind::UnknownArgument
                && let Some(clap::error::ContextValue::String(arg)) =
                    error.get(clap::error::ContextKind::InvalidArg)
                && !arg.starts_with('-')
            {
                message.push_str(&format!(
                    "; if `{arg}` starts the test command, put `--` before it: harness run --server ... -- {arg} ..."
                ));
            }
            usage_error(&UsageError::Clap { message })
        }
    }
}

/// Restores the default disposition of SIGCHLD, which an `exec` inherits when it was ignored.
fn reset_sigchld() {
    #[cfg(unix)]
    #[expect(
        unsafe_code,
        reason = "no safe API sets a signal's disposition back to the default"
    )]
    // SAFETY: called first thing in `main`, before any other thread exists; SIG_DFL installs no
    // handler, so no code of ours runs in signal context.
    unsafe {
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
    }
}

/// The library's own diagnostics (`tracing`) go to stderr; `RUST_LOG` tunes them (default: warn).
/// Unless `RUST_LOG` names `harness` itself, harness's warnings (a server that left processes
/// behind, a wait that failed) are always shown: a `RUST_LOG` meant for the test command must
/// not hide them.
fn init_tracing() {
    let directives = filter_directives(std::env::var("RUST_LOG").ok().as_deref());
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}

/// The tracing filter for `RUST_LOG`: `warn` without it, and `harness=warn` added unless it says
/// something about `harness`.
fn filter_directives(rust_log: Option<&str>) -> String {
    match rust_log.map(str::trim) {
        None | Some("") => "warn".to_owned(),
        Some(given) if given.split(',').any(|d| d.trim().starts_with("harness")) => {
            given.to_owned()
        }
        Some(given) => format!("{given},harness=warn"),
    }
}

#[cfg(test)]
mod tests {
    use super::filter_directives;

    #[test]
    fn harness_warnings_survive_an_unrelated_rust_log() {
        assert_eq!(filter_directives(None), "warn");
        assert_eq!(filter_directives(Some("")), "warn");
        assert_eq!(filter_directives(Some("error")), "error,harness=warn");
        assert_eq!(
            filter_directives(Some("myapp=debug")),
            "myapp=debug,harness=warn"
        );
        assert_eq!(filter_directives(Some("harness=off")), "harness=off");
    }
}
