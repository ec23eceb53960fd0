//! The `pricewatch` command line: clap types ([`cli`]), one module per
//! command ([`commands`]) that turns arguments into an operation of
//! `pricewatch-ops` and prints its result, the printers and the progress
//! spinner ([`output`]), the text printers several commands share
//! ([`print`]), the exit codes ([`error`]), and the output
//! folders `report` and `docs` share with their user ([`owned_dir`]).

pub mod cli;
pub mod commands;
pub mod error;
pub(crate) mod output;
pub(crate) mod owned_dir;
pub(crate) mod print;
