//! pricewatch's operations, over the core's ports and the AWS adapters:
//! the deploy engine, the warehouse (its sessions, `sql apply`, refresh,
//! the lease, the bootstrap, the local stream load), `sql apply`'s
//! sequence (owner, setup, models under the lease), check runs and their
//! publication, the dashboard's reconciler and SPICE ingestions, the item
//! clusters, the report's data and publication, the catalog's facts,
//! `backfill` from the snapshot archive, and the operational cycle the
//! CLI and the operator Lambda share. Two features bring the SDKs only the
//! CLI needs: `backfill` (S3) and `bootstrap` (Redshift Serverless and
//! Secrets Manager for `Services::connect_admin`); without
//! them the crate links what the cycle calls.

#[cfg(feature = "backfill")]
pub mod backfill;
pub mod catalog_facts;
pub mod checks_run;
pub(crate) mod clusters;
pub mod cycle;
pub mod dashboard;
pub mod deploy;
pub mod refresh_run;
pub mod report_data;
pub mod report_publish;
pub mod services;
pub mod sql_apply;
pub(crate) mod wait;
pub mod warehouse;

/// Runs a future to completion in unit tests.
#[cfg(test)]
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime starts")
        .block_on(future)
}
