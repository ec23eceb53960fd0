//! `pricewatch backfill`: reloads archived snapshots
//! (`pricewatch_core::ingest::archive`) into the warehouse so that silver
//! and gold come out as if the records had arrived through the stream —
//! after the stream's retention, a recreated stream, or on a new warehouse.
//!
//! First every archive object in range is listed, read and checked: one
//! that is not exactly what ingest writes stops the backfill before the
//! warehouse changes. Then, under the warehouse lease, the rows the
//! warehouse already holds (from the stream or an earlier backfill) decide
//! per snapshot (`pricewatch_core::backfill::decide`): a snapshot held
//! whole is skipped, any other is loaded — on PostgreSQL into the stream's
//! landing table, keyed by snapshot and row; on Redshift by COPY (through a
//! staging table) into `bronze.<source>_history`. Silver counts a page row
//! once per snapshot, so a snapshot both in the stream and reloaded counts
//! once, and a second backfill of the same range adds nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pricewatch_core::backfill::{
    self, check_records, day_prefix, sql, window, Archived, SourceArchive, SourceOutcome, Window,
};
use pricewatch_core::cloud::{ArchiveObjects, AwsError};
use pricewatch_core::config::Dialect;
use pricewatch_core::ingest::archive;
use pricewatch_core::ingest::records::{Record, Source};
use pricewatch_core::reporter::Reporter;
use serde::Serialize;

use crate::services::Services;
use crate::warehouse::{Statements, WarehouseError};

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("listing s3://{bucket}/{prefix}: {source}")]
    List {
        bucket: String,
        prefix: String,
        source: AwsError,
    },
    #[error("reading s3://{bucket}/{key}: {source}")]
    Read {
        bucket: String,
        key: String,
        source: AwsError,
    },
    #[error("s3://{bucket}/{key}: {why}. Nothing was loaded: every archive object in range must be what ingest writes (move this one out of archive/, or narrow --since/--until)")]
    Invalid {
        bucket: String,
        key: String,
        why: String,
    },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// What to backfill.
pub struct Request {
    pub sources: Vec<Source>,
    pub window: Window,
    /// Read and check the archive and decide, change nothing (no lease).
    pub dry_run: bool,
    /// How long to wait for another holder of the warehouse lease.
    pub lease_wait: Duration,
}

/// A backfill's result, printed by the command.
#[derive(Debug, Serialize)]
pub struct Backfilled {
    pub env: String,
    /// `--since` and `--until` as UTC times.
    pub since: Option<String>,
    pub until: Option<String>,
    pub dry_run: bool,
    pub bucket: String,
    pub sources: Vec<SourceOutcome>,
    pub seconds: f64,
}

/// Reads and checks the env's archive over the request's window, then
/// (holding the warehouse lease unless `dry_run`) loads what the warehouse
/// lacks.
pub async fn run(
    services: &Services<'_>,
    request: &Request,
    reporter: &dyn Reporter,
) -> anyhow::Result<Backfilled> {
    let env = services.env;
    let names = env.names();
    let bucket = names.archive_bucket.clone();
    let window = request.window;
    let started = Instant::now();
    let objects = services.aws.objects().await?;
    let spec = ArchiveSpec {
        bucket: &bucket,
        window,
        // Redshift's COPY loads a day's prefix: all of it must be sound.
        whole_days: env.dialect() == Dialect::Redshift,
    };
    let mut archives = Vec::new();
    for &source in &request.sources {
        reporter.info(&format!(
            "reading the {} archive ({}) in s3://{bucket}",
            source.name(),
            window.describe()
        ));
        archives.push(read_archive(objects, &spec, source).await?);
    }
    let target = Target {
        bucket: &bucket,
        role_arn: &names.archive_role_arn,
    };
    let log = |message: &str| reporter.info(message);
    let work = async {
        let warehouse = services.connect_one().await?;
        let mut outcomes = Vec::new();
        for archive in &archives {
            let outcome = apply(&warehouse, objects, &target, archive, &window, request.dry_run, &log)
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
    let sources = if request.dry_run {
        work.await?
    } else {
        services
            .holding_lease("backfill", request.lease_wait, reporter, work)
            .await?
    };
    let at = |t: u64| pricewatch_core::time::utc_timestamps(t).0;
    Ok(Backfilled {
        env: env.name.clone(),
        since: window.since.map(at),
        until: window.until.map(at),
        dry_run: request.dry_run,
        bucket,
        sources,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    })
}

/// Where the objects are and how to read them.
pub(crate) struct ArchiveSpec<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) window: Window,
    /// Also read (and check) the other objects of each day that holds a
    /// snapshot of the window: Redshift's COPY loads whole days.
    pub(crate) whole_days: bool,
}

