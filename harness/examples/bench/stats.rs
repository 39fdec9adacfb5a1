//! Samples of durations and the two numbers reported for them: median and p95.

use std::time::Duration;

/// Durations measured for one method.
#[derive(Debug, Default, Clone)]
pub(crate) struct Samples(Vec<Duration>);

impl Samples {
    /// Records one measurement.
    pub(crate) fn push(&mut self, sample: Duration) {
        self.0.push(sample);
    }

    /// How many measurements.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted
    }

    /// The median (the mean of the two middle values for an even count).
    pub(crate) fn median(&self) -> Duration {
        let sorted = self.sorted();
        assert!(!sorted.is_empty(), "no samples");
        let mid = sorted.len() / 2;
        if sorted.len().is_multiple_of(2) {
            (sorted[mid - 1] + sorted[mid]) / 2
        } else {
            sorted[mid]
        }
    }

    /// The 95th percentile, nearest rank.
    pub(crate) fn p95(&self) -> Duration {
        let sorted = self.sorted();
        assert!(!sorted.is_empty(), "no samples");
        let rank = (sorted.len() * 95).div_ceil(100);
        sorted[rank.max(1) - 1]
    }

    /// Median in milliseconds.
    pub(crate) fn median_ms(&self) -> f64 {
        ms(self.median())
    }

    /// p95 in milliseconds.
    pub(crate) fn p95_ms(&self) -> f64 {
        ms(self.p95())
    }

    /// `median ms (p95 p95ms)`, for the table.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} ms (p95 {})",
            fmt_ms(self.median_ms()),
            fmt_ms(self.p95_ms())
        )
    }
}

/// A duration in milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Milliseconds with sensible precision: `0.84`, `3.1`, `254`.
pub(crate) fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.2}")
    } else if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// Rounds for the JSON file: three significant decimals are plenty.
pub(crate) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
