//! The results: a markdown table for people, a JSON object for machines.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// One line of the table.
#[derive(Debug)]
pub(crate) struct Line {
    /// Which row of the issue, like `a. Ready latency`.
    pub(crate) row: String,
    /// What was measured, briefly.
    pub(crate) measured: String,
    /// The numbers.
    pub(crate) result: String,
    /// The target, or `—`.
    pub(crate) target: String,
    /// Whether the target was met; `None` without a target.
    pub(crate) met: Option<bool>,
}

/// Everything measured so far.
#[derive(Debug, Default)]
pub(crate) struct Report {
    lines: Vec<Line>,
    json: Map<String, Value>,
}

impl Report {
    /// Adds a table line.
    pub(crate) fn line(&mut self, line: Line) {
        self.lines.push(line);
    }

    /// Sets a JSON key.
    pub(crate) fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.json.insert(key.to_owned(), value.into());
    }

    /// Sets a JSON key to a number rounded to three decimals.
    pub(crate) fn num(&mut self, key: &str, value: f64) {
        self.set(key, super::stats::round(value));
    }

    /// The JSON object, pretty-printed.
    pub(crate) fn json(&self) -> String {
        serde_json::to_string_pretty(&self.json).expect("plain data serializes")
    }

    /// The markdown table.
    pub(crate) fn markdown(&self) -> String {
        let mut out =
            String::from("| Row | Measured | Result | Target | Met |\n|---|---|---|---|---|\n");
        for line in &self.lines {
            let met = match line.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            writeln!(
                out,
                "| {} | {} | {} | {} | {met} |",
                line.row, line.measured, line.result, line.target
            )
            .expect("writing to a String");
        }
        out
    }
}
