//! The folder the watchdog deletes when this process ends, however it ends: browser profiles and
//! the drivers' temporary files live in it.

use std::path::PathBuf;

/// The folder every profile of this process lives in. A session deletes its own profile when it
/// closes; this folder, with whatever a killed process or an idle pool left in it, is deleted by the
/// watchdog when this process ends, however it ends.
pub(crate) fn profiles_root() -> PathBuf {
    owned_root().clone().unwrap_or_else(std::env::temp_dir)
}

/// The folder for profiles and driver temporary files, `None` when it could not be created.
fn owned_root() -> &'static Option<PathBuf> {
    static ROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("harness-profiles-")
            .tempdir()
            .ok()?
            .keep();
        crate::process::remove_on_exit(&dir);
        Some(dir)
    })
}

/// The `TMPDIR` every driver this process starts gets: a folder inside the one the watchdog
/// deletes. chromedriver keeps a scoped folder of its own there (`org.chromium.Chromium.
/// scoped_dir.*`) that it deletes only when it exits cleanly; a SIGKILL would leave it behind in
/// the system's temporary folder. `None` (inherit `TMPDIR`) when that folder cannot be had.
pub(crate) fn driver_tmp() -> Option<PathBuf> {
    static TMP: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    TMP.get_or_init(|| {
        let dir = owned_root().as_ref()?.join("tmp");
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir)
    })
    .clone()
}
