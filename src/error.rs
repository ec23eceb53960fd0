//! Error classification at the command edge: what the user can do about a
//! failure decides the exit code (2 for usage errors, 1 for everything else).

use std::process::ExitCode;

use pricewatch_core::config::ConfigError;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; also "no changes".
    Success,
    /// The operation failed or needs action.
    Failure,
    /// The command line was wrong.
    Usage,
    /// `plan --detailed-exitcode`: there are changes.
    Changes,
    /// `check`: the checks could not run at all.
    NotRun,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Usage | ExitStatus::Changes | ExitStatus::NotRun => ExitCode::from(2),
        }
    }
}

/// A mistake in how pricewatch was called, not in the project or in AWS.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub String);

pub use pricewatch_ops::checks_run::ChecksNotRun;

pub fn exit_status(error: &anyhow::Error) -> ExitStatus {
    if error.downcast_ref::<ChecksNotRun>().is_some() {
        return ExitStatus::NotRun;
    }
    let usage = error.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause
                .downcast_ref::<ConfigError>()
                .is_some_and(ConfigError::is_usage)
    });
    if usage {
        ExitStatus::Usage
    } else {
        ExitStatus::Failure
    }
}
