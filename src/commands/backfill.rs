//! `pricewatch backfill`: reloads archived snapshots from S3 into the
//! warehouse (see `warehouse::backfill`), holding the warehouse lease.

use anyhow::Context as _;
use serde::Serialize;

use super::{connect_warehouses, holding_lease, with_aws, Session};
use crate::cli::BackfillArgs;
use crate::config::Dialect;
use crate::error::{ExitStatus, UsageError};
use crate::ingest::{self, Source};
use crate::warehouse::backfill::{
    self, window, Action, ArchiveSpec, SourceOutcome, Target, Window,
};

#[derive(Serialize)]
struct Backfilled {
    env: String,
    /// `--since` and `--until` as UTC times.
    since: Option<String>,
    until: Option<String>,
    dry_run: bool,
    bucket: String,
    sources: Vec<SourceOutcome>,
    seconds: f64,
}

pub fn run(session: &Session, args: BackfillArgs) -> anyhow::Result<ExitStatus> {
    let env = session.load_env("backfill")?;
    let now = ingest::now_unix();
    let time = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| window::parse_time(t, now).map_err(|e| UsageError(format!("--{flag}: {e}"))))
            .transpose()
    };
    let window = Window::new(time("since", &args.since)?, time("until", &args.until)?)
        .map_err(UsageError)?;
    let sources: Vec<Source> = Source::ALL
        .into_iter()
        .filter(|s| args.source.is_empty() || args.source.iter().any(|n| n == s.name()))
        .collect();
    let names = env.names();
    let bucket = names.archive_bucket.clone();
    let reporter = session.reporter.as_ref();
    let log = |message: &str| reporter.info(message);
    let started = std::time::Instant::now();
    let outcomes = with_aws(&env, async |clients| {
        let spec = ArchiveSpec {
            bucket: &bucket,
            window,
            // Redshift's COPY loads a day's prefix: all of it must be sound.
            whole_days: env.dialect() == Dialect::Redshift,
        };
        let mut archives = Vec::new();
        for &source in &sources {
            reporter.info(&format!(
                "reading the {} archive ({}) in s3://{bucket}",
                source.name(),
                window.describe()
            ));
            archives.push(backfill::read_archive(&clients.objects, &spec, source).await?);
        }
        let target = Target {
            bucket: &bucket,
            role_arn: &names.archive_role_arn,
        };
        let work = async {
            let warehouse = connect_warehouses(&env, clients, 1).await?.remove(0);
            let mut outcomes = Vec::new();
            for archive in &archives {
                let outcome = backfill::apply(&warehouse, &clients.objects, &target, archive, &window, args.dry_run, &log)
                    .await
                    .with_context(|| {
                        let source = archive.source.name();
                        match env.dialect() {
                            Dialect::Redshift => format!(
                                "backfilling {source} (if bronze.{source}_history does not exist, the warehouse predates the archive: run `pricewatch sql apply --env {}` first)",
                                env.name
                            ),
                            Dialect::Postgres => format!("backfilling {source}"),
                        }
                    })?;
                outcomes.push(outcome);
            }
            Ok(outcomes)
        };
        if args.dry_run {
            work.await
        } else {
            holding_lease(&env, clients, "backfill", args.lease.wait, reporter, work).await
        }
    })?;
    let report = Backfilled {
        env: env.name.clone(),
        since: window.since.map(|t| ingest::records::utc_timestamps(t).0),
        until: window.until.map(|t| ingest::records::utc_timestamps(t).0),
        dry_run: args.dry_run,
        bucket,
        sources: outcomes,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    };
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
