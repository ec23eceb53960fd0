//! The `pricewatch` binary: parse arguments, run the command, map the
//! outcome to an exit code. All work lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pricewatch::cli::Cli::parse();
    match pricewatch::commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            eprintln!("error: {error:#}");
            pricewatch::error::exit_status(&error).into()
        }
    }
}
