//! The QuickSight dashboard as code: its definition (a Tera-rendered JSON
//! template checked against the gold models), the assets it needs per env
//! ([`spec`]); the operations reconcile it through the QuickSight port,
//! [`crate::dashboard::quicksight::QuickSight`].

pub mod definition;
pub mod quicksight;
pub mod spec;
