//! Why a line is not a valid handshake, and how an error quotes it.

use std::fmt;
use std::net::IpAddr;

use super::VERSION;

/// How much of an offending line an error quotes before shortening it.
const QUOTE_LIMIT: usize = 200;

/// Why a line is not a valid v1 handshake. Every variant quotes the line (shortened if long).
///
/// ```
/// use harness::handshake::{HandshakeError, parse};
/// let err = parse(r#"{"harness":2,"pid":7}"#).unwrap_err();
/// assert!(matches!(err, HandshakeError::UnsupportedVersion { .. }));
/// assert!(err.to_string().starts_with("handshake version 2 is not supported"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The line is not a JSON object.
    #[error("handshake line is not a JSON object ({reason}): {line}")]
    NotJson {
        /// The quoted line.
        line: Quoted,
        /// What serde_json said.
        reason: String,
    },
    /// The JSON object has no `"harness"` key.
    #[error("handshake line has no \"harness\" version key: {line}")]
    MissingVersion {
        /// The quoted line.
        line: Quoted,
    },
    /// The version is not one this crate speaks.
    #[error(
        "handshake version {found} is not supported (this harness speaks version {VERSION}): {line}"
    )]
    UnsupportedVersion {
        /// The version found, as written.
        found: String,
        /// The quoted line.
        line: Quoted,
    },
    /// A required field is missing or has the wrong type.
    #[error("handshake field `{field}` {problem}: {line}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
        /// The quoted line.
        line: Quoted,
    },
    /// A listener announces an IP address that is not a loopback address of this machine, such as
    /// `10.1.2.3`: the harness refuses to connect anywhere but here.
    ///
    /// ```
    /// use harness::handshake::{HandshakeError, parse};
    /// let err = parse(r#"{"harness":1,"pid":7,"listening":{"http":"http://10.1.2.3:8080"}}"#).unwrap_err();
    /// assert!(matches!(err, HandshakeError::NotLoopback { .. }));
    /// assert!(err.to_string().contains("announces 10.1.2.3, which is not a loopback address"));
    /// ```
    #[error(
        "handshake listener `{name}` announces {host}, which is not a loopback address of this machine; servers must bind and announce 127.0.0.1 (or another loopback address such as ::1): {line}"
    )]
    NotLoopback {
        /// The listener's name.
        name: String,
        /// The address it announced.
        host: IpAddr,
        /// The quoted line.
        line: Quoted,
    },
    /// A listener's URL breaks a rule of the protocol.
    #[error("handshake listener `{name}` has a bad URL {url:?}: {problem}: {line}")]
    Listener {
        /// The listener's name.
        name: String,
        /// The URL as written.
        url: String,
        /// What is wrong with it.
        problem: String,
        /// The quoted line.
        line: Quoted,
    },
}

/// A line quoted in an error, shortened to its first and last characters when long.
///
/// ```
/// use harness::handshake::{HandshakeError, parse};
/// if let Err(HandshakeError::NotJson { line, .. }) = parse("listening on 8080") {
///     assert_eq!(line.to_string(), r#""listening on 8080""#);
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Quoted(String);

impl Quoted {
    /// Quotes `line`, keeping at most about 200 characters of it.
    ///
    /// ```
    /// use harness::handshake::Quoted;
    /// assert_eq!(Quoted::new("short").to_string(), r#""short""#);
    /// assert!(Quoted::new(&"x".repeat(1000)).to_string().contains("<800 chars omitted>"));
    /// ```
    pub fn new(line: &str) -> Self {
        let chars: Vec<char> = line.chars().collect();
        if chars.len() <= QUOTE_LIMIT {
            return Self(format!("{line:?}"));
        }
        let keep = QUOTE_LIMIT / 2;
        let head: String = chars[..keep].iter().collect();
        let tail: String = chars[chars.len() - keep..].iter().collect();
        let omitted = chars.len() - 2 * keep;
        Self(format!("{head:?} <{omitted} chars omitted> {tail:?}"))
    }
}

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
