//! How errors are shown: `Debug` as `Display` plus the causes, a chain on one line, and the
//! notes that messages are built from.

use std::fmt;

use super::Error;

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\ncaused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// An error and its causes on one line: `error: cause: cause`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(super) fn seen_notes(seen: &[String]) -> String {
    seen.iter().map(|note| format!("\n  {note}")).collect()
}

/// `: its nodes offer A, B` for what a Grid's nodes offer (`: it has no nodes` for none), or
/// nothing when that is not known.
#[cfg(feature = "browser")]
pub(super) fn offers(offered: &Option<Vec<String>>) -> String {
    match offered.as_deref() {
        None => String::new(),
        Some([]) => ": it has no nodes".into(),
        Some(nodes) => format!(": its nodes offer {}", nodes.join(", ")),
    }
}

pub(super) fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!(" (binaries there: {})", available.join(", "))
    }
}
