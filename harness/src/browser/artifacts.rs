//! Failure artifacts: where they go, the folder each failure claims, and what is written there.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::runtime;
use super::session::Session;
use crate::ServerHandle;

/// Where failure artifacts go: `$HARNESS_ARTIFACTS_DIR`, else `<cargo target dir>/harness-artifacts`.
///
/// ```
/// let root = harness::browser::artifacts_root();
/// println!("failure artifacts go under {}", root.display());
/// ```
pub fn artifacts_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("HARNESS_ARTIFACTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            crate::locate::cargo_target_dir().and_then(|d| d.parent().map(Path::to_path_buf))
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("harness-artifacts")
}

/// Writes the evidence of a failed test named `name` into a folder of its own under
/// [`artifacts_root`], and says where it went (or why there is none) for the failure message.
pub(crate) async fn record(
    name: &str,
    session: &Session,
    server: &ServerHandle,
    since: SystemTime,
    error: &str,
) -> String {
    let root = artifacts_root();
    match claim_dir(&root, name) {
        Ok(dir) => match write_artifacts(&dir, session, server, since, error).await {
            Ok(()) => format!("artifacts in {}", dir.display()),
            Err(e) => format!(
                "writing artifacts to {} failed: {e} (what was written is there)",
                dir.display()
            ),
        },
        Err(e) => format!(
            "no artifacts: no folder under {} could be created: {e}",
            root.display()
        ),
    }
}

/// Writes every artifact it can; one that cannot be had is noted in its file instead.
async fn write_artifacts(
    dir: &Path,
    session: &Session,
    server: &ServerHandle,
    since: SystemTime,
    error: &str,
) -> std::io::Result<()> {
    std::fs::write(dir.join("error.txt"), error)?;
    let client = session.client().clone();
    let (screenshot, html, url) = runtime::run(async move {
        (
            client.screenshot().await,
            client.source().await,
            client.current_url().await,
        )
    })
    .await;
    match screenshot {
        Ok(png) => std::fs::write(dir.join("screenshot.png"), png)?,
        Err(e) => std::fs::write(dir.join("screenshot.error.txt"), e.to_string())?,
    }
    std::fs::write(
        dir.join("page.html"),
        html.unwrap_or_else(|e| format!("<!-- page source unavailable: {e} -->")),
    )?;
    std::fs::write(
        dir.join("url.txt"),
        url.map(|u| u.to_string())
            .unwrap_or_else(|e| format!("unavailable: {e}")),
    )?;
    let console = match session.console_log().await {
        Some(lines) if lines.is_empty() => "(no console messages)\n".to_owned(),
        Some(lines) => lines.join("\n") + "\n",
        None => format!(
            "({} does not expose the browser console log)\n",
            session.browser()
        ),
    };
    std::fs::write(dir.join("console.log"), console)?;
    let mut log = String::new();
    for line in server.logs().since(since) {
        let _ = writeln!(log, "[{} {}] {}", server.name(), line.stream, line.text);
    }
    std::fs::write(dir.join("server.log"), log)
}
/// The file in each artifacts folder that says which process wrote it: `pid N`.
const OWNER_FILE: &str = ".harness-owner";
/// Creates a new, empty folder for this failure's artifacts under `root`, named after `name`, or
/// `name-2`, `name-3`... when taken. Never touches a folder another run may be writing: a taken
/// name is replaced only when its owner file names a process that has ended (an earlier run's
/// evidence of the same test); a folder of this process, of a live one, or without an owner file
/// is left alone and the next suffix is tried.
fn claim_dir(root: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(root)?;
    let base = sanitize(name);
    let mut last = None;
    for n in 1..=1000u32 {
        let dir = match n {
            1 => root.join(&base),
            n => root.join(format!("{base}-{n}")),
        };
        // Twice: once as found, once after moving a stale folder out of the way.
        for _ in 0..2 {
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    std::fs::write(
                        dir.join(OWNER_FILE),
                        format!("pid {}\n", std::process::id()),
                    )?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !stale(&dir) {
                        break;
                    }
                    // Renaming is atomic: of two runs that both found it stale, one moves it.
                    let away = root.join(format!(".{base}.stale-{}-{n}", std::process::id()));
                    if std::fs::rename(&dir, &away).is_ok() {
                        let _ = std::fs::remove_dir_all(&away);
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{base} and {base}-2 to {base}-1000 are all taken"),
        )
    }))
}

/// Whether `dir` holds an earlier, finished run's artifacts: its owner file names a process other
/// than this one that is no longer running.
fn stale(dir: &Path) -> bool {
    let Ok(owner) = std::fs::read_to_string(dir.join(OWNER_FILE)) else {
        return false;
    };
    let Some(pid) = owner
        .trim()
        .strip_prefix("pid ")
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return false;
    };
    pid != std::process::id() && !process_alive(pid)
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    // ESRCH: no such process. Anything else (EPERM: another user's) means it may be alive.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Cannot tell: keep the folder and use the next name.
    true
}

fn sanitize(name: &str) -> String {
    name.replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
#[cfg(test)]
mod tests {
    use super::*;

    fn owner_of(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(OWNER_FILE)).unwrap()
    }

    #[test]
    fn every_claim_gets_a_new_folder_and_leaves_the_others_alone() {
        let root = tempfile::tempdir().unwrap();
        let first = claim_dir(root.path(), "suite::a test").unwrap();
        assert_eq!(first, root.path().join("suite__a_test"));
        std::fs::write(first.join("error.txt"), "first").unwrap();
        let second = claim_dir(root.path(), "suite::a test").unwrap();
        assert_eq!(second, root.path().join("suite__a_test-2"));
        assert_eq!(
            std::fs::read_to_string(first.join("error.txt")).unwrap(),
            "first",
            "a claim removed this process's own earlier folder"
        );
        assert_eq!(owner_of(&second), format!("pid {}\n", std::process::id()));
    }

    #[cfg(unix)]
    #[test]
    fn only_a_folder_of_an_ended_process_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        // An ended process: a child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = root.path().join("t");
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join(OWNER_FILE), format!("pid {dead}\n")).unwrap();
        std::fs::write(stale.join("error.txt"), "old run").unwrap();
        // A live process (pid 1), and a folder the harness did not write.
        let live = root.path().join("t-2");
        std::fs::create_dir(&live).unwrap();
        std::fs::write(live.join(OWNER_FILE), "pid 1\n").unwrap();
        let foreign = root.path().join("t-3");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();

        let dir = claim_dir(root.path(), "t").unwrap();
        assert_eq!(dir, stale, "the ended run's folder is reused");
        assert!(
            !dir.join("error.txt").exists(),
            "with nothing of the old run"
        );
        assert_eq!(owner_of(&dir), format!("pid {}\n", std::process::id()));
        let next = claim_dir(root.path(), "t").unwrap();
        assert_eq!(
            next,
            root.path().join("t-4"),
            "a live run's and a foreign folder are skipped"
        );
        assert_eq!(owner_of(&live), "pid 1\n");
        assert!(foreign.join("notes.txt").exists());
    }
}
