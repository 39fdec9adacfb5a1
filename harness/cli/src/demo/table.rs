//! The demo's report: one row per instance, then what failed, if anything.

use std::fmt;
use std::time::Duration;

use super::checks::Check;

/// What one instance did.
#[derive(Debug)]
pub(super) struct Row {
    /// 1-based.
    pub(super) instance: usize,
    /// The server's base URL.
    pub(super) url: String,
    /// The checks, in order; empty if the instance's task itself failed.
    pub(super) checks: Vec<Check>,
    /// How many checks there should be.
    pub(super) expected: usize,
    /// How long the checks took.
    pub(super) elapsed: Duration,
}

impl Row {
    fn passed(&self) -> usize {
        self.checks.iter().filter(|c| c.outcome.is_ok()).count()
    }

    /// Whether every expected check ran and passed.
    pub(super) fn ok(&self) -> bool {
        self.checks.len() == self.expected && self.passed() == self.expected
    }
}

/// Every instance's row, displayed as an aligned table followed by the failures.
#[derive(Debug)]
pub(super) struct Table<'a>(pub(super) &'a [Row]);

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cells: Vec<[String; 4]> = self
            .0
            .iter()
            .map(|row| {
                let verdict = if row.ok() { "passed" } else { "FAILED" };
                [
                    row.instance.to_string(),
                    row.url.clone(),
                    format!("{}/{} {verdict}", row.passed(), row.expected),
                    format!("{:.2} s", row.elapsed.as_secs_f64()),
                ]
            })
            .collect();
        let header = ["instance", "url", "checks passed", "time"];
        let mut widths = header.map(str::len);
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 4]| {
            let [a, b, c, d] = cells;
            let [wa, wb, wc, _] = widths;
            writeln!(f, "{a:<wa$}  {b:<wb$}  {c:<wc$}  {d}")
        };
        line(f, header)?;
        for row in &cells {
            line(f, [&row[0], &row[1], &row[2], &row[3]])?;
        }
        for row in self.0 {
            for check in &row.checks {
                if let Err(why) = &check.outcome {
                    writeln!(f, "instance {} {}: {why}", row.instance, check.name)?;
                }
            }
        }
        let total: usize = self.0.iter().map(|r| r.expected).sum();
        let passed: usize = self.0.iter().map(Row::passed).sum();
        if passed == total {
            write!(f, "all {total} checks passed")
        } else {
            write!(f, "{} of {total} checks failed", total - passed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(instance: usize, outcomes: &[Result<(), String>]) -> Row {
        Row {
            instance,
            url: format!("http://127.0.0.1:4000{instance}/"),
            checks: outcomes
                .iter()
                .map(|outcome| Check {
                    name: "form",
                    outcome: outcome.clone(),
                })
                .collect(),
            expected: 2,
            elapsed: Duration::from_millis(1500),
        }
    }

    #[test]
    fn rows_align_and_failures_are_listed() {
        let rows = [
            row(1, &[Ok(()), Ok(())]),
            row(2, &[Ok(()), Err("boom".into())]),
        ];
        let text = Table(&rows).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "instance  url                      checks passed  time"
        );
        assert_eq!(
            lines[1],
            "1         http://127.0.0.1:40001/  2/2 passed     1.50 s"
        );
        assert_eq!(
            lines[2],
            "2         http://127.0.0.1:40002/  1/2 FAILED     1.50 s"
        );
        assert_eq!(lines[3], "instance 2 form: boom");
        assert_eq!(lines[4], "1 of 4 checks failed");
        assert!(rows[0].ok() && !rows[1].ok());
    }
}
