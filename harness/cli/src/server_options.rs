//! The per-server options for servers that are not ours: `--listening NAME`,
//! `--env NAME=KEY=VALUE` and `--cwd NAME=DIR`, checked before anything starts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::args::StackArgs;
use super::plan::split_pair;
use super::usage::UsageError;
use harness::{Ready, Server};

/// The per-server options, by server name.
#[derive(Debug, Default)]
pub(crate) struct ServerOptions {
    /// The servers that are ready once they listen (`--listening`).
    pub(crate) listening: BTreeSet<String>,
    /// Extra environment per server, in the order given.
    env: BTreeMap<String, Vec<(String, String)>>,
    /// Working directory per server.
    cwd: BTreeMap<String, PathBuf>,
}

impl ServerOptions {
    /// Checks the options of `args` against the server names `known` accepts.
    pub(crate) fn parse(
        args: &StackArgs,
        known: &impl Fn(&str) -> bool,
    ) -> Result<Self, UsageError> {
        let mut options = Self::default();
        let unknown = |flag, name: &str| UsageError::UnknownServer {
            flag,
            name: name.to_owned(),
        };
        for name in &args.listening {
            if !known(name) {
                return Err(unknown("--listening", name));
            }
            if !options.listening.insert(name.clone()) {
                return Err(UsageError::Repeated {
                    flag: "--listening",
                    name: name.clone(),
                });
            }
        }
        for given in &args.env {
            let (name, pair) = split_pair("--env", given, "NAME=KEY=VALUE")?;
            if !known(name) {
                return Err(unknown("--env", name));
            }
            let (key, value) = split_pair("--env", pair, "NAME=KEY=VALUE")?;
            if key == harness::INSTANCE_ID_ENV {
                return Err(UsageError::OwnInstanceId {
                    name: name.to_owned(),
                });
            }
            options
                .env
                .entry(name.to_owned())
                .or_default()
                .push((key.to_owned(), value.to_owned()));
        }
        for given in &args.cwd {
            let (name, dir) = split_pair("--cwd", given, "NAME=DIR")?;
            if !known(name) {
                return Err(unknown("--cwd", name));
            }
            let bad = |why: String| UsageError::BadDir {
                name: name.to_owned(),
                dir: dir.to_owned(),
                why,
            };
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(bad("not a directory".into())),
                Err(error) => return Err(bad(error.to_string())),
            }
            if options
                .cwd
                .insert(name.to_owned(), PathBuf::from(dir))
                .is_some()
            {
                return Err(UsageError::Repeated {
                    flag: "--cwd",
                    name: name.to_owned(),
                });
            }
        }
        Ok(options)
    }

    /// `server` (named `name`) with its options applied.
    pub(crate) fn apply(&self, name: &str, mut server: Server) -> Server {
        if self.listening.contains(name) {
            server = server.ready(Ready::listening());
        }
        for (key, value) in self.env.get(name).into_iter().flatten() {
            server = server.env(key, value);
        }
        if let Some(dir) = self.cwd.get(name) {
            server = server.current_dir(dir);
        }
        server
    }
}
