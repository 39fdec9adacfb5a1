//! Turning the command line into servers to start, checking everything before anything starts.

use std::collections::BTreeMap;
use std::ffi::OsString;

use super::args::StackArgs;
use super::presets;
use super::server_options::ServerOptions;
use super::usage::UsageError;
use harness::{Browser, Ready, Server};

/// Everything `run` or `serve` will start, already checked.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The servers, in the order given.
    pub(crate) servers: Vec<Named>,
    /// The browser whose driver to start.
    pub(crate) browser: Option<Browser>,
    /// With `--pool`: the pooling WebDriver endpoint to run instead of a bare driver.
    pub(crate) pool: Option<super::webdriver::Options>,
}

/// One server and the prefix of the variables that tell the test command about it.
#[derive(Debug)]
pub(crate) struct Named {
    /// The name given on the command line.
    pub(crate) name: String,
    /// `NAME` upper-cased with `-` turned into `_`: the test command gets `{prefix}_URL`.
    pub(crate) prefix: String,
    /// The server, ready to spawn.
    pub(crate) server: Server,
}

impl Plan {
    /// Copies each server's whole output to `dir/NAME.log` as well (`--log-dir`); `dir` is
    /// absolute and exists.
    pub(crate) fn log_to(&mut self, dir: &std::path::Path) {
        for named in &mut self.servers {
            let path = dir.join(format!("{}.log", named.name));
            named.server = named.server.clone().log_file(path);
        }
    }

    /// Checks `args` and builds the plan. `echo` streams server logs to stderr (`None`: the
    /// library's default, `HARNESS_LOG=1`).
    pub(crate) fn new(args: &StackArgs, echo: Option<bool>) -> Result<Self, UsageError> {
        let mut commands: Vec<(String, String, Vec<String>)> = Vec::new();
        let mut by_prefix: BTreeMap<String, String> = BTreeMap::new();
        for given in &args.servers {
            let (name, command) = split_pair("--server", given, "NAME=COMMAND")?;
            let prefix = env_prefix(name)?;
            check_reserved(name, &prefix)?;
            if let Some(first) = by_prefix.insert(prefix.clone(), name.to_owned()) {
                if first == name {
                    return Err(UsageError::RepeatedName { name: first });
                }
                return Err(UsageError::DuplicateName {
                    first,
                    second: name.to_owned(),
                    prefix,
                });
            }
            let words = shell_words::split(command).map_err(|e| UsageError::BadQuoting {
                name: name.to_owned(),
                command: command.to_owned(),
                reason: e.to_string(),
            })?;
            if words.is_empty() {
                return Err(UsageError::EmptyCommand {
                    name: name.to_owned(),
                });
            }
            commands.push((name.to_owned(), prefix, words));
        }
        let known = |name: &str| commands.iter().any(|(n, _, _)| n == name);
        let ready = per_server("--ready", &args.ready, "NAME=REGEX", known)?;
        let health = per_server("--health", &args.health, "NAME=PATH", known)?;
        let extra = ServerOptions::parse(args, &known)?;
        let host = args.host.as_deref().map(parse_host).transpose()?;

        let mut servers = Vec::with_capacity(commands.len());
        for (name, prefix, words) in commands {
            let mut server = Server::new(&words[0])
                .args(&words[1..])
                .name(&name)
                .ready_timeout(args.ready_timeout)
                .grace(args.grace);
            if let Some(regex) = ready.get(&name) {
                if extra.listening.contains(&name) {
                    return Err(UsageError::ReadyAndListening { name });
                }
                server = server.ready(ready_rule(&name, regex)?);
            }
            server = extra.apply(&name, server);
            if let Some(path) = health.get(&name) {
                server = server.health_check(path);
            }
            if let Some(echo) = echo {
                server = server.echo_logs(echo);
            }
            if let Some(ip) = host {
                server = server.host(ip);
            }
            server
                .validate()
                .map_err(|error| match (error, &args.host) {
                    (harness::Error::BadHost { reason, .. }, Some(given)) => UsageError::Host {
                        given: given.clone(),
                        reason,
                    },
                    (error, _) => UsageError::Server {
                        context: format!("--server {name}"),
                        error: Box::new(error),
                    },
                })?;
            servers.push(Named {
                name,
                prefix,
                server,
            });
        }

        let browser = args.browser.as_deref().map(check_browser).transpose()?;
        let pool = match (browser, args.pool) {
            (Some(browser), Some(size)) => Some(super::webdriver::Options {
                browser,
                pool: usize::from(size),
                isolation: args.isolation.into(),
                lease_timeout: super::webdriver::LEASE_TIMEOUT,
                idle_timeout: super::webdriver::IDLE_TIMEOUT,
                start_timeout: args.ready_timeout,
            }),
            (None, Some(_)) => {
                return Err(UsageError::Clap {
                    message: "--pool needs --browser chrome|firefox: the pool's warm sessions \
                              are sessions of that browser"
                        .into(),
                });
            }
            (_, None) => None,
        };
        Ok(Self {
            servers,
            browser,
            pool,
        })
    }
}

