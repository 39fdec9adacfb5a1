//! A spinner on stderr for the demo's long steps (installing, building, starting).
//!
//! indicatif draws nothing when stderr is not a terminal (CI, a test capturing the output), so the
//! step is then announced on a line of its own instead, and nobody waits without a word.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Starts a spinner showing `message` and the time spent so far.
pub(super) fn spinner(message: impl Into<String>) -> ProgressBar {
    let message = message.into();
    let bar = quiet_spinner(message.clone());
    if bar.is_hidden() {
        say!("harness demo: {message}...");
    }
    bar
}

/// Like [`spinner`], for a step already announced (a command printed before it runs).
pub(super) fn quiet_spinner(message: impl Into<String>) -> ProgressBar {
    let message = message.into();
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .expect("a valid template")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
    );
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
