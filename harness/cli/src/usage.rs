//! Input errors: found before anything starts, printed on one line, exit status 2.

use std::error::Error as StdError;

/// A mistake on the command line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UsageError {
    /// clap refused the arguments.
    #[error("{message} (see `harness --help`)")]
    Clap {
        /// clap's message, on one line.
        message: String,
    },
    /// A `NAME=VALUE` option without `=` or without a name.
    #[error("{flag} {given:?}: expected {shape}")]
    Malformed {
        /// The option, like `--server`.
        flag: &'static str,
        /// What was given.
        given: String,
        /// What was expected, like `NAME=COMMAND`.
        shape: &'static str,
    },
    /// A server name with characters that cannot make an environment variable.
    #[error("server name {name:?} is invalid; use only letters, digits, `_` and `-`")]
    BadName {
        /// The name as given.
        name: String,
    },
    /// Two servers with one name.
    #[error("server `{name}` is given twice")]
    RepeatedName {
        /// The name.
        name: String,
    },
    /// Two server names that make the same variables.
    #[error("server names `{first}` and `{second}` both export {prefix}_URL; rename one")]
    DuplicateName {
        /// The first server's name.
        first: String,
        /// The second server's name.
        second: String,
        /// The variable prefix they share.
        prefix: String,
    },
    /// A server name whose variables clash with ones `harness` sets or reads.
    #[error(
        "server name `{name}` is reserved: its {variable} would clash with {reserved}; rename it"
    )]
    ReservedName {
        /// The name as given.
        name: String,
        /// The first variable it would export.
        variable: String,
        /// What it clashes with.
        reserved: &'static str,
    },
    /// A command that shell-words cannot split.
    #[error("--server {name}: cannot split {command:?} into words ({reason})")]
    BadQuoting {
        /// The server's name.
        name: String,
        /// The command as given.
        command: String,
        /// Why.
        reason: String,
    },
    /// An empty command.
    #[error("--server {name}: the command is empty")]
    EmptyCommand {
        /// The server's name.
        name: String,
    },
    /// `--ready` or `--health` for a server that was not given.
    #[error("{flag} {name}: there is no `--server {name}=...`")]
    UnknownServer {
        /// The option.
        flag: &'static str,
        /// The name it refers to.
        name: String,
    },
    /// `--ready` or `--health` given twice for one server.
    #[error("{flag} {name} is given twice")]
    Repeated {
        /// The option.
        flag: &'static str,
        /// The server's name.
        name: String,
    },
    /// `--host` is not an IP address of this machine, or is a wildcard.
    #[error("--host {given}: {reason}")]
    Host {
        /// What was given.
        given: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// The library refused a server's description (program not found, bad regex, bad path...).
    #[error("{context}: {}", one_line(.error))]
    Server {
        /// Which option or server.
        context: String,
        /// The library's error.
        error: Box<harness::Error>,
    },
    /// `--browser` names no browser we know, or its driver or browser is missing.
    #[error("--browser {given}: {}", one_line(.error))]
    Browser {
        /// What was given.
        given: String,
        /// The library's error.
        error: Box<harness::Error>,
    },
    /// `--ready NAME=@PRESET` with a preset that does not exist.
    #[error(
        "--ready {name}=@{preset}: there is no preset @{preset}; use one of {known}, or a regex with a named group `url` or `port`"
    )]
    UnknownPreset {
        /// The server's name.
        name: String,
        /// The preset as given, without `@`.
        preset: String,
        /// The presets there are.
        known: String,
    },
    /// Both `--ready` and `--listening` for one server.
    #[error("server `{name}` has both --ready and --listening; give one of them")]
    ReadyAndListening {
        /// The server's name.
        name: String,
    },
    /// `--env NAME=HARNESS_INSTANCE_ID=...`: the nonce is harness's, reported as NAME_INSTANCE_ID.
    #[error(
        "--env {name}=HARNESS_INSTANCE_ID=...: harness gives each server a fresh HARNESS_INSTANCE_ID itself (and exports it as NAME_INSTANCE_ID); remove this --env"
    )]
    OwnInstanceId {
        /// The server's name.
        name: String,
    },
    /// `--cwd NAME=DIR` with a DIR that is not a directory.
    #[error("--cwd {name}={dir}: {why}; create it or give an existing directory")]
    BadDir {
        /// The server's name.
        name: String,
        /// The directory as given.
        dir: String,
        /// What is wrong with it.
        why: String,
    },
    /// A serve option naming a file or folder that cannot be used.
    #[error("{flag} {path}: {why}")]
    BadPath {
        /// The option.
        flag: &'static str,
        /// The path as given.
        path: String,
        /// What is wrong, and what to do.
        why: String,
    },
    /// `--parent-pid` that names no running process, or that cannot be watched.
    #[error("--parent-pid {given}: {why}")]
    BadParent {
        /// What was given.
        given: String,
        /// What is wrong, and what to do.
        why: String,
    },
    /// `--detach` without anything that would ever end the detached serve.
    #[error(
        "--detach needs --parent-pid PID|parent or --stdin-eof: a detached serve must know when to stop (for a nextest setup script: --parent-pid parent)"
    )]
    DetachWithoutOwner,
    /// `harness run` without a test command.
    #[error(
        "missing TEST_COMMAND; put it after `--`, e.g. `harness run --server web=./app -- cargo test`"
    )]
    MissingCommand,
    /// The test command's program cannot be found.
    #[error("TEST_COMMAND: {}", one_line(.error))]
    TestProgram {
        /// The library's error.
        error: Box<harness::Error>,
    },
}

/// An error and its causes on one line: `error: cause: cause`, whitespace runs collapsed (regex
/// syntax errors, for one, span several lines).
pub(crate) fn one_line(error: &dyn StdError) -> String {
    harness::__cli::chain(error)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_errors_keep_their_cause_on_one_line() {
        let error = harness::Ready::line("(").unwrap_err();
        let line = UsageError::Server {
            context: "--ready web".into(),
            error: Box::new(error),
        }
        .to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("--ready web: readiness regex \"(\" does not compile: "));
        assert!(line.contains("unclosed group"), "{line}");
    }
}
