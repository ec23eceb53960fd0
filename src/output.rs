//! Where output goes. [`Printer`] writes results to stdout as text or JSON;
//! [`Reporter`] (from the core) carries logs and progress to stderr, so core code never
//! prints and quiet or JSON modes are a different reporter, not `if`s:
//! [`ProgressReporter`] (a spinner with the current step and the elapsed
//! time, on a terminal) or [`StderrReporter`] (plain lines, for CI and logs).

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::cli::OutputFormat;
pub(crate) use pricewatch_core::reporter::{Reporter, StderrReporter};

/// Results on stdout.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    pub format: OutputFormat,
    /// The spinner to keep out of the way of results, on a terminal.
    pub(crate) progress: Option<ProgressBar>,
}

impl Printer {
    pub(crate) fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Prints the text form, or the JSON form, of a result.
    pub(crate) fn result<T: Serialize>(&self, text: impl FnOnce() -> String, json: &T) {
        let mut stdout = std::io::stdout().lock();
        let out = match self.format {
            OutputFormat::Text => text(),
            OutputFormat::Json => serde_json::to_string_pretty(json).expect("results serialize"),
        };
        let mut write = || {
            // A closed stdout (e.g. `| head`) is not worth a panic.
            let _ = writeln!(stdout, "{}", out.trim_end());
        };
        match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// A spinner on stderr showing the latest step and the time since the
/// command started; every step also stays as a line above it.
pub(crate) struct ProgressReporter {
    bar: ProgressBar,
    level: u8,
}

impl ProgressReporter {
    pub(crate) fn new(level: u8) -> ProgressReporter {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}")
                .expect("the template is valid")
                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        ProgressReporter { bar, level }
    }

    /// The bar, for the printer to write results around it.
    pub(crate) fn bar(&self) -> ProgressBar {
        self.bar.clone()
    }
}

impl Reporter for ProgressReporter {
    fn info(&self, message: &str) {
        self.bar.println(message);
        self.bar
            .set_message(message.lines().next().unwrap_or_default().to_string());
    }

    fn warn(&self, message: &str) {
        self.bar.println(format!("warning: {message}"));
    }

    fn debug(&self, message: &str) {
        if self.level >= 2 {
            self.bar.println(message);
        }
    }

    fn suspended(&self, work: &mut dyn FnMut()) {
        self.bar.suspend(work);
    }
}

impl Drop for ProgressReporter {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
