//! Pure planning logic shared by stacks and SQL models: dependency graphs,
//! their order and their waves. No I/O here.

pub mod dag;

pub use dag::{Dag, DagError, Waves};
