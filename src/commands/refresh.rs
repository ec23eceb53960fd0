//! `pricewatch refresh`: refreshes the warehouse's materialized models.

use pricewatch_ops::refresh_run::refresh_models;
use pricewatch_ops::warehouse::refresh;

use super::{with_services, Session};
use crate::cli::RefreshArgs;
use crate::error::{ExitStatus, UsageError};
use crate::print;

pub(super) fn run(session: &Session, args: RefreshArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("refresh")?;
    let env = &bundle.env;
    let selected = refresh::select(&bundle.models, &args.select).map_err(UsageError)?;
    let parallelism = args.parallelism.unwrap_or(env.settings.refresh.parallelism) as usize;
    let reporter = session.reporter.as_ref();
    let report = with_services(env, async |services| {
        services
            .holding_lease("refresh", args.lease.wait, reporter, async {
                refresh_models(
                    &bundle,
                    services,
                    &selected,
                    parallelism,
                    args.full,
                    reporter,
                )
                .await
            })
            .await
    })?;
    session.printer.result(|| print::refresh(&report), &report);
    Ok(if report.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