/// Lists, reads and checks a source's archive objects.
pub(crate) async fn read_archive(
    objects: &impl ArchiveObjects,
    spec: &ArchiveSpec<'_>,
    source: Source,
) -> Result<SourceArchive, BackfillError> {
    let bucket = spec.bucket;
    let prefix = archive::prefix(source, None);
    let (first_day, last_day) = spec.window.days();
    let start_after = first_day.map(|day| archive::prefix(source, Some(window::ymd(day))));
    let stop_before = last_day.map(|day| archive::prefix(source, Some(window::ymd(day + 86_400))));
    let keys = objects
        .keys(
            bucket,
            &prefix,
            start_after.as_deref(),
            stop_before.as_deref(),
        )
        .await
        .map_err(|source| BackfillError::List {
            bucket: bucket.into(),
            prefix: prefix.clone(),
            source,
        })?;
    let listed = backfill::to_read(source, &keys, &spec.window, spec.whole_days).map_err(|e| {
        BackfillError::Invalid {
            bucket: bucket.into(),
            key: e.key,
            why: e.why,
        }
    })?;
    let mut snapshots = Vec::new();
    let mut objects_read = 0;
    for listed in listed {
        let rows = read_snapshot(objects, bucket, source, &listed.key, &listed.snapshot_id)
            .await?
            .len();
        objects_read += 1;
        if listed.inside {
            snapshots.push(Archived {
                snapshot_id: listed.snapshot_id,
                key: listed.key,
                fetched_at: listed.fetched_at,
                rows,
            });
        }
    }
    Ok(SourceArchive {
        source,
        snapshots,
        objects_read,
    })
}

/// Reads one archive object and checks its records.
async fn read_snapshot(
    objects: &impl ArchiveObjects,
    bucket: &str,
    source: Source,
    key: &str,
    snapshot_id: &str,
) -> Result<Vec<(u64, Record)>, BackfillError> {
    let invalid = |why: String| BackfillError::Invalid {
        bucket: bucket.into(),
        key: key.into(),
        why,
    };
    let bytes = objects
        .read(bucket, key)
        .await
        .map_err(|source| BackfillError::Read {
            bucket: bucket.into(),
            key: key.into(),
            source,
        })?
        .ok_or_else(|| invalid("was listed but is gone".into()))?;
    let records = archive::decode(&bytes).map_err(|e| invalid(e.to_string()))?;
    check_records(source, snapshot_id, records).map_err(invalid)
}

/// Where archived snapshots come from: the archive bucket, and the role
/// of the namespace Redshift's COPY reads it with (PostgreSQL: pricewatch
/// reads the objects itself and ignores the role).
pub struct Target<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) role_arn: &'a str,
}

/// Decides per snapshot and, unless `dry_run`, loads what the warehouse
/// lacks. `log` hears progress.
pub async fn apply(
    warehouse: &impl Statements,
    objects: &impl ArchiveObjects,
    target: &Target<'_>,
    archive: &SourceArchive,
    window: &Window,
    dry_run: bool,
    log: &dyn Fn(&str),
) -> Result<SourceOutcome, BackfillError> {
    let source = archive.source;
    let present = backfill::present_rows(
        warehouse
            .query(
                &format!(
                    "reading which {} snapshots the warehouse holds",
                    source.name()
                ),
                &sql::present_rows(warehouse.dialect(), source, window),
            )
            .await?,
    );
    let (outcome, to_load) = backfill::decide(archive, &present, dry_run);
    log(&format!(
        "{}: {} archived snapshot(s) in range, {} to load, {} already in the warehouse",
        source.name(),
        archive.snapshots.len(),
        to_load.len(),
        outcome.snapshots_skipped
    ));
    if !dry_run {
        load(warehouse, objects, target, source, &to_load, log).await?;
    }
    Ok(outcome)
}

