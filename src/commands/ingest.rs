//! `pricewatch ingest`: the ingest Lambda's code, run in-process.

use std::time::{Duration, Instant};

use super::{with_services, Session};
use crate::cli::IngestArgs;
use crate::error::{ExitStatus, UsageError};
use pricewatch_core::config::Environment;
use pricewatch_ingest::{
    self, DryRun, IngestOutcome, Plan, RetryPolicy, Source, SourcePlan, SourceReport,
};

/// The page each enabled source reads: `--source NAME=…` or its shorthand
/// (`--products`, `--vendors`), else the env's `sources.<name>.url`. A
/// source given twice, or one the env does not ingest, is a usage error.
fn locations(env: &Environment, args: &IngestArgs) -> Result<Vec<(Source, String)>, UsageError> {
    let sources = Source::enabled(&env.settings);
    let given: Vec<(&str, &String)> = args
        .sources
        .iter()
        .map(|(name, location)| (name.as_str(), location))
        .chain(args.products.iter().map(|l| ("products", l)))
        .chain(args.vendors.iter().map(|l| ("vendors", l)))
        .collect();
    if let Some((unknown, _)) = given
        .iter()
        .find(|(name, _)| !sources.iter().any(|s| s.name() == *name))
    {
        return Err(UsageError(format!(
            "`{unknown}` is not an enabled source of env {}; the sources are {}",
            env.name,
            env.names().source_list()
        )));
    }
    sources
        .into_iter()
        .map(|source| {
            let mut pages: Vec<&String> = given
                .iter()
                .filter(|(name, _)| *name == source.name())
                .map(|(_, location)| *location)
                .collect();
            if pages.len() > 1 {
                let name = source.name();
                let shorthand = if matches!(name, "products" | "vendors") {
                    format!(" (--source {name}=… and --{name} are the same option)")
                } else {
                    String::new()
                };
                return Err(UsageError(format!(
                    "the {name} page is given {} times{shorthand}",
                    pages.len()
                )));
            }
            let location = pages
                .pop()
                .cloned()
                .unwrap_or_else(|| env.settings.sources[source.name()].url.clone());
            Ok((source, location))
        })
        .collect()
}

/// The ingest plan of an env, as the Lambda gets it from its stack.
pub(super) fn plan(env: &Environment, args: &IngestArgs) -> Result<Plan, UsageError> {
    let names = env.names();
    let ingest = &env.settings.ingest;
    Ok(Plan {
        sources: locations(env, args)?
            .into_iter()
            .map(|(source, location)| SourcePlan {
                source,
                location,
                stream: names
                    .stream(source.name())
                    .expect("every source has a stream")
                    .to_string(),
            })
            .collect(),
        state_bucket: names.artifacts_bucket.clone(),
        state_prefix: ingest.state_prefix.clone(),
        archive_bucket: names.archive_bucket.clone(),
        // One deadline for the whole run, from its start.
        retry: RetryPolicy::standard(Instant::now() + Duration::from_secs(args.retry_for)),
        call_limit: Duration::from_secs(env.settings.timeouts.aws_call_seconds.into()),
        holder: format!(
            "pricewatch ingest ({})",
            pricewatch_ops::warehouse::lease::holder_id()
        ),
    })
}

pub(super) fn run(session: &Session, args: IngestArgs) -> anyhow::Result<ExitStatus> {
    let env = session.load_env("ingest")?;
    let plan = plan(&env, &args)?;
    if args.dry_run {
        return Ok(dry_run(session, &plan));
    }
    let reports = with_services(&env, async |services| {
        Ok(pricewatch_ingest::run(
            &plan,
            pricewatch_core::time::now_unix(),
            services.aws.streams().await?,
            services.aws.objects().await?,
        )
        .await)
    })?;
    for report in &reports {
        for warning in &report.warnings {
            session
                .reporter
                .warn(&format!("{}: {warning}", report.source));
        }
        if matches!(report.outcome, IngestOutcome::Failed | IngestOutcome::Busy) {
            session.reporter.warn(&format!(
                "{}: {}",
                report.source,
                report.error.as_deref().unwrap_or("failed")
            ));
        }
    }
    session
        .printer
        .result(|| text(&reports, &session.elapsed()), &reports);
    // Busy fails the command too: this run pushed nothing, and whoever ran
    // it (on-call, a pipeline) should know the page came from another run.
    let failed = reports
        .iter()
        .any(|r| matches!(r.outcome, IngestOutcome::Failed | IngestOutcome::Busy));
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `--dry-run`: every source read, archived to a temporary file and
/// batched in turn; nothing leaves the machine.
fn dry_run(session: &Session, plan: &Plan) -> ExitStatus {
    let fetched_at = pricewatch_core::time::now_unix();
    let reports: Vec<DryRun> = plan
        .sources
        .iter()
        .map(|source| {
            let timeout = plan
                .retry
                .deadline
                .saturating_duration_since(Instant::now());
            pricewatch_ingest::dry_run(source, fetched_at, timeout)
        })
        .collect();
    for report in &reports {
        if let Some(error) = &report.error {
            session
                .reporter
                .warn(&format!("{}: {error}", report.source));
        }
    }
    session
        .printer
        .result(|| dry_run_text(&reports, &session.elapsed()), &reports);
    if reports.iter().any(|r| r.error.is_some()) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

fn dry_run_text(reports: &[DryRun], elapsed: &str) -> String {
    let mut lines = vec![format!(
        "{:<9} {:>8} {:>7} {:>12}  {}",
        "source", "rows", "batches", "archive", "snapshot"
    )];
    for r in reports {
        let snapshot = match (&r.error, &r.snapshot_id) {
            (Some(_), _) => "FAILED".to_string(),
            (None, id) => id.clone().unwrap_or_default(),
        };
        lines.push(format!(
            "{:<9} {:>8} {:>7} {:>12}  {snapshot}",
            r.source,
            r.rows,
            r.batches,
            format!("{} B", r.archive_bytes)
        ));
    }
    lines.push(format!(
        "dry run: nothing sent, no lease taken, no state read or stored{elapsed}"
    ));
    lines.join("\n")
}

fn text(reports: &[SourceReport], elapsed: &str) -> String {
    let mut lines = vec![format!(
        "{:<9} {:>6} {:>8} {:>7}  {}",
        "source", "rows", "pushed", "failed", "snapshot"
    )];
    for r in reports {
        let snapshot = match r.outcome {
            IngestOutcome::Unchanged => "unchanged".to_string(),
            IngestOutcome::Pushed => r.snapshot_id.clone().unwrap_or_default(),
            IngestOutcome::Busy => "BUSY (another run holds the lease)".to_string(),
            IngestOutcome::Failed => {
                format!("FAILED {}", r.snapshot_id.clone().unwrap_or_default())
            }
        };
        lines.push(format!(
            "{:<9} {:>6} {:>8} {:>7}  {snapshot}",
            r.source, r.rows, r.records_pushed, r.failed_records
        ));
    }
    let pushed: usize = reports.iter().map(|r| r.records_pushed).sum();
    lines.push(format!(
        "{pushed} record(s) pushed from {} source(s){elapsed}",
        reports.len()
    ));
    lines.join("\n")
}
