use super::signal_name;

#[test]
fn every_signal_has_its_name() {
    let name = |sig| signal_name(sig).map(|n| n.into_owned());
    for (sig, expected) in [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGCHLD, "SIGCHLD"),
        (libc::SIGCONT, "SIGCONT"),
        (libc::SIGSTOP, "SIGSTOP"),
        (libc::SIGTSTP, "SIGTSTP"),
        (libc::SIGTTIN, "SIGTTIN"),
        (libc::SIGTTOU, "SIGTTOU"),
        (libc::SIGURG, "SIGURG"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
        (libc::SIGVTALRM, "SIGVTALRM"),
        (libc::SIGPROF, "SIGPROF"),
        (libc::SIGWINCH, "SIGWINCH"),
        (libc::SIGIO, "SIGIO"),
        (libc::SIGSYS, "SIGSYS"),
    ] {
        assert_eq!(name(sig).as_deref(), Some(expected), "signal {sig}");
    }
    assert_eq!(name(0), None);
    assert_eq!(name(-1), None);
    assert_eq!(name(1000), None);
}

#[cfg(target_os = "linux")]
#[test]
fn linux_numbers_and_real_time_signals() {
    let name = |sig| signal_name(sig).map(|n| n.into_owned());
    assert_eq!(name(16).as_deref(), Some("SIGSTKFLT"));
    assert_eq!(name(24).as_deref(), Some("SIGXCPU"));
    assert_eq!(name(30).as_deref(), Some("SIGPWR"));
    assert_eq!(name(31).as_deref(), Some("SIGSYS"));
    // Every number from 1 to SIGRTMAX has a name (32 and 33 are glibc's, below SIGRTMIN).
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    for sig in (1..32).chain(min..=max) {
        assert!(name(sig).is_some(), "signal {sig} has no name");
    }
    assert_eq!(name(min).as_deref(), Some("SIGRTMIN"));
    assert_eq!(name(min + 3), Some("SIGRTMIN+3".to_owned()));
    assert_eq!(name(max).as_deref(), Some("SIGRTMAX"));
    assert_eq!(name(max + 1), None);
}

#[test]
fn a_status_names_its_signal() {
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::ExitStatus::from_raw(libc::SIGXCPU);
    assert_eq!(
        crate::Exit::from(status).to_string(),
        format!("signal {} (SIGXCPU)", libc::SIGXCPU)
    );
}
