//! Bad input to the options for servers that are not ours and to `serve`'s lifetime options:
//! exit 2, one line naming the fix, nothing started.

use crate::support::{run, scratch_dir};

/// Runs `harness ARGS` where `{maker}` is a server command that would create a file; checks the
/// one-line usage error mentions `expected` and that nothing was started.
fn refused(args: &[&str], expected: &str) {
    let made = scratch_dir("refused").join("server-started");
    let maker = format!("sh -c 'touch {}; sleep 30'", made.display());
    let args: Vec<String> = args.iter().map(|a| a.replace("{maker}", &maker)).collect();
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
    assert!(!made.exists(), "something started: {out}");
}

#[test]
fn bad_per_server_options_are_refused_before_anything_starts() {
    let missing = scratch_dir("no-cwd").join("missing");
    let missing_cwd = format!("web={}", missing.display());
    let cases: &[(&[&str], &str)] = &[
        (
            &["--ready", "web=@nginx"],
            "there is no preset @nginx; use one of @uvicorn, @flask, @vite, @express",
        ),
        (
            &["--listening", "api"],
            "--listening api: there is no `--server api=...`",
        ),
        (
            &["--listening", "web", "--ready", "web=@flask"],
            "server `web` has both --ready and --listening; give one of them",
        ),
        (
            &["--env", "api=A=1"],
            "--env api: there is no `--server api=...`",
        ),
        (&["--env", "web=A"], "expected NAME=KEY=VALUE"),
        (&["--env", "web==1"], "expected NAME=KEY=VALUE"),
        (
            &["--env", "web=HARNESS_INSTANCE_ID=mine"],
            "harness gives each server a fresh HARNESS_INSTANCE_ID itself",
        ),
        (
            &["--cwd", "api=/tmp"],
            "--cwd api: there is no `--server api=...`",
        ),
        (
            &["--cwd", &missing_cwd],
            "No such file or directory (os error 2); create it or give an existing directory",
        ),
        (&["--cwd", "web=/etc/hostname"], "not a directory"),
    ];
    for (extra, expected) in cases {
        for command in ["run", "serve"] {
            let mut args = vec![command, "--server", "web={maker}"];
            args.extend_from_slice(extra);
            if command == "run" {
                args.extend_from_slice(&["--", "true"]);
            }
            refused(&args, expected);
        }
    }
}

#[test]
fn bad_serve_lifetime_options_are_refused_before_anything_starts() {
    let no_dir = scratch_dir("no-dir").join("missing");
    let env_file = no_dir.join("env");
    let env_file = env_file.to_str().unwrap();
    let log_dir = no_dir.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--parent-pid", "999999999"],
            "--parent-pid 999999999: no process has pid 999999999",
        ),
        (
            &["--parent-pid", "soon"],
            "expected a process id (a positive number) or `parent`",
        ),
        (&["--parent-pid", "0"], "expected a process id"),
        (
            &["--detach"],
            "--detach needs --parent-pid PID|parent or --stdin-eof",
        ),
        (&["--env-file", env_file], "cannot open it for appending"),
        (&["--log-dir", log_dir], "create the folder first"),
        (
            &["--detach", "--parent-pid", "parent", "--log-dir", log_dir],
            "create the folder first",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["serve", "--server", "web={maker}"];
        args.extend_from_slice(extra);
        refused(&args, expected);
    }
}
