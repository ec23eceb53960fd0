//! pricewatch renders, deploys and operates the ElectroWorld pricing-data
//! pipeline: per-environment CloudFormation and Redshift/PostgreSQL SQL from
//! Tera templates, and the commands that run it.

pub mod aws;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod cloud;
pub mod clusters;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod deploy;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod ingest;
pub mod limits;
pub mod output;
pub mod plan;
pub mod render;
pub mod report;
pub mod sql_text;
pub mod wait;
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
