use std::io::Read;
use std::os::fd::AsRawFd;

use super::{Command, Stdio, spawn_with};

/// A spawn through a pipe of our own as the watchdog; returns the result and what the
/// "watchdog" received.
fn spawn_logged(cmd: &mut Command) -> (std::io::Result<super::Child>, String) {
    cmd.group = true;
    cmd.register = true;
    let (mut reader, writer) = std::io::pipe().unwrap();
    let log = writer.try_clone().unwrap();
    let result = spawn_with(cmd, Some(writer.as_raw_fd()), |pid| {
        use std::io::Write;
        (&log).write_all(format!("-{pid}\n").as_bytes()).unwrap();
    });
    // The child held a copy only until its exec or exit (close-on-exec), so this reaches EOF.
    drop((writer, log));
    let mut seen = String::new();
    reader.read_to_string(&mut seen).unwrap();
    (result, seen)
}

/// Whether `pid` is still our child in any state (a zombie included).
fn still_our_child(pid: u32) -> bool {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    !matches!(
        rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::NOHANG),
        Err(rustix::io::Errno::CHILD)
    )
}

fn failed_child(cmd: &mut Command) -> (std::io::Error, u32) {
    let (result, seen) = spawn_logged(cmd);
    let error = result.expect_err("the spawn must fail");
    let mut lines = seen.lines();
    let registered = lines.next().expect("the child registered before it failed");
    let pid: u32 = registered.strip_prefix('+').unwrap().parse().unwrap();
    assert_eq!(lines.next(), Some(format!("-{pid}").as_str()), "{seen:?}");
    assert_eq!(lines.next(), None, "{seen:?}");
    assert!(!still_our_child(pid), "pid {pid} was not reaped");
    (error, pid)
}

#[test]
fn a_failed_chdir_leaves_no_process_and_no_registration() {
    let mut cmd = Command::new("/bin/true");
    cmd.current_dir("/nonexistent-harness-dir");
    let (error, _) = failed_child(&mut cmd);
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound, "{error}");
    assert!(
        error
            .to_string()
            .contains("chdir to /nonexistent-harness-dir"),
        "{error}"
    );
}

#[test]
fn a_failed_exec_leaves_no_process_and_no_registration() {
    let mut cmd = Command::new("/nonexistent-harness-program");
    let (error, _) = failed_child(&mut cmd);
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound, "{error}");
    let dir = std::env::temp_dir().join(format!("harness-exec-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Not executable (no x bit; even root gets EACCES), and executable but not a program.
    for (name, mode, errno) in [
        ("plain", 0o644, libc::EACCES),
        ("garbage", 0o755, libc::ENOEXEC),
    ] {
        let path = dir.join(name);
        // Written by another process: a write descriptor open in this one could be inherited by
        // a child that another test forks meanwhile, and exec would then fail with ETXTBSY.
        let written = std::process::Command::new("sh")
            .args([
                "-c",
                r#"printf '\001\002 not a program' > "$1" && chmod "$2" "$1""#,
            ])
            .arg("sh")
            .arg(&path)
            .arg(format!("{mode:o}"))
            .status()
            .unwrap();
        assert!(written.success());
        let (error, _) = failed_child(&mut Command::new(&path));
        assert_eq!(error.raw_os_error(), Some(errno), "{name}: {error}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_child_gets_args_env_dir_and_stdio() {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "echo \"$1 $HARNESS_T_SET ${HARNESS_T_GONE-unset} $(pwd)\"",
        "sh",
        "arg one",
    ])
    .env("HARNESS_T_SET", "set")
    .env("HARNESS_T_GONE", "x")
    .env_change("HARNESS_T_GONE".as_ref(), None)
    .current_dir("/tmp")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let (result, seen) = spawn_logged(&mut cmd);
    let mut child = result.unwrap();
    let pid = child.id();
    assert_eq!(seen, format!("+{pid}\n"), "registered itself, once");
    let out = read_stdout(&mut child);
    assert_eq!(out, "arg one set unset /tmp\n");
    assert!(child.wait().unwrap().success());
    assert!(!still_our_child(pid));
}

#[test]
fn the_child_leads_its_group_with_no_signal_blocked_or_ignored() {
    let mut cmd = Command::new("cat");
    cmd.args(["/proc/self/status", "/proc/self/stat"])
        .stdout(Stdio::piped());
    let (result, _) = spawn_logged(&mut cmd);
    let mut child = result.unwrap();
    let pid = child.id();
    let out = read_stdout(&mut child);
    assert!(child.wait().unwrap().success());
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|hex| u64::from_str_radix(hex.trim(), 16).unwrap())
            .unwrap()
    };
    // The parent thread blocked everything around the clone; the program must not inherit it.
    assert_eq!(field("SigBlk:"), 0, "{out}");
    // std's runtime ignores SIGPIPE in this process; the program must not. Signals 32 and 33
    // are glibc's own, kept from us by glibc (its posix_spawn leaves both ignored): left out.
    let ignored = field("SigIgn:") & !0x1_8000_0000;
    assert_eq!(ignored, 0, "ignored: {ignored:#x}");
    // /proc/self/stat, read by the library's one parser.
    let line = out.lines().last().unwrap();
    let stat = crate::procfs::parse_stat(line).unwrap();
    assert_eq!(stat.pgrp, pid, "leads its own group: {line}");
}

/// Everything `child` writes to its piped stdout, to the end.
fn read_stdout(child: &mut super::Child) -> String {
    let mut out = String::new();
    let mut stdout = child.stdout.take().expect("stdout was piped");
    stdout.read_to_string(&mut out).unwrap();
    out
}
