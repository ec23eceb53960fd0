//! pricewatch's pure core: the env config, the project's templates and SQL
//! models rendered into an env's [`bundle::Bundle`], the data-quality
//! checks, the dashboard definition, the catalog and the report rendered
//! from data, and the pure halves of ingest (the page parser, records,
//! the snapshot archive's objects, fixtures) and of backfill. No tokio and no AWS SDK; [`project::Project::load`] is the
//! only place that reads the project's files. The ports other crates
//! implement (AWS, the warehouse) are in [`cloud`].
//!
//! Modules, bottom up: leaves (`diag`, `hash`, `time`, `escape`, `limits`,
//! `dag`, `sql_text`, `model`, `payload`, `cloud`, `reporter`), then
//! `config`, then `ingest` (sources are declared in the config), then
//! `render`, `checks`, `dashboard`, `clusters`, then `backfill`, `catalog`
//! and `report`, then `project` and `bundle`.

pub mod backfill;
pub mod backoff;
pub mod bundle;
pub mod catalog;
pub mod checks;
pub mod cloud;
pub mod clusters;
pub mod config;
pub mod dag;
pub mod dashboard;
pub(crate) mod diag;
pub(crate) mod escape;
#[cfg(test)]
mod fuzz;
pub mod hash;
pub mod ingest;
pub mod limits;
pub mod manifest;
pub mod model;
pub(crate) mod payload;
pub mod project;
pub mod render;
pub mod report;
pub mod reporter;
pub mod sql_text;
pub mod time;
