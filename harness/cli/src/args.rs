//! The command line, as clap parses it. Values are kept as given and checked in
//! [`plan`](super::plan), so that every input error reads the same way and is found before anything
//! starts.

use std::ffi::OsString;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// `harness`: start test servers on OS-assigned ports, run tests against them, never leak them.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about, long_about = super::LONG_ABOUT)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start servers, run TEST_COMMAND against them, then stop everything.
    ///
    /// TEST_COMMAND gets NAME_URL, NAME_PORT and NAME_PID for each server (NAME upper-cased, `-`
    /// turned into `_`; NAME_URL ends its path with `/`, without query or fragment) and
    /// WEBDRIVER_URL (no trailing `/`) with --browser. Exit status: 0 only when TEST_COMMAND was
    /// seen exiting 0; otherwise its own code (128+N if it died of signal N); 1 harness itself
    /// failed; 2 a usage error; 3 a server did not become ready; 4 the tests passed but a server
    /// died while they ran; 5 TEST_COMMAND's exit could not be observed; 126 it could not be
    /// started; 130 / 143 the run was interrupted by SIGINT / SIGTERM, whatever it returned.
    #[command(after_help = super::RUN_EXAMPLE)]
    Run(RunArgs),
    /// Start servers and keep them running until Ctrl-C or SIGTERM.
    ///
    /// Once every server is ready, prints one JSON line on stdout:
    /// {"servers":{"NAME":{"url":"http://127.0.0.1:PORT/","port":PORT,"pid":PID}},"webdriver_url":"http://127.0.0.1:PORT"}
    /// (`webdriver_url` is null without --browser; each server also has its `instance_id`, and its
    /// `log` file with --log-dir). Server logs stream to stderr. It also stops when the
    /// --parent-pid process exits or, with --stdin-eof, when stdin ends; --detach returns once
    /// ready and leaves it running in the background. Exit status: 0 after a shutdown asked for by
    /// SIGINT or SIGTERM, the owner's exit or the end of stdin; 2 on a usage error; 3 if a server
    /// did not become ready; 4 if a server died.
    Serve(ServeArgs),
    /// Run a pooling W3C WebDriver endpoint in front of warm browser sessions.
    ///
    /// Binds 127.0.0.1:0, starts the driver(s) and --pool warm sessions, then prints the harness
    /// v1 handshake on stdout: {"harness":1,"pid":PID,"listening":{"webdriver":"http://127.0.0.1:PORT"}}
    /// (so `Server::new("harness").args(["webdriver"])` can start it), and serves until SIGINT or
    /// SIGTERM. POST /session leases a warm session (or opens a fresh one when the request asks
    /// for what the warm ones lack), DELETE /session/{id} resets it and puts it back, every other
    /// command is forwarded unchanged. WebDriver BiDi (webSocketUrl) is not proxied. Exit status:
    /// 0 after a signal-initiated shutdown; 2 on a usage error; 3 if it did not start; 4 if the
    /// chromedriver every session runs on died.
    Webdriver(WebdriverArgs),
    /// Show the harness at work: 4 fixtures-app instances and 4 headless Chrome sessions in parallel.
    ///
    /// Installs Chromium and chromedriver with apt-get when they are missing and this runs as root
    /// (or with passwordless sudo); otherwise prints the commands to run. Builds fixtures-app if
    /// needed. Each session fills in a form, clicks a counter and asks its server who it is; a
    /// table shows the results. Exit status: 0 when every check passed, 1 otherwise.
    Demo,
}

/// The servers (and browser driver) to start, shared by every subcommand.
#[derive(Debug, Args)]
pub(crate) struct StackArgs {
    /// A server to start: NAME=COMMAND, COMMAND split like a POSIX shell would and run without a
    /// shell. Repeatable; servers start concurrently.
    #[arg(long = "server", value_name = "NAME=COMMAND")]
    pub(crate) servers: Vec<String>,

