//! The watchdog: a tiny `/bin/sh` process that kills our servers' process groups when we die.
//!
//! `Drop` cannot run when the test process is killed (SIGKILL, `panic = "abort"`,
//! `std::process::exit`, a nextest timeout), and the parent-death signal reaches only the direct
//! child. So the first spawn also starts a shell, in a process group of its own (a Ctrl-C to the
//! terminal's foreground group must not reach it) and ignoring the usual termination signals, whose
//! stdin is a pipe from this process. We write `+PGID` when a server starts and `-PGID` once its group
//! is killed and reaped, and `dPATH` for a folder to delete at the end (browser profiles). The kernel
//! closes the pipe whenever this process ends, however it ends; the shell reads end-of-file, sends
//! SIGKILL to every group still registered, then deletes the folders.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

const SCRIPT: &str = r#"trap '' INT TERM HUP QUIT PIPE
groups=' '
dirs=''
while IFS= read -r line; do
  case $line in
    +*) groups="$groups${line#+} " ;;
    -*) id=${line#-}
        case $groups in *" $id "*) groups="${groups%% $id *} ${groups#* $id }" ;; esac ;;
    d*) dirs="$dirs${line#d}
" ;;
  esac
done
for group in $groups; do kill -s KILL -- "-$group" 2>/dev/null; done
printf '%s' "$dirs" | while IFS= read -r dir; do
  [ -n "$dir" ] || continue
  # A process killed a moment ago may still be writing there: try again, briefly.
  tries=0
  until rm -rf -- "$dir" 2>/dev/null || [ "$tries" -ge 20 ]; do tries=$((tries + 1)); sleep 0.1; done
done
"#;

static PIPE: OnceLock<Option<Mutex<ChildStdin>>> = OnceLock::new();

fn pipe() -> Option<&'static Mutex<ChildStdin>> {
    PIPE.get_or_init(|| match start() {
        Ok(stdin) => Some(Mutex::new(stdin)),
        Err(e) => {
            tracing::warn!(
                "harness: could not start the watchdog (/bin/sh): {e}; servers may outlive a killed test process"
            );
            None
        }
    })
    .as_ref()
}

fn start() -> std::io::Result<ChildStdin> {
    let mut child = Command::new("/bin/sh")
        .args(["-c", SCRIPT, "harness-watchdog"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    // The child is never waited for: it outlives this process by design, and then init reaps it.
    Ok(child.stdin.take().expect("stdin was piped"))
}

fn send(message: &str) -> bool {
    let Some(pipe) = pipe() else { return false };
    let mut stdin = pipe.lock().unwrap_or_else(|e| e.into_inner());
    stdin
        .write_all(message.as_bytes())
        .and_then(|()| stdin.flush())
        .is_ok()
}

/// Registers a process group; returns whether the watchdog now guards it.
pub(super) fn register(pgid: u32) -> bool {
    send(&format!("+{pgid}\n"))
}

/// Forgets a process group that is gone.
pub(super) fn unregister(pgid: u32) {
    send(&format!("-{pgid}\n"));
}

/// Asks for `dir` to be deleted when this process ends; returns whether the watchdog took it.
pub(super) fn remove_on_exit(dir: &std::path::Path) -> bool {
    match dir.to_str() {
        Some(path) if !path.contains('\n') => send(&format!("d{path}\n")),
        _ => false,
    }
}