async fn load(
    warehouse: &impl Statements,
    objects: &impl ArchiveObjects,
    target: &Target<'_>,
    source: Source,
    snapshots: &[&Archived],
    log: &dyn Fn(&str),
) -> Result<(), BackfillError> {
    let Target { bucket, role_arn } = *target;
    match warehouse.dialect() {
        Dialect::Postgres => {
            for snapshot in snapshots {
                let read = read_snapshot(
                    objects,
                    bucket,
                    source,
                    &snapshot.key,
                    &snapshot.snapshot_id,
                )
                .await?;
                let records: Vec<(u64, &Record)> = read.iter().map(|(row, r)| (*row, r)).collect();
                let statements = sql::postgres_load(source, &snapshot.snapshot_id, &records);
                warehouse
                    .execute(
                        &format!("loading archived snapshot {}", snapshot.key),
                        &statements,
                    )
                    .await?;
                log(&format!(
                    "{}: loaded {} ({} rows)",
                    source.name(),
                    snapshot.snapshot_id,
                    records.len()
                ));
            }
        }
        Dialect::Redshift => {
            let mut by_day: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for snapshot in snapshots {
                by_day
                    .entry(day_prefix(&snapshot.key))
                    .or_default()
                    .push(&snapshot.snapshot_id);
            }
            for (day, ids) in &by_day {
                for chunk in ids.chunks(sql::IDS_PER_BATCH) {
                    for statement in sql::redshift_load(source, bucket, day, role_arn, chunk) {
                        warehouse
                            .execute(
                                &format!("loading archived snapshots of s3://{bucket}/{day}"),
                                &statement,
                            )
                            .await?;
                    }
                    log(&format!(
                        "{}: loaded {} snapshot(s) of {day}",
                        source.name(),
                        chunk.len()
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use pricewatch_core::backfill::Action;
    use pricewatch_core::cloud::{AwsErrorKind, AwsResult};
    use pricewatch_core::ingest::fixtures::{product_page, vendor_page, PageSpec};
    use pricewatch_core::ingest::{html, records};

    /// A bucket: key → bytes.
    #[derive(Default)]
    struct Bucket(BTreeMap<String, Vec<u8>>);

    impl ArchiveObjects for Bucket {
        async fn keys(
            &self,
            _: &str,
            prefix: &str,
            start_after: Option<&str>,
            stop_before: Option<&str>,
        ) -> AwsResult<Vec<String>> {
            Ok(self
                .0
                .keys()
                .filter(|k| k.starts_with(prefix))
                .filter(|k| start_after.is_none_or(|s| k.as_str() > s))
                .filter(|k| stop_before.is_none_or(|s| k.as_str() < s))
                .cloned()
                .collect())
        }
        async fn read(&self, _: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
            Ok(self.0.get(key).cloned())
        }
    }

    const DAY: u64 = 86_400;
    /// 2026-11-25T00:00:00Z
    const T0: u64 = 1_795_564_800;

    fn snapshot(source: Source, rows: usize, variant: u32, at: u64) -> records::Snapshot {
        let spec = PageSpec {
            rows,
            variant,
            ..PageSpec::default()
        };
        let page = if source == Source::products() {
            product_page(&spec)
        } else {
            vendor_page(&spec)
        };
        records::snapshot(source, &html::parse_table(&page).unwrap(), at).unwrap()
    }

    /// Products snapshots at 10:00 on three days, 20 rows each.
    fn archive_of_three_days() -> (Bucket, Vec<records::Snapshot>) {
        let mut bucket = Bucket::default();
        let snaps: Vec<_> = (0..3)
            .map(|d| snapshot(Source::products(), 20, d as u32, T0 + d * DAY + 36_000))
            .collect();
        for snap in &snaps {
            bucket.0.insert(
                archive::key(snap.source, &snap.snapshot_id),
                archive::encode(&snap.records),
            );
        }
        (bucket, snaps)
    }

    fn spec(window: Window, whole_days: bool) -> ArchiveSpec<'static> {
        ArchiveSpec {
            bucket: "b",
            window,
            whole_days,
        }
    }

    #[test]
    fn the_window_picks_snapshots_by_fetch_time() {
        let (bucket, snaps) = archive_of_three_days();
        let all = crate::block_on(read_archive(
            &bucket,
            &spec(Window::default(), false),
            Source::products(),
        ))
        .unwrap();
        assert_eq!(all.snapshots.len(), 3);
        assert_eq!(all.snapshots[0].rows, 20);
        assert_eq!(
            all.snapshots
                .iter()
                .map(|s| s.snapshot_id.as_str())
                .collect::<Vec<_>>(),
            snaps
                .iter()
                .map(|s| s.snapshot_id.as_str())
                .collect::<Vec<_>>(),
            "in time order"
        );
        let day2 = Window::new(Some(T0 + DAY), Some(T0 + 2 * DAY)).unwrap();
        let one = crate::block_on(read_archive(
            &bucket,
            &spec(day2, false),
            Source::products(),
        ))
        .unwrap();
        assert_eq!(one.snapshots.len(), 1);
        assert_eq!(one.snapshots[0].snapshot_id, snaps[1].snapshot_id);
        assert_eq!(one.objects_read, 1);
        let vendors = crate::block_on(read_archive(
            &bucket,
            &spec(Window::default(), false),
            Source::vendors(),
        ))
        .unwrap();
        assert!(vendors.snapshots.is_empty());
    }

    #[test]
    fn copy_days_are_read_whole_and_a_bad_object_stops_everything() {
        let (mut bucket, _) = archive_of_three_days();
        // Another products snapshot on day 2 at 02:00, before the window.
        let early = snapshot(Source::products(), 5, 7, T0 + DAY + 7_200);
        let early_key = archive::key(Source::products(), &early.snapshot_id);
        bucket
            .0
            .insert(early_key.clone(), archive::encode(&early.records));
        let afternoon = Window::new(Some(T0 + DAY + 30_000), Some(T0 + 2 * DAY)).unwrap();
        let read = crate::block_on(read_archive(
            &bucket,
            &spec(afternoon, true),
            Source::products(),
        ))
        .unwrap();
        assert_eq!(
            (read.snapshots.len(), read.objects_read),
            (1, 2),
            "COPY loads the whole day: both are checked"
        );

        bucket.0.insert(early_key.clone(), b"not gzip".to_vec());
        let err = crate::block_on(read_archive(
            &bucket,
            &spec(afternoon, true),
            Source::products(),
        ))
        .unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "s3://b/{early_key}: is not gzip-compressed NDJSON"
            )),
            "{err}"
        );
        assert!(
            crate::block_on(read_archive(
                &bucket,
                &spec(afternoon, false),
                Source::products()
            ))
            .is_ok(),
            "PostgreSQL reads only the window"
        );

        let mut stray = Bucket::default();
        stray
            .0
            .insert("archive/products/2026/11/25/notes.txt".into(), vec![]);
        let err = crate::block_on(read_archive(
            &stray,
            &spec(Window::default(), false),
            Source::products(),
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains("is not an archive object"),
            "{err}"
        );
    }

    /// Answers the presence query with fixed rows and records every
    /// statement it runs.
    struct Warehouse {
        dialect: Dialect,
        present: Vec<(String, usize)>,
        executed: Mutex<Vec<String>>,
    }

    impl Statements for Warehouse {
        fn dialect(&self) -> Dialect {
            self.dialect
        }
        async fn execute(&self, _: &str, sql: &str) -> Result<(), WarehouseError> {
            self.executed.lock().unwrap().push(sql.to_string());
            Ok(())
        }
        async fn query(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Vec<Vec<Option<String>>>, WarehouseError> {
            Ok(self
                .present
                .iter()
                .map(|(id, n)| vec![Some(id.clone()), Some(n.to_string())])
                .collect())
        }
    }

    const TARGET: Target<'static> = Target {
        bucket: "b",
        role_arn: "arn:aws:iam::1:role/r",
    };

    fn warehouse(dialect: Dialect, present: Vec<(String, usize)>) -> Warehouse {
        Warehouse {
            dialect,
            present,
            executed: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn held_snapshots_are_skipped_partial_and_missing_ones_loaded() {
        let (bucket, snaps) = archive_of_three_days();
        let archive = crate::block_on(read_archive(
            &bucket,
            &spec(Window::default(), false),
            Source::products(),
        ))
        .unwrap();
        let pg = warehouse(
            Dialect::Postgres,
            vec![
                (snaps[0].snapshot_id.clone(), 20),
                (snaps[1].snapshot_id.clone(), 5),
            ],
        );
        let out = crate::block_on(apply(
            &pg,
            &bucket,
            &TARGET,
            &archive,
            &Window::default(),
            false,
            &|_| {},
        ))
        .unwrap();
        assert_eq!(
            (
                out.snapshots_loaded,
                out.rows_loaded,
                out.snapshots_skipped,
                out.rows_skipped
            ),
            (2, 40, 1, 20)
        );
        let actions: Vec<Action> = out.snapshots.iter().map(|s| s.action).collect();
        assert_eq!(actions, [Action::Skipped, Action::Loaded, Action::Loaded]);
        assert_eq!(out.snapshots[1].present_rows, 5);
        let executed = pg.executed.lock().unwrap();
        assert_eq!(executed.len(), 2, "one transaction per snapshot");
        assert!(executed[0].contains(&sql::archive_sequence(&snaps[1].snapshot_id, 20)));

        let dry = warehouse(Dialect::Postgres, vec![]);
        let out = crate::block_on(apply(
            &dry,
            &bucket,
            &TARGET,
            &archive,
            &Window::default(),
            true,
            &|_| {},
        ))
        .unwrap();
        assert!(out.snapshots.iter().all(|s| s.action == Action::WouldLoad));
        assert!(
            dry.executed.lock().unwrap().is_empty(),
            "a dry run changes nothing"
        );
    }

    #[test]
    fn redshift_copies_each_day_once() {
        let (mut bucket, _) = archive_of_three_days();
        let second = snapshot(Source::products(), 4, 9, T0 + 40_000);
        bucket.0.insert(
            archive::key(Source::products(), &second.snapshot_id),
            archive::encode(&second.records),
        );
        let archive = crate::block_on(read_archive(
            &bucket,
            &spec(Window::default(), true),
            Source::products(),
        ))
        .unwrap();
        let redshift = warehouse(Dialect::Redshift, vec![]);
        let out = crate::block_on(apply(
            &redshift,
            &bucket,
            &TARGET,
            &archive,
            &Window::default(),
            false,
            &|_| {},
        ))
        .unwrap();
        assert_eq!((out.snapshots_loaded, out.rows_loaded), (4, 64));
        let executed = redshift.executed.lock().unwrap();
        let copies: Vec<&String> = executed.iter().filter(|s| s.starts_with("COPY")).collect();
        assert_eq!(copies.len(), 3, "one COPY per day");
        assert_eq!(executed.len(), 12, "each statement on its own");
        assert!(copies[0].contains("FROM 's3://b/archive/products/2026/11/25/'"));
        assert!(executed[2].contains(&format!("'{}'", second.snapshot_id)));
    }

    #[test]
    fn listing_errors_name_the_prefix() {
        struct Denied;
        impl ArchiveObjects for Denied {
            async fn keys(
                &self,
                _: &str,
                _: &str,
                _: Option<&str>,
                _: Option<&str>,
            ) -> AwsResult<Vec<String>> {
                Err(AwsError::new(
                    "s3:ListObjectsV2",
                    AwsErrorKind::AccessDenied,
                    "Access Denied",
                ))
            }
            async fn read(&self, _: &str, _: &str) -> AwsResult<Option<Vec<u8>>> {
                unreachable!()
            }
        }
        let err = crate::block_on(read_archive(
            &Denied,
            &spec(Window::default(), false),
            Source::vendors(),
        ))
        .unwrap_err();
        assert!(
            err.to_string().starts_with(
                "listing s3://b/archive/vendors/: s3:ListObjectsV2 failed: Access Denied"
            ),
            "{err}"
        );
    }
}
