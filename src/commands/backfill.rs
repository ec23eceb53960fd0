//! `pricewatch backfill`: reloads archived snapshots from S3 into the
//! warehouse (`pricewatch_ops::backfill`), holding the warehouse lease.

use pricewatch_core::backfill::{window, Action, Window};
use pricewatch_core::ingest::records::Source;
use pricewatch_ops::backfill::{self, Backfilled, Request};

use super::{with_services, Session};
use crate::cli::BackfillArgs;
use crate::error::{ExitStatus, UsageError};

pub(super) fn run(session: &Session, args: BackfillArgs) -> anyhow::Result<ExitStatus> {
    let env = session.load_env("backfill")?;
    let now = pricewatch_core::time::now_unix();
    let time = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| window::parse_time(t, now).map_err(|e| UsageError(format!("--{flag}: {e}"))))
            .transpose()
    };
    let window = Window::new(time("since", &args.since)?, time("until", &args.until)?)
        .map_err(UsageError)?;
    let declared = Source::enabled(&env.settings);
    if let Some(unknown) = args
        .source
        .iter()
        .find(|n| !declared.iter().any(|s| s.name() == n.as_str()))
    {
        return Err(UsageError(format!(
            "--source {unknown}: not an enabled source of env {}; the sources are {}",
            env.name,
            env.names().source_list()
        ))
        .into());
    }
    let request = Request {
        sources: declared
            .into_iter()
            .filter(|s| args.source.is_empty() || args.source.iter().any(|n| n == s.name()))
            .collect(),
        window,
        dry_run: args.dry_run,
        lease_wait: args.lease.wait,
    };
    let reporter = session.reporter.as_ref();
    let report = with_services(&env, async |services| {
        backfill::run(services, &request, reporter).await
    })?;
    session
        .printer
        .result(|| text(&report, &window, &session.elapsed()), &report);
    Ok(ExitStatus::Success)
}

fn text(report: &Backfilled, window: &Window, elapsed: &str) -> String {
    let verb = if report.dry_run { "to load" } else { "loaded" };
    let mut lines = vec![format!(
        "{:<9} {:>17} {:>17}  first … last {verb}",
        "source",
        format!("{verb} (snap/rows)"),
        "held (snap/rows)",
    )];
    for s in &report.sources {
        let loaded: Vec<&str> = s
            .snapshots
            .iter()
            .filter(|o| o.action != Action::Skipped)
            .map(|o| o.snapshot_id.as_str())
            .collect();
        let span = match loaded.as_slice() {
            [] => "-".to_string(),
            [one] => one.to_string(),
            [first, .., last] => format!("{first} … {last}"),
        };
        lines.push(format!(
            "{:<9} {:>17} {:>17}  {span}",
            s.source,
            format!("{} / {}", s.snapshots_loaded, s.rows_loaded),
            format!("{} / {}", s.snapshots_skipped, s.rows_skipped),
        ));
    }
    let loaded: usize = report.sources.iter().map(|s| s.snapshots_loaded).sum();
    let rows: usize = report.sources.iter().map(|s| s.rows_loaded).sum();
    let skipped: usize = report.sources.iter().map(|s| s.snapshots_skipped).sum();
    let next = if report.dry_run {
        "; nothing was changed (--dry-run)".to_string()
    } else if loaded > 0 {
        format!(
            "; run `pricewatch refresh --env {}` to see them in silver and gold",
            report.env
        )
    } else {
        String::new()
    };
    lines.push(format!(
        "backfill of env {} ({}) from s3://{}: {loaded} snapshot(s) with {rows} row(s) {verb}, {skipped} already in the warehouse{elapsed}{next}",
        report.env,
        window.describe(),
        report.bucket
    ));
    lines.join("\n")
}
