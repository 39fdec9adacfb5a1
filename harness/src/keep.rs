//! `HARNESS_KEEP`: output files for servers that must outlive this process.
//!
//! A kept server's stdout and stderr cannot be pipes read by this process: once it exits, the
//! server's next write fails with `EPIPE` or kills it with `SIGPIPE`, so a "kept" server would be
//! broken. Its output goes to files instead, and the harness follows them like `tail -f` to see
//! the ready line and keep [`logs`](crate::ServerHandle::logs).

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::monitor::Monitor;

/// How often a followed file is checked for more output.
const FOLLOW_EVERY: Duration = Duration::from_millis(20);

/// Where a kept server writes its output.
#[derive(Debug, Clone)]
pub(crate) struct KeptOutput {
    pub(crate) stdout: PathBuf,
    pub(crate) stderr: PathBuf,
}

impl KeptOutput {
    /// Creates the two files, in [`dir`], and returns them open for the server.
    pub(crate) fn create(name: &str, nonce: &str) -> io::Result<(Self, File, File)> {
        let dir = private_dir()?;
        let stem: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let short = &nonce[..nonce.len().min(8)];
        let paths = Self {
            stdout: dir.join(format!("{stem}-{short}.stdout.log")),
            stderr: dir.join(format!("{stem}-{short}.stderr.log")),
        };
        let stdout = new_private_file(&paths.stdout)?;
        let stderr = new_private_file(&paths.stderr)?;
        Ok((paths, stdout, stderr))
    }

    /// Opens the files for following, while `monitor` says the server runs.
    pub(crate) fn follow(&self, monitor: &Arc<Monitor>) -> io::Result<(Follow, Follow)> {
        let follow = |path| {
            File::open(path).map(|file| Follow {
                file,
                monitor: Arc::clone(monitor),
            })
        };
        Ok((follow(&self.stdout)?, follow(&self.stderr)?))
    }
}

/// The folder of kept servers' output: `<temp dir>/harness-keep-<uid>` on Unix, one per user, as
/// `/tmp` is shared and the first user's folder would not be writable by the next.
/// `<temp dir>/harness-keep` on Windows, whose temp dir is per user already.
fn dir() -> PathBuf {
    #[cfg(unix)]
    let name = format!("harness-keep-{}", rustix::process::getuid().as_raw());
    #[cfg(not(unix))]
    let name = "harness-keep".to_owned();
    std::env::temp_dir().join(name)
}

/// Makes [`dir`] if needed and checks that it is this user's alone (mode 700): in a shared temp
/// dir, a folder someone else made first could let them read or replace the logs.
fn private_dir() -> io::Result<PathBuf> {
    let dir = dir();
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        let meta = std::fs::symlink_metadata(&dir)?;
        if !meta.is_dir() || meta.uid() != rustix::process::getuid().as_raw() {
            return Err(io::Error::other(format!(
                "{} is not a folder of this user; remove it and try again",
                dir.display()
            )));
        }
        if meta.mode() & 0o077 != 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Creates a file that did not exist, readable by this user only (Unix).
fn new_private_file(path: &std::path::Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A file read as it grows, until the server that writes it has exited.
#[derive(Debug)]
pub(crate) struct Follow {
    file: File,
    monitor: Arc<Monitor>,
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // Exit first, then read: what the server wrote before it exited is then always read.
            let exited = self.monitor.exit_status().is_some();
            let n = self.file.read(buf)?;
            if n > 0 || exited {
                return Ok(n);
            }
            std::thread::sleep(FOLLOW_EVERY);
        }
    }
}
