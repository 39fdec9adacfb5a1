//! The `harness` command-line tool: the library's [`Server`](crate::Server) guarantees for any
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
//!   {"servers":{"web":{"url":"http://127.0.0.1:41507/","port":41507,"pid":123}},"webdriver_url":"http://127.0.0.1:9515/"}
//!   ```
//!
//! Options of both: `--server NAME=COMMAND` (repeatable; COMMAND split like a POSIX shell would),
//! `--ready NAME=REGEX` (a regex with a named group `url` or `port`, tried on every stdout and
//! stderr line; without it the v1 handshake), `--health NAME=PATH`, `--ready-timeout SECS` (30),
//! `--grace SECS` (5), `--browser chrome|firefox`. `run` also takes `--logs`, which streams server
//! logs to stderr with a `[NAME]` prefix; without it, the last 40 lines of each server's stdout and
//! stderr are shown only when something failed. `HARNESS_LOG=1` streams them too.
//!
//! `harness demo` shows both at work on this repository's fixtures-app: 4 servers and 4 headless
//! Chrome sessions in parallel, installing Chromium with apt-get first if it is missing and it may
//! (as root or with passwordless sudo). It exits 0 only when every check passed.
//!
//! # Environment of TEST_COMMAND
//! For each server, `NAME_URL` (its base URL, ending in `/`), `NAME_PORT` and `NAME_PID` (its
//! process; on Unix the leader of its process group), NAME upper-cased
//! with `-` turned into `_` (`--server web-api=...` gives `WEB_API_URL`); with `--browser`,
//! `WEBDRIVER_URL`.
//!
//! # Exit status
//! - `run`: TEST_COMMAND's own status, or 128+N if it died of signal N;
//! - 2: a usage error (bad option, unknown server name, program not found, bad regex...), found
//!   before anything starts and printed on one line as `harness: error: ...`;
//! - 3: a server or the driver did not become ready; the error on stderr says why (exited, with
//!   its status, or still running at the timeout) with the last lines of its output;
//! - 4: a server died while the tests ran (or while `serve` ran), said on stderr with its status
//!   and last lines, and the tests themselves passed (a failing test command keeps its own status);
//! - 126: TEST_COMMAND was found but could not be started;
//! - `serve`: 0 after a shutdown asked for by SIGINT or SIGTERM;
//! - 128+N: `harness` was killed at once by a second signal N (or stopped by one during startup).
//!
//! # Signals and cleanup
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

mod args;
mod demo;
mod exit;
mod plan;
mod run;
mod serve;
mod signals;
mod stack;
mod test_command;
mod usage;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use args::{Cli, Command};
use usage::UsageError;

const LONG_ABOUT: &str = "\
Start test servers on OS-assigned ports, run tests against them, and never leak a process.

Every server leads its own process group and dies with `harness`, even when `harness` is \
SIGKILLed. Exit status: the test command's own (128+N after signal N); 2 usage error; 3 a server \
did not become ready; 4 a server died while the tests ran (tests passed).";

const RUN_EXAMPLE: &str = "\
Examples:
  harness run --server web=./target/debug/app -- cargo test --test e2e
  harness run --server 'py=python3 -m http.server 0 --bind 127.0.0.1' \\
      --ready 'py=port (?P<port>\\d+)' -- sh -c 'curl -f \"$PY_URL\"'";

/// Runs the `harness` command line and returns its exit status (see the [module docs](self)).
pub fn main() -> ExitCode {
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
            Command::Demo => demo::demo().await,
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

/// Prints a usage error on one line; exit status 2.
fn usage_error(error: &UsageError) -> ExitCode {
    eprintln!("harness: error: {error}");
    ExitCode::from(exit::USAGE)
}

/// Prints an unexpected failure of `harness` itself; exit status 1.
fn internal_error(what: &str, error: &dyn std::error::Error) -> ExitCode {
    eprintln!(
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
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let message = first.strip_prefix("error: ").unwrap_or(first).to_owned();
            usage_error(&UsageError::Clap { message })
        }
    }
}

/// The library's own diagnostics (`tracing`) go to stderr; `RUST_LOG` tunes them (default: warn).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
