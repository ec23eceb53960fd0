//! The `pricewatch` command line: clap types ([`cli`]), one module per
//! command ([`commands`]) that turns arguments into an operation of
//! `pricewatch-ops` and prints its result, the printers and the progress
//! spinner ([`output`]), and the exit codes ([`error`]).

pub mod cli;
pub mod commands;
pub mod error;
pub mod output;
