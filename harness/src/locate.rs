//! Finding the program to run, before anything is started: the one place the library searches
//! `PATH` ([`path_dirs`], [`find_in`]) and cargo's target directory.

use std::env;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::Error;

/// Resolves `program` to an executable path the way a shell would, or says where it looked.
pub(crate) fn resolve(program: &OsStr, path_var: Option<&OsStr>) -> Result<PathBuf, Error> {
    if program.is_empty() {
        return Err(Error::EmptyProgram);
    }
    let as_path = Path::new(program);
    if as_path.components().count() > 1 || as_path.is_absolute() {
        let full = env::current_dir()
            .map(|cwd| cwd.join(as_path))
            .unwrap_or_else(|_| as_path.to_path_buf());
        return if is_executable(&full) {
            Ok(full)
        } else {
            Err(Error::ProgramNotFound {
                program: program.to_string_lossy().into_owned(),
                looked: format!("{} (no executable file there)", full.display()),
            })
        };
    }
    let dirs = path_dirs(path_var);
    if let Some(found) = find_in(&dirs, &[program]) {
        return Ok(found);
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(Error::ProgramNotFound {
        program: program.to_string_lossy().into_owned(),
        looked: format!("PATH ({})", looked.join(":")),
    })
}

/// The directories of a `PATH` value, in order; this process's `PATH` when `path_var` is `None`.
pub(crate) fn path_dirs(path_var: Option<&OsStr>) -> Vec<PathBuf> {
    let path_var: OsString = path_var
        .map(OsStr::to_owned)
        .or_else(|| env::var_os("PATH"))
        .unwrap_or_default();
    env::split_paths(&path_var).collect()
}

/// The first executable file named one of `names` (on Windows also with `.exe`) in `dirs`,
/// trying every name in a directory before the next directory, as a shell does.
pub(crate) fn find_in(dirs: &[PathBuf], names: &[&OsStr]) -> Option<PathBuf> {
    dirs.iter().find_map(|dir| {
        names
            .iter()
            .flat_map(|name| candidates(name))
            .map(|name| dir.join(name))
            .find(|full| is_executable(full))
    })
}

fn candidates(program: &OsStr) -> Vec<OsString> {
    let mut names = vec![program.to_owned()];
    if cfg!(windows) && Path::new(program).extension().is_none() {
        let mut exe = program.to_owned();
        exe.push(".exe");
        names.insert(0, exe);
    }
    names
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The directory cargo puts binaries in for the running test, example or binary.
pub(crate) fn cargo_target_dir() -> Option<PathBuf> {
    let exe = env::current_exe().ok()?;
    let mut dir = exe.parent()?.to_path_buf();
    if dir.ends_with("deps") || dir.ends_with("examples") {
        dir.pop();
    }
    Some(dir)
}

/// Finds the cargo-built binary `name` next to the running executable.
pub(crate) fn cargo_bin(name: &str) -> Result<PathBuf, Error> {
    if let Some(path) = env::var_os(format!("CARGO_BIN_EXE_{name}")) {
        return Ok(PathBuf::from(path));
    }
    let dir = cargo_target_dir().unwrap_or_default();
    let path = dir.join(format!("{name}{}", env::consts::EXE_SUFFIX));
    if path.is_file() {
        return Ok(path);
    }
    let profile = if dir.ends_with("release") {
        " --release"
    } else {
        ""
    };
    Err(Error::CargoBinNotFound {
        name: name.to_owned(),
        path,
        build: format!("cargo build --bin {name}{profile}"),
        available: available_bins(&dir),
    })
}

fn available_bins(dir: &Path) -> Vec<String> {
    let Ok(entries) = dir.read_dir() else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_executable(p) && p.extension().is_none_or(|e| e == "exe"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn path_lookup_takes_the_first_directory_that_has_it() {
        let dirs = path_dirs(Some(OsStr::new("/nonexistent:/usr/bin:/bin")));
        assert_eq!(dirs[0], Path::new("/nonexistent"));
        let found = find_in(&dirs, &[OsStr::new("no-such-tool"), OsStr::new("sh")]).unwrap();
        assert!(found.ends_with("sh") && is_executable(&found), "{found:?}");
        assert!(
            found.starts_with("/usr/bin") || found.starts_with("/bin"),
            "{found:?}"
        );
        assert_eq!(find_in(&dirs, &[OsStr::new("no-such-tool")]), None);
        // A file that is not executable is not a program.
        let dir = std::env::temp_dir().join(format!("harness-locate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plain"), "").unwrap();
        assert_eq!(
            find_in(std::slice::from_ref(&dir), &[OsStr::new("plain")]),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