    /// The readiness regex of server NAME, tried on every stdout and stderr line; it needs a named
    /// group `url` or `port`. Without it the server must print the harness v1 handshake.
    /// NAME=@PRESET picks a known server's line instead: @uvicorn, @flask, @vite, @express
    /// (and @chromedriver, @geckodriver).
    #[arg(long = "ready", value_name = "NAME=REGEX")]
    pub(crate) ready: Vec<String>,

    /// After server NAME is ready, GET PATH on it until it answers 2xx.
    #[arg(long = "health", value_name = "NAME=PATH")]
    pub(crate) health: Vec<String>,

    /// Seconds each server gets to become ready (health check included); at most a year.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds, allow_negative_numbers = true)]
    pub(crate) ready_timeout: Duration,

    /// Seconds between SIGTERM and SIGKILL when servers are stopped; at most a year.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds, allow_negative_numbers = true)]
    pub(crate) grace: Duration,

    /// Also start chromedriver or geckodriver on an OS-assigned port and export WEBDRIVER_URL.
    #[arg(long, value_name = "chrome|firefox")]
    pub(crate) browser: Option<String>,

    /// Server NAME prints nothing usable: it is ready once a process of its group listens on a TCP
    /// port (Linux, read from /proc), which becomes its URL. Instead of --ready.
    #[arg(long = "listening", value_name = "NAME")]
    pub(crate) listening: Vec<String>,

    /// Make every server reachable from other machines (the browsers of a Selenium Grid): each
    /// is asked to bind ADDR, an address of this machine such as a bridge address, through
    /// HARNESS_HOST=ADDR, and NAME_URL uses it. Default: HARNESS_HOST, else 127.0.0.1. A wildcard
    /// (0.0.0.0, ::) or an address not on this machine is refused before anything starts.
    #[arg(long, value_name = "ADDR")]
    pub(crate) host: Option<String>,

    /// An environment variable for server NAME only: NAME=KEY=VALUE. Repeatable.
    #[arg(long = "env", value_name = "NAME=KEY=VALUE")]
    pub(crate) env: Vec<String>,

    /// The working directory of server NAME: NAME=DIR (it must exist).
    #[arg(long = "cwd", value_name = "NAME=DIR")]
    pub(crate) cwd: Vec<String>,

    /// With --browser: serve WEBDRIVER_URL from a pooling endpoint in front of N warm sessions
    /// (1 to 64), also exported as HARNESS_WEBDRIVER_POOL; see `harness webdriver --help`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) pool: Option<u16>,

    /// With --pool: how leases of a warm session are kept apart.
    #[arg(
        long,
        value_enum,
        value_name = "reset|context",
        default_value = "reset"
    )]
    pub(crate) isolation: IsolationArg,
}

/// `--isolation`: how leases of one warm session are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum IsolationArg {
    /// The session is reset between leases (one window, about:blank, its data cleared).
    Reset,
    /// Each lease gets a new browser context.
    Context,
}

/// `harness webdriver`.
#[derive(Debug, Args)]
pub(crate) struct WebdriverArgs {
    /// The browser of every session (default: HARNESS_BROWSER, else chrome).
    #[arg(long, value_name = "chrome|firefox")]
    pub(crate) browser: Option<String>,

    /// How many warm sessions to keep (1 to 64).
    #[arg(long, value_name = "N", default_value = "2", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) pool: u16,

    /// How leases of a warm session are kept apart.
    #[arg(
        long,
        value_enum,
        value_name = "reset|context",
        default_value = "reset"
    )]
    pub(crate) isolation: IsolationArg,

    /// Seconds POST /session waits for a free warm session before it fails naming --pool (also
    /// the bound of a probe and of a reset); at most a year.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds, allow_negative_numbers = true)]
    pub(crate) lease_timeout: Duration,

    /// Seconds a lease may go without a request before its session is reclaimed (reset and put
    /// back; its id becomes invalid); at most a year.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = seconds, allow_negative_numbers = true)]
    pub(crate) idle_timeout: Duration,
}

