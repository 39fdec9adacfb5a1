//! The misbehaviours that are not floods: a broken handshake and a grandchild left behind.

use std::io::{self, Write};
use std::process::{Command, Stdio};

/// A handshake line that `harness::handshake::parse` rejects: it claims port 0.
pub(crate) fn malformed_handshake() -> String {
    format!(
        r#"{{"harness":1,"pid":{},"listening":{{"http":"http://127.0.0.1:0"}}}}"#,
        std::process::id()
    )
}

/// Prints [`malformed_handshake`] on stdout, flushed.
pub(crate) fn announce_malformed() -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", malformed_handshake())?;
    out.flush()
}

/// Spawns `sleep 3600` and returns its pid.
///
/// The child stays in this process group (no `setsid`) and inherits stdout and stderr, so it keeps
/// the harness's pipes open and outlives this process unless the whole group is killed. A thread
/// reaps it if it dies first, so it never lingers as a zombie while this process runs.
pub(crate) fn spawn_grandchild() -> io::Result<u32> {
    let mut child = Command::new("sleep")
        .arg("3600")
        .stdin(Stdio::null())
        .spawn()?;
    let pid = child.id();
    std::thread::spawn(move || child.wait());
    eprintln!("fixtures-app: grandchild pid {pid}");
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_handshake_is_rejected() {
        let line = malformed_handshake();
        assert!(harness::handshake::parse(&line).is_err());
        // It is still recognisably meant as a handshake, so a harness reports it, not skips it.
        assert!(matches!(harness::handshake::detect(&line), Some(Err(_))));
    }
}
