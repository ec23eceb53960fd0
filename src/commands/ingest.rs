//! `pricewatch ingest`: the ingest Lambda's code, run in-process.

use std::time::{Duration, Instant};

use super::{with_services, Session};
use crate::cli::IngestArgs;
use crate::error::ExitStatus;
use pricewatch_core::config::Environment;
use pricewatch_ingest::{self, IngestOutcome, Plan, RetryPolicy, Source, SourcePlan, SourceReport};

/// The ingest plan of an env, as the Lambda gets it from its stack.
pub(super) fn plan(env: &Environment, args: &IngestArgs) -> Plan {
    let names = env.names();
    let ingest = &env.settings.ingest;
    let location = |source: Source| match source {
        Source::Products => args
            .products
            .clone()
            .unwrap_or_else(|| ingest.products_url.clone()),
        Source::Vendors => args
            .vendors
            .clone()
            .unwrap_or_else(|| ingest.vendors_url.clone()),
    };
    Plan {
        sources: Source::ALL
            .iter()
            .map(|&source| SourcePlan {
                source,
                location: location(source),
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
        holder: format!(
            "pricewatch ingest ({})",
            pricewatch_ops::warehouse::lease::holder_id()
        ),
    }
}

pub(super) fn run(session: &Session, args: IngestArgs) -> anyhow::Result<ExitStatus> {
    let env = session.load_env("ingest")?;
    let plan = plan(&env, &args);
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
        if report.outcome == IngestOutcome::Failed {
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
    let failed = reports.iter().any(|r| r.outcome == IngestOutcome::Failed);
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
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
