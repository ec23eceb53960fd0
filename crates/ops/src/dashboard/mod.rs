//! The dashboard's operations: `dashboard publish` reconciles the QuickSight
//! assets with the definition, `dashboard refresh` runs SPICE ingestions.
//! AWS calls go through the core's [`pricewatch_core::dashboard::quicksight::QuickSight`] trait.

#[cfg(test)]
pub(crate) mod fake;
pub mod publish;
pub mod reconcile;
pub mod refresh;
pub mod spice;

use std::time::Duration;

use pricewatch_core::cloud::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("QuickSight could not build version {version} of dashboard {id}: {}; the published version is unchanged", errors.join("; "))]
    VersionFailed {
        id: String,
        version: i64,
        errors: Vec<String>,
    },
    #[error("gave up waiting for {what} after {} s; run the command again to see where it stands", waited.as_secs())]
    Timeout { what: String, waited: Duration },
}
