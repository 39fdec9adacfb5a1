//! Servers that are not ours: `--listening` for servers that print nothing, per-server `--env`
//! and `--cwd`, and `--ready NAME=@PRESET` for servers with a known ready line.

use crate::support::{GET, fixtures_app, run, scratch_dir};

/// A Node server that prints nothing and listens on a port the OS picks.
const SILENT_NODE: &str =
    "require('http').createServer((q, r) => r.end('silent node')).listen(0, '127.0.0.1')";

/// [`SILENT_NODE`] in a file of its own, for `node FILE`.
fn silent_node() -> String {
    let script = scratch_dir("node").join("silent.js");
    std::fs::write(&script, SILENT_NODE).unwrap();
    script.display().to_string()
}

/// `harness run --server node=SERVER --listening node` answers the test command's GET on
/// `$NODE_URL` with the silent server's text.
fn assert_listening_finds(server: &str) {
    let node = format!("node={server}");
    let out = run(&[
        "run",
        "--server",
        &node,
        "--listening",
        "node",
        "--",
        "python3",
        "-c",
        GET,
        "NODE",
        "",
    ]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("silent node"), "{out}");
}

#[test]
fn a_silent_node_server_is_ready_with_listening() {
    assert_listening_finds(&format!("node {}", silent_node()));
}

#[test]
fn listening_finds_the_server_behind_a_shell_that_does_not_exec() {
    // `; exit $?` keeps the shell alive as the group's leader, with node as its child.
    assert_listening_finds(&format!("sh -c 'node {}; exit $?'", silent_node()));
}

#[test]
fn env_and_cwd_reach_their_server_only() {
    let dir = scratch_dir("cwd");
    let show = |name: &str| {
        format!(
            "{name}=sh -c 'echo \"{name}: GREETING=[$GREETING] CWD=[$(pwd)]\"; exec {}'",
            fixtures_app()
        )
    };
    let (py, other) = (show("py"), show("other"));
    let env = "py=GREETING=hello=world";
    let cwd = format!("py={}", dir.display());
    let out = run(&[
        "run", "--logs", "--server", &py, "--server", &other, "--env", env, "--cwd", &cwd, "--",
        "python3", "-c", GET, "PY", "hello",
    ]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("Hello World"), "{out}");
    let canonical = dir.canonicalize().unwrap();
    let want = format!("py: GREETING=[hello=world] CWD=[{}]", canonical.display());
    assert!(out.stderr.contains(&want), "want {want:?}: {out}");
    assert!(out.stderr.contains("other: GREETING=[] CWD=["), "{out}");
    assert!(
        !out.stderr
            .contains(&format!("other: GREETING=[] CWD=[{}]", canonical.display())),
        "{out}"
    );
}

/// A Python server that binds 127.0.0.1:0, then prints `argv[1]` with `PORT` replaced by its
/// port (on stdout, or stderr as uvicorn does with `argv[2] == "err"`), then serves `preset ok`.
const PRINTS_A_LINE: &str = "import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'preset ok')
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
out = sys.stderr if sys.argv[2] == 'err' else sys.stdout
print(sys.argv[1].replace('PORT', str(s.server_port)), file=out, flush=True)
s.serve_forever()";

#[test]
fn presets_match_the_lines_of_uvicorn_flask_vite_and_express() {
    let script = scratch_dir("presets").join("server.py");
    std::fs::write(&script, PRINTS_A_LINE).unwrap();
    let cases = [
        (
            "uv",
            "uvicorn",
            "INFO:     Uvicorn running on http://127.0.0.1:PORT (Press CTRL+C to quit)",
            "err",
        ),
        ("fl", "flask", " * Running on http://127.0.0.1:PORT", "err"),
        // Vite's colours, as it prints them; `localhost` becomes 127.0.0.1.
        (
            "vi",
            "vite",
            "  \u{1b}[32m➜\u{1b}[39m  \u{1b}[1mLocal\u{1b}[22m:   \u{1b}[36mhttp://localhost:\u{1b}[1mPORT\u{1b}[22m/\u{1b}[39m",
            "out",
        ),
        ("ex", "express", "Example app listening on port PORT", "out"),
    ];
    let mut args: Vec<String> = vec!["run".into()];
    let mut check = String::from(
        "import os, urllib.request as u\nopener = u.build_opener(u.ProxyHandler({}))\n",
    );
    for (name, preset, line, stream) in cases {
        let command = format!("{name}=python3 {} '{line}' {stream}", script.display());
        args.extend(["--server".into(), command]);
        args.extend(["--ready".into(), format!("{name}=@{preset}")]);
        let var = name.to_uppercase();
        check.push_str(&format!(
            "print('{preset}', opener.open(os.environ['{var}_URL'], timeout=10).read().decode(), flush=True)\n"
        ));
    }
    args.extend(["--ready-timeout".into(), "20".into(), "--".into()]);
    args.extend(["python3".into(), "-c".into(), check]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    assert_eq!(out.code(), Some(0), "{out}");
    for preset in ["uvicorn", "flask", "vite", "express"] {
        assert!(
            out.stdout.contains(&format!("{preset} preset ok")),
            "{preset}: {out}"
        );
    }
}
