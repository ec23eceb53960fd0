//! The QuickSight dashboard as code: its definition (a Tera-rendered JSON
//! template checked against the gold models), the assets it needs per env
//! ([`spec`]) and the QuickSight port ([`api::QuickSight`]) the operations
//! reconcile through.

pub mod api;
pub mod definition;
pub mod spec;
