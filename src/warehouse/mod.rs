//! The warehouse: where the SQL models live (Redshift Serverless in AWS
//! envs, PostgreSQL in `local`). Commands reach it through the small
//! [`Statements`] trait; `apply.rs` decides what `sql apply` must do.

pub mod apply;
pub mod backfill;
pub mod bootstrap;
pub mod lease;
pub mod postgres;
pub mod redshift;
pub mod refresh;
pub mod stream_load;

use crate::config::Dialect;

/// A failed warehouse statement or connection, with what was being done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WarehouseError {
    #[error("cannot reach the warehouse ({target}): {message}")]
    Unreachable { target: String, message: String },
    #[error("{context} failed: {message}")]
    Statement { context: String, message: String },
}

/// Runs SQL in the warehouse.
#[allow(async_fn_in_trait)]
pub trait Statements {
    /// The SQL dialect the warehouse speaks (literals and statements differ).
    fn dialect(&self) -> Dialect;
    /// Runs one or more statements; `context` names what they are for
    /// (e.g. the model) in errors.
    async fn execute(&self, context: &str, sql: &str) -> Result<(), WarehouseError>;
    /// Runs a query; every value as text (NULL as None).
    async fn query(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, WarehouseError>;
}
