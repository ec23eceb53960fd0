//! `pricewatch refresh`: refreshes the warehouse's materialized models.

use pricewatch_core::clusters::CLUSTERS_TABLE;
use pricewatch_ops::refresh_run::{refresh_models, Refreshed};
use pricewatch_ops::warehouse::refresh::{self, RefreshStatus};

use super::{with_services, Session};
use crate::cli::RefreshArgs;
use crate::error::{ExitStatus, UsageError};

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
    session.printer.result(|| text(&report), &report);
    Ok(if report.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

pub(super) fn text(report: &Refreshed) -> String {
    let mut lines: Vec<String> = report
        .loaded
        .iter()
        .map(|(stream, count)| format!("loaded {count} record(s) from {stream}"))
        .collect();
    lines.push(format!("{:<28} {:<10} {:>8}", "model", "status", "seconds"));
    for m in &report.models {
        let status = match m.status {
            RefreshStatus::Refreshed => "refreshed",
            RefreshStatus::Failed => "FAILED",
            RefreshStatus::Skipped => "skipped",
        };
        lines.push(format!("{:<28} {:<10} {:>8.3}", m.model, status, m.seconds));
        if let Some(detail) = &m.detail {
            lines.push(format!("    {detail}"));
        }
    }
    if let Some(c) = &report.clusters {
        lines.push(format!(
            "{}: {} item(s) in {} cluster(s) in {:.3}s",
            CLUSTERS_TABLE, c.items, c.clusters, c.seconds
        ));
    }
    let count = |s: RefreshStatus| report.models.iter().filter(|m| m.status == s).count();
    lines.push(format!(
        "env {}: {} refreshed, {} failed, {} skipped in {:.3}s ({} at once)",
        report.env,
        count(RefreshStatus::Refreshed),
        count(RefreshStatus::Failed),
        count(RefreshStatus::Skipped),
        report.seconds,
        report.parallelism
    ));
    lines.join("\n")
}