/// `--host ADDR` as an IP address (whether it is one of this machine's is the library's check).
fn parse_host(given: &str) -> Result<std::net::IpAddr, UsageError> {
    given.parse().map_err(|_| UsageError::Host {
        given: given.to_owned(),
        reason: "not an IP address; give an address of this machine that the browsers can \
                 reach, e.g. the bridge address"
            .into(),
    })
}

/// The rule of `--ready NAME=VALUE`: a preset for `@PRESET`, else VALUE as a regex.
fn ready_rule(name: &str, value: &str) -> Result<Ready, UsageError> {
    if let Some(preset) = value.strip_prefix('@') {
        return presets::find(preset).ok_or_else(|| UsageError::UnknownPreset {
            name: name.to_owned(),
            preset: preset.to_owned(),
            known: presets::names(),
        });
    }
    Ready::line(value).map_err(|error| UsageError::Server {
        context: format!("--ready {name}"),
        error: Box::new(error),
    })
}

/// Parses the browser and finds its driver and binary now, so a missing one is a usage error.
pub(crate) fn check_browser(given: &str) -> Result<Browser, UsageError> {
    let fail = |error| UsageError::Browser {
        given: given.to_owned(),
        error: Box::new(error),
    };
    let browser: Browser = given.parse().map_err(fail)?;
    harness::__cli::find_driver(browser).map_err(fail)?;
    harness::__cli::find_binary(browser).map_err(fail)?;
    Ok(browser)
}

/// Checks that the test command's program exists.
pub(crate) fn check_test_command(command: &[OsString]) -> Result<(), UsageError> {
    let program = command.first().ok_or(UsageError::MissingCommand)?;
    harness::__cli::resolve(program)
        .map(drop)
        .map_err(|error| UsageError::TestProgram {
            error: Box::new(error),
        })
}

/// `NAME=VALUE` → (`NAME`, `VALUE`), the name non-empty.
pub(crate) fn split_pair<'a>(
    flag: &'static str,
    given: &'a str,
    shape: &'static str,
) -> Result<(&'a str, &'a str), UsageError> {
    match given.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        _ => Err(UsageError::Malformed {
            flag,
            given: given.to_owned(),
            shape,
        }),
    }
}

/// The values of a repeatable `NAME=VALUE` option, one per known server.
fn per_server(
    flag: &'static str,
    given: &[String],
    shape: &'static str,
    known: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, String>, UsageError> {
    let mut values = BTreeMap::new();
    for pair in given {
        let (name, value) = split_pair(flag, pair, shape)?;
        if !known(name) {
            return Err(UsageError::UnknownServer {
                flag,
                name: name.to_owned(),
            });
        }
        if values.insert(name.to_owned(), value.to_owned()).is_some() {
            return Err(UsageError::Repeated {
                flag,
                name: name.to_owned(),
            });
        }
    }
    Ok(values)
}

/// Refuses a server whose variables would clash with the ones `harness` sets or reads itself:
/// `WEBDRIVER_URL` (`--browser`) and the `HARNESS_*` settings.
fn check_reserved(name: &str, prefix: &str) -> Result<(), UsageError> {
    let clash = if prefix == "WEBDRIVER" {
        Some("the WEBDRIVER_URL that --browser sets")
    } else if prefix == "HARNESS" || prefix.starts_with("HARNESS_") {
        Some("harness's own HARNESS_* settings")
    } else {
        None
    };
    match clash {
        Some(reserved) => Err(UsageError::ReservedName {
            name: name.to_owned(),
            variable: format!("{prefix}_URL"),
            reserved,
        }),
        None => Ok(()),
    }
}

/// `web-api` → `WEB_API` (the library's rule, which `SharedServer` reads them back by), refusing
/// names that are empty or have other characters.
fn env_prefix(name: &str) -> Result<String, UsageError> {
    harness::__cli::env_prefix(name).ok_or_else(|| UsageError::BadName {
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_upper_case_with_underscores() {
        assert_eq!(env_prefix("web-api").unwrap(), "WEB_API");
        assert_eq!(env_prefix("py_2").unwrap(), "PY_2");
        for bad in ["", "a b", "é", "a.b", "a=b"] {
            assert!(env_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reserved_prefixes_are_refused() {
        for (name, prefix) in [("webdriver", "WEBDRIVER"), ("harness-log", "HARNESS_LOG")] {
            let error = check_reserved(name, prefix).unwrap_err().to_string();
            assert!(error.contains(&format!("`{name}`")), "{error}");
        }
        check_reserved("web", "WEB").unwrap();
        check_reserved("webdriver2", "WEBDRIVER2").unwrap();
    }

    #[test]
    fn pairs_need_a_name_and_an_equals_sign() {
        assert_eq!(
            split_pair("--server", "web=a=b", "NAME=COMMAND").unwrap(),
            ("web", "a=b")
        );
        assert!(split_pair("--server", "web", "NAME=COMMAND").is_err());
        assert!(split_pair("--server", "=cmd", "NAME=COMMAND").is_err());
    }
}
