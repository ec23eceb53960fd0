//! The QuickSight dashboard as code: its definition (a Tera-rendered JSON
//! template checked against the gold models), the assets it needs per env,
//! the reconciler behind `dashboard publish` and the SPICE refresh behind
//! `dashboard refresh`. AWS calls go through the [`api::QuickSight`] trait.

pub mod api;
pub mod definition;
#[cfg(test)]
mod fake;
pub mod reconcile;
pub mod refresh;
pub mod spec;

use std::time::Duration;

use crate::cloud::AwsError;

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
