//! Where output goes. [`Printer`] writes results to stdout as text or JSON;
//! [`Reporter`] carries logs and progress to stderr, so core code never
//! prints and quiet or JSON modes are a different reporter, not `if`s.

use std::io::Write;

use serde::Serialize;

use crate::cli::OutputFormat;

/// Results on stdout.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: OutputFormat,
}

impl Printer {
    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Prints the text form, or the JSON form, of a result.
    pub fn result<T: Serialize>(&self, text: impl FnOnce() -> String, json: &T) {
        let mut stdout = std::io::stdout().lock();
        let out = match self.format {
            OutputFormat::Text => text(),
            OutputFormat::Json => serde_json::to_string_pretty(json).expect("results serialize"),
        };
        // A closed stdout (e.g. `| head`) is not worth a panic.
        let _ = writeln!(stdout, "{}", out.trim_end());
    }
}

/// Logs and progress on stderr.
pub trait Reporter: Send + Sync {
    fn info(&self, message: &str);
    fn warn(&self, message: &str);
    fn debug(&self, message: &str);
}

/// Plain lines on stderr, filtered by verbosity.
pub struct StderrReporter {
    /// 0 quiet (warnings only), 1 normal, 2+ verbose.
    pub level: u8,
}

impl Reporter for StderrReporter {
    fn info(&self, message: &str) {
        if self.level >= 1 {
            eprintln!("{message}");
        }
    }

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    fn debug(&self, message: &str) {
        if self.level >= 2 {
            eprintln!("{message}");
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::Reporter;

    /// Swallows every log line.
    pub struct SilentReporter;

    impl Reporter for SilentReporter {
        fn info(&self, _: &str) {}
        fn warn(&self, _: &str) {}
        fn debug(&self, _: &str) {}
    }
}
