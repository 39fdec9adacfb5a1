//! Input errors: exit 2, one line, nothing started.

use std::path::Path;

use crate::support::{fixtures_app, run, scratch_dir};

/// Runs `harness` with `args`, where `{maker}` stands for a server command and `{tests}` for a
/// test command that would each create a file, and checks that it fails with a one-line usage
/// error mentioning `expected` and creates nothing.
fn refused(args: &[&str], expected: &str) {
    let dir = scratch_dir("input");
    let made = dir.join("server-started");
    let ran = dir.join("tests-ran");
    let maker = format!("sh -c 'touch {}'", made.display());
    let tests = format!("touch {}", ran.display());
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{maker}", &maker).replace("{tests}", &tests))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    assert_eq!(out.code(), Some(2), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {out}");
    assert!(out.stderr.starts_with("harness: error: "), "{out}");
    assert!(
        out.stderr.contains(expected),
        "expected {expected:?}: {out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
    assert!(!made.exists() && !ran.exists(), "something started: {out}");
    assert!(!Path::new(&made).exists());
}

/// [`refused`] for each case's arguments, given after one valid server and before a test command.
fn refused_after_a_server(cases: &[(&[&str], &str)]) {
    for (args, expected) in cases {
        let mut all = vec!["run", "--server", "maker={maker}"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--", "sh", "-c", "{tests}"]);
        refused(&all, expected);
    }
}

#[test]
fn malformed_server_options() {
    let cases: &[(&[&str], &str)] = &[
        (&["--server", "web"], "expected NAME=COMMAND"),
        (&["--server", "=true"], "expected NAME=COMMAND"),
        (&["--server", "web="], "the command is empty"),
        (&["--server", "web=   "], "the command is empty"),
        (&["--server", "web=sh -c 'unclosed"], "cannot split"),
        (&["--server", "w.b=true"], "server name \"w.b\" is invalid"),
        // Variables that would clash with --browser's WEBDRIVER_URL or harness's own settings.
        (
            &["--server", "webdriver=true"],
            "server name `webdriver` is reserved: its WEBDRIVER_URL would clash with the WEBDRIVER_URL that --browser sets",
        ),
        (
            &["--server", "WebDriver=true", "--browser", "chrome"],
            "`WebDriver` is reserved",
        ),
        (
            &["--server", "harness-log=true"],
            "HARNESS_LOG_URL would clash",
        ),
        (
            &["--server", "web=true", "--server", "web=true"],
            "server `web` is given twice",
        ),
        (
            &["--server", "a-b=true", "--server", "a_b=true"],
            "both export A_B_URL",
        ),
        (
            &["--server", "web=/no/such/program"],
            "program `/no/such/program` not found",
        ),
        (
            &["--server", "web=no-such-program-anywhere"],
            "not found; looked in PATH",
        ),
    ];
    refused_after_a_server(cases);
}

#[test]
fn bad_readiness_and_health_options() {
    let cases: &[(&[&str], &str)] = &[
        (&["--ready", "maker=("], "does not compile"),
        (
            &["--ready", r"maker=listening (\d+)"],
            "no named group `url` or `port`",
        ),
        (
            &["--ready", r"other=port (?P<port>\d+)"],
            "--ready other: there is no `--server other=...`",
        ),
        (
            &[
                "--ready",
                r"maker=(?P<port>\d+)",
                "--ready",
                r"maker=(?P<port>\d+)",
            ],
            "given twice",
        ),
        (
            &["--health", "other=/health"],
            "--health other: there is no `--server other=...`",
        ),
        (&["--health", "maker"], "expected NAME=PATH"),
        (&["--ready-timeout", "soon"], "--ready-timeout"),
        (&["--grace", "-1"], "--grace"),
        // Durations so long that a deadline would overflow `Instant` (they used to panic, exit 3).
        (&["--ready-timeout", "1e19"], "--ready-timeout"),
        (&["--ready-timeout", "1e19"], "at most 31536000 seconds"),
        (&["--grace", "1e300"], "--grace"),
        (&["--grace", "1e-12"], "rounds to 0"),
        (&["--browser", "safari"], "unknown browser \"safari\""),
        (&["--no-such-flag"], "--no-such-flag"),
    ];
    refused_after_a_server(cases);
}

#[test]
fn bad_test_commands() {
    refused(
        &["run", "--server", "maker={maker}"],
        "missing TEST_COMMAND",
    );
    refused(
        &[
            "run",
            "--server",
            "maker={maker}",
            "--",
            "no-such-test-program",
        ],
        "TEST_COMMAND: program `no-such-test-program` not found",
    );
}

#[test]
fn serve_refuses_the_same_mistakes() {
    refused(
        &["serve", "--server", "maker={maker}", "--ready", "x=("],
        "--ready x: there is no",
    );
    refused(
        &[
            "serve",
            "--server",
            "maker={maker}",
            "--browser",
            "netscape",
        ],
        "unknown browser",
    );
}

#[test]
fn every_subcommand_has_help() {
    for args in [&["--help"][..], &["run", "--help"], &["serve", "--help"]] {
        let out = run(args);
        assert_eq!(out.code(), Some(0), "{out}");
        assert!(out.stdout.contains("Usage: harness"), "{out}");
    }
    let out = run(&["--help"]);
    for documented in [
        "0 only when the test command was seen exiting 0",
        "5 the test command's exit could not be observed",
        "130 / 143 the run was interrupted",
    ] {
        assert!(
            out.stdout.contains(documented),
            "the exit codes are documented: {documented:?}: {out}"
        );
    }
    let out = run(&["serve", "--help"]);
    assert!(
        out.stdout.contains("webdriver_url"),
        "the JSON shape is documented: {out}"
    );
    // The fixture is mentioned so that a missing build fails here clearly, not later.
    let _ = fixtures_app();
}

/// A test command given without `--` is refused with a hint to add it, before anything starts.
#[test]
fn a_test_command_without_double_dash_gets_a_hint() {
    refused(
        &["run", "--server", "maker={maker}", "pytest", "-x"],
        "if `pytest` starts the test command, put `--` before it",
    );
}
