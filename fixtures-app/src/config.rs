//! Command-line flags, each also settable from the environment.
//!
//! The misbehaviour switches exist so the harness can be tested against real failures: a server
//! that dies before its handshake, never prints one, prints a broken one, floods its pipes, leaves a
//! grandchild behind or shrugs off SIGTERM.

use std::net::{IpAddr, Ipv4Addr};

use clap::Parser;

/// How the fixture app is started.
#[derive(Debug, Clone, Parser)]
#[command(name = "fixtures-app", version, about)]
pub struct Config {
    /// The IP address to bind; without it, `HARNESS_HOST` (set by a harness asked to make the
    /// server reachable from other machines) when it is an IP address, else 127.0.0.1.
    #[arg(long, env = "FIXTURES_HOST", default_value_t = default_host())]
    pub host: IpAddr,

    /// The port to bind; 0 lets the OS pick a free one.
    #[arg(long, env = "PORT", default_value_t = 0)]
    pub port: u16,

    /// The id `/whoami` and `/health` report; random when not given.
    #[arg(long, env = "HARNESS_INSTANCE_ID")]
    pub instance_id: Option<String>,

    /// Shut down gracefully when stdin reaches end of file.
    #[arg(long, env = "FIXTURES_EXIT_ON_STDIN_EOF")]
    pub exit_on_stdin_eof: bool,

    /// Misbehaviour: bind, then exit with this code before printing the handshake.
    #[arg(long, env = "FIXTURES_EXIT_BEFORE_HANDSHAKE", value_name = "CODE")]
    pub exit_before_handshake: Option<u8>,

    /// Misbehaviour: bind and serve, but never print the handshake.
    #[arg(long, env = "FIXTURES_NO_HANDSHAKE")]
    pub no_handshake: bool,

    /// Misbehaviour: print a handshake line the parser rejects (it claims port 0).
    #[arg(long, env = "FIXTURES_MALFORMED_HANDSHAKE")]
    pub malformed_handshake: bool,

    /// Misbehaviour: wait this long after binding before printing the handshake.
    #[arg(
        long,
        env = "FIXTURES_HANDSHAKE_DELAY_MS",
        value_name = "MS",
        default_value_t = 0
    )]
    pub handshake_delay_ms: u64,

    /// Misbehaviour: write this many bytes of log-like lines to stdout before the handshake.
    #[arg(
        long,
        env = "FIXTURES_STDOUT_BYTES_BEFORE",
        value_name = "N",
        default_value_t = 0
    )]
    pub stdout_bytes_before: u64,

    /// Misbehaviour: write this many bytes of log-like lines to stderr before the handshake.
    #[arg(
        long,
        env = "FIXTURES_STDERR_BYTES_BEFORE",
        value_name = "N",
        default_value_t = 0
    )]
    pub stderr_bytes_before: u64,

    /// Misbehaviour: write this many bytes to stdout after the handshake, while serving.
    #[arg(
        long,
        env = "FIXTURES_STDOUT_BYTES_AFTER",
        value_name = "N",
        default_value_t = 0
    )]
    pub stdout_bytes_after: u64,

    /// Misbehaviour: write this many bytes to stderr after the handshake, while serving.
    #[arg(
        long,
        env = "FIXTURES_STDERR_BYTES_AFTER",
        value_name = "N",
        default_value_t = 0
    )]
    pub stderr_bytes_after: u64,

    /// Misbehaviour: spawn `sleep 3600` in this process group, holding stdout and stderr open.
    #[arg(long, env = "FIXTURES_SPAWN_GRANDCHILD")]
    pub spawn_grandchild: bool,

    /// Misbehaviour: log SIGTERM and keep serving (SIGINT and SIGKILL still stop the app).
    #[arg(long, env = "FIXTURES_IGNORE_SIGTERM")]
    pub ignore_sigterm: bool,
}

/// `HARNESS_HOST` when it is an IP address, else loopback.
fn default_host() -> IpAddr {
    host_or_loopback(std::env::var("HARNESS_HOST").ok().as_deref())
}

/// `value` as an IP address, else 127.0.0.1.
fn host_or_loopback(value: Option<&str>) -> IpAddr {
    value
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bind_loopback_on_an_os_port() {
        let config = Config::try_parse_from(["fixtures-app"]).unwrap();
        // The environment may override the defaults (a harness sets `PORT`, for instance).
        if std::env::var_os("FIXTURES_HOST").is_none() && std::env::var_os("HARNESS_HOST").is_none()
        {
            assert_eq!(config.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        if std::env::var_os("PORT").is_none() {
            assert_eq!(config.port, 0);
        }
    }

    #[test]
    fn harness_host_is_the_default_when_it_is_an_address() {
        assert_eq!(
            host_or_loopback(Some("127.0.0.2")),
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))
        );
        for value in [None, Some(""), Some("not-an-ip")] {
            assert_eq!(host_or_loopback(value), IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
    }

    #[test]
    fn flags_parse() {
        let config = Config::try_parse_from([
            "fixtures-app",
            "--host",
            "::1",
            "--port",
            "8080",
            "--exit-before-handshake",
            "3",
            "--stdout-bytes-after",
            "1024",
            "--ignore-sigterm",
        ])
        .unwrap();
        assert_eq!(config.host, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(config.port, 8080);
        assert_eq!(config.exit_before_handshake, Some(3));
        assert_eq!(config.stdout_bytes_after, 1024);
        assert!(config.ignore_sigterm);
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Config::command().debug_assert();
    }
}
