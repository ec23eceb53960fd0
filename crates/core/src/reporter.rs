//! How operations report progress without printing: the [`Reporter`] trait
//! core and operations code logs through, and the two reporters that need
//! no terminal (plain lines on stderr, and silence). The CLI adds a spinner.

/// Logs and progress on stderr.
pub trait Reporter: Send + Sync {
    fn info(&self, message: &str);
    fn warn(&self, message: &str);
    fn debug(&self, message: &str);
    /// Runs `work` (a prompt, say) with any progress display out of the way.
    fn suspended(&self, work: &mut dyn FnMut()) {
        work();
    }
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

/// Swallows every log line (tests).
pub struct SilentReporter;

impl Reporter for SilentReporter {
    fn info(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn debug(&self, _: &str) {}
}
