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
