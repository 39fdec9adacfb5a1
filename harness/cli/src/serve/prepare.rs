//! Everything `serve` checks before it starts anything: the owner first (so that `parent` is
//! the process that started `serve`), then the servers, the log folder and the env file.

use std::fs::File;
use std::path::PathBuf;

use crate::args::ServeArgs;
use crate::lifetime::{Lifetime, Owner};
use crate::plan::Plan;
use crate::usage::UsageError;

/// A checked `harness serve` command line.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The servers to start.
    pub(crate) plan: Plan,
    /// What ends `serve` besides signals (stdin is not read yet).
    pub(crate) lifetime: Lifetime,
    /// `--env-file`, open for appending.
    pub(crate) env_file: Option<File>,
    /// `--log-dir`, absolute.
    pub(crate) log_dir: Option<PathBuf>,
}

impl Prepared {
    /// Checks `args`; the first mistake is a usage error.
    pub(crate) fn new(args: &ServeArgs) -> Result<Self, UsageError> {
        // First of all: the longer this waits, the likelier `parent` is already someone else.
        let owner = match (&args.parent_pidfd, &args.parent_pid) {
            #[cfg(target_os = "linux")]
            (Some(inherited), _) => Some(Owner::inherited(inherited)?),
            (_, Some(given)) => Some(Owner::open(given)?),
            _ => None,
        };
        if args.detach && owner.is_none() && !args.stdin_eof {
            return Err(UsageError::DetachWithoutOwner);
        }
        let mut plan = Plan::new(&args.stack, Some(true))?;
        let log_dir = args.log_dir.as_deref().map(log_dir).transpose()?;
        if let Some(dir) = &log_dir {
            plan.log_to(dir);
        }
        let env_file = args
            .env_file
            .as_deref()
            .map(|path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|error| UsageError::BadPath {
                        flag: "--env-file",
                        path: path.display().to_string(),
                        why: format!(
                            "cannot open it for appending ({error}); give a file in an existing folder"
                        ),
                    })
            })
            .transpose()?;
        if let Some(dir) = &log_dir {
            // Each run's logs on their own: what an earlier run left there is emptied.
            for named in &plan.servers {
                let path = dir.join(format!("{}.log", named.name));
                File::create(&path).map_err(|error| UsageError::BadPath {
                    flag: "--log-dir",
                    path: dir.display().to_string(),
                    why: format!("cannot write {} ({error})", path.display()),
                })?;
            }
        }
        Ok(Self {
            plan,
            lifetime: Lifetime::new(owner),
            env_file,
            log_dir,
        })
    }
}

/// `--log-dir DIR`: an existing folder, made absolute (NAME_LOG is read from other folders).
fn log_dir(given: &std::path::Path) -> Result<PathBuf, UsageError> {
    let bad = |why: String| UsageError::BadPath {
        flag: "--log-dir",
        path: given.display().to_string(),
        why,
    };
    match std::fs::metadata(given) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(bad("not a directory; give an existing folder".into())),
        Err(error) => return Err(bad(format!("{error}; create the folder first"))),
    }
    std::fs::canonicalize(given).map_err(|error| bad(error.to_string()))
}