/// `harness run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The servers to start.
    #[command(flatten)]
    pub(crate) stack: StackArgs,

    /// Stream server logs to stderr with a `[NAME]` prefix (default: only the last lines of each
    /// server, and only on failure).
    #[arg(long)]
    pub(crate) logs: bool,

    /// The test command and its arguments, after `--`; run without a shell.
    #[arg(last = true, value_name = "TEST_COMMAND")]
    pub(crate) command: Vec<OsString>,
}

/// `harness serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The servers to start.
    #[command(flatten)]
    pub(crate) stack: StackArgs,

    /// Stop everything and exit 0 when process PID exits (Linux: a pidfd taken before anything
    /// starts). `parent`: the process that started `harness serve`.
    #[arg(long, value_name = "PID|parent")]
    pub(crate) parent_pid: Option<String>,

    /// Stop everything and exit 0 when stdin reaches end of file (the owner closed the pipe, or
    /// died).
    #[arg(long)]
    pub(crate) stdin_eof: bool,

    /// Once ready, append NAME=value lines (the variables `run` gives its test command, plus
    /// NAME_INSTANCE_ID and NAME_LOG) to FILE: the format of nextest's $NEXTEST_ENV.
    #[arg(long, value_name = "FILE")]
    pub(crate) env_file: Option<std::path::PathBuf>,

    /// Also write each server's whole output to DIR/NAME.log (exported as NAME_LOG), and with
    /// --detach serve's own stderr to DIR/serve.log; files of an earlier run are emptied first.
    /// DIR must exist.
    #[arg(long, value_name = "DIR")]
    pub(crate) log_dir: Option<std::path::PathBuf>,

    /// Print the JSON line (and write --env-file) once ready, then exit 0, leaving the servers
    /// running in a background `harness serve` that holds neither stdout nor stderr. Needs
    /// --parent-pid or --stdin-eof, which end it. For nextest setup scripts.
    #[arg(long)]
    pub(crate) detach: bool,

    /// Internal: this is the background half of --detach (it starts a session of its own).
    #[arg(long, hide = true)]
    pub(crate) detached_child: bool,

    /// Internal: the owner to watch, as a pidfd inherited from the --detach invoker, which
    /// opened it at its start (so the owner cannot be mistaken for a later process).
    #[arg(
        long,
        hide = true,
        value_name = "FD,PID",
        conflicts_with = "parent_pid"
    )]
    pub(crate) parent_pidfd: Option<String>,
}

/// The longest duration any `SECS` option takes: a year. Far beyond any real test, and far enough
/// from the limits of `Instant` that a deadline computed from it never overflows.
pub(crate) const MAX_SECONDS: u64 = 365 * 24 * 60 * 60;

/// A positive, finite number of seconds, fractions allowed, at most [`MAX_SECONDS`].
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, like 30 or 0.5, got {text:?}"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("expected more than 0 seconds, got {text:?}"));
    }
    if secs > MAX_SECONDS as f64 {
        return Err(format!(
            "expected at most {MAX_SECONDS} seconds (a year), got {text:?}"
        ));
    }
    let duration = Duration::from_secs_f64(secs);
    if duration.is_zero() {
        return Err(format!(
            "expected at least a nanosecond, got {text:?}, which rounds to 0"
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_accept_fractions_and_refuse_the_rest() {
        assert_eq!(seconds("0.25").unwrap(), Duration::from_millis(250));
        assert_eq!(seconds("30").unwrap(), Duration::from_secs(30));
        assert_eq!(
            seconds(&MAX_SECONDS.to_string()).unwrap(),
            Duration::from_secs(MAX_SECONDS)
        );
        for bad in [
            "0", "-1", "NaN", "inf", "soon", "", "1e19", "1e300", "31536001", "1e-12",
        ] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }
}
