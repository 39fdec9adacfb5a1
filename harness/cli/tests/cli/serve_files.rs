//! What `harness serve` leaves for its callers: `--env-file` and `--log-dir`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::{LIMIT, Running, fixtures_app, harness, scratch_dir, wait_until};

/// The `NAME=value` lines of an env file.
pub(crate) fn env_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.split_once('=').expect("NAME=value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn env_file_gets_the_run_variables_instance_ids_and_logs() {
    let dir = scratch_dir("env-file");
    let env_path = dir.join("nextest.env");
    std::fs::write(&env_path, "EARLIER=kept\n").unwrap();
    std::fs::write(dir.join("web-api.log"), "an earlier run's line\n").unwrap();
    let web = format!("web-api={}", fixtures_app());
    let env_arg = env_path.to_str().unwrap();
    let log_arg = dir.to_str().unwrap();
    let serve = Running::start(harness(&[
        "serve",
        "--server",
        &web,
        "--env-file",
        env_arg,
        "--log-dir",
        log_arg,
    ]));
    let line = serve.line(LIMIT, |l| l.starts_with('{'));
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    let server = &json["servers"]["web-api"];

    let env = env_file(&env_path);
    let log = dir.canonicalize().unwrap().join("web-api.log");
    let want: BTreeMap<String, String> = [
        ("EARLIER", "kept".to_owned()),
        ("WEB_API_URL", server["url"].as_str().unwrap().to_owned()),
        ("WEB_API_PORT", server["port"].to_string()),
        ("WEB_API_PID", server["pid"].to_string()),
        (
            "WEB_API_INSTANCE_ID",
            server["instance_id"].as_str().unwrap().to_owned(),
        ),
        ("WEB_API_LOG", log.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(env, want, "{line}");
    assert_eq!(server["log"].as_str().unwrap(), log.display().to_string());

    // The instance id is the one the server itself reports.
    let whoami = test_support::http::get_ok(&format!("{}whoami", env["WEB_API_URL"]));
    assert!(whoami.contains(&env["WEB_API_INSTANCE_ID"]), "{whoami}");
    // The log file has the server's whole output, the handshake and that request included.
    let logged = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&log)
            .is_ok_and(|text| text.contains(r#"{"harness":1"#) && text.contains("uri=/whoami"))
    });
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged, "{text}");
    assert!(
        !text.contains("an earlier run's line"),
        "emptied first: {text}"
    );

    serve.signal("TERM");
    let out = serve.wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
}

#[test]
fn log_files_have_both_streams() {
    let dir = scratch_dir("log-dir");
    let web = format!(
        "web=sh -c 'echo said-on-stderr >&2; exec {}'",
        fixtures_app()
    );
    let serve = Running::start(harness(&[
        "serve",
        "--server",
        &web,
        "--log-dir",
        dir.to_str().unwrap(),
    ]));
    serve.line(LIMIT, |l| l.starts_with('{'));
    let log = dir.join("web.log");
    let logged = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&log)
            .is_ok_and(|text| text.contains("said-on-stderr") && text.contains(r#"{"harness":1"#))
    });
    assert!(
        logged,
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    serve.signal("TERM");
    let out = serve.wait(LIMIT);
    assert_eq!(out.code(), Some(0), "{out}");
}
