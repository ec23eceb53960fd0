//! `pricewatch sql …`: the warehouse's SQL models.

mod apply;

use super::Session;
use crate::cli::{SqlArgs, SqlCommand};
use crate::error::ExitStatus;

pub(super) fn run(session: &Session, args: SqlArgs) -> anyhow::Result<ExitStatus> {
    match args.command {
        SqlCommand::Apply(args) => apply::run(session, args),
    }
}
