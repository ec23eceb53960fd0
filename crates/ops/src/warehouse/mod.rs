//! The warehouse: where the SQL models live (Redshift Serverless in AWS
//! envs, PostgreSQL in `local`). Commands reach it through the small
//! [`Statements`] trait; `apply.rs` decides what `sql apply` must do.

pub mod apply;
pub mod bootstrap;
pub mod lease;
pub mod postgres;
pub(crate) mod redshift;
pub mod refresh;
pub(crate) mod stream_load;

pub use pricewatch_core::cloud::{Statements, WarehouseError};
