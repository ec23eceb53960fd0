//! `pricewatch backfill`: reloads archived snapshots (`ingest::archive`)
//! into the warehouse so that silver and gold come out as if the records
//! had arrived through the stream — after the stream's retention, a
//! recreated stream, or on a new warehouse.
//!
//! First every archive object in range is listed, read and checked: one
//! that is not exactly what ingest writes stops the backfill before the
//! warehouse changes. Then, per snapshot, the rows the warehouse already
//! holds (from the stream or an earlier backfill) decide: a snapshot held
//! whole is skipped, any other is loaded — on PostgreSQL into the stream's
//! landing table, keyed by snapshot and row; on Redshift by COPY (through
//! a staging table) into `bronze.<source>_history`. Silver counts a page row once per snapshot,
//! so a snapshot both in the stream and reloaded counts once, and a second
//! backfill of the same range adds nothing.

pub mod sql;
pub mod window;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Statements, WarehouseError};
use crate::cloud::{ArchiveObjects, AwsError};
use crate::config::Dialect;
use crate::ingest::archive;
use crate::ingest::records::{Record, Source};
use crate::limits::MAX_RECORD_BYTES;
pub use window::Window;

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

/// One archived snapshot, read and checked. Its records are read again
/// when it is loaded, so a month of snapshots never sits in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    pub snapshot_id: String,
    pub key: String,
    /// When it was fetched (unix seconds).
    pub fetched_at: u64,
    pub rows: usize,
}

/// A source's archive over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceArchive {
    pub source: Source,
    /// The snapshots in the window, in time order.
    pub snapshots: Vec<Archived>,
    /// Every object of the days those snapshots are in (Redshift's COPY
    /// reads a day's prefix), checked like the snapshots themselves.
    pub objects_read: usize,
}

/// Where the objects are and how to read them.
pub struct ArchiveSpec<'a> {
    pub bucket: &'a str,
    pub window: Window,
    /// Also read (and check) the other objects of each day that holds a
    /// snapshot of the window: Redshift's COPY loads whole days.
    pub whole_days: bool,
}

/// Lists, reads and checks a source's archive objects.
pub async fn read_archive(
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
    let invalid = |key: &str, why: String| BackfillError::Invalid {
        bucket: bucket.into(),
        key: key.into(),
        why,
    };
    // Each key with its snapshot and whether it is in the window.
    let mut listed = Vec::with_capacity(keys.len());
    for key in &keys {
        let id = archive::snapshot_id_of(source, key).ok_or_else(|| {
            invalid(
                key,
                format!(
                    "is not an archive object (archive/{}/YYYY/MM/DD/<snapshot id>.ndjson.gz)",
                    source.name()
                ),
            )
        })?;
        let fetched_at = window::snapshot_time(id)
            .filter(|t| key.starts_with(&archive::prefix(source, Some(window::ymd(*t)))))
            .ok_or_else(|| invalid(key, "its snapshot id does not match its date folder".into()))?;
        listed.push((key, id, fetched_at, spec.window.contains(fetched_at)));
    }
    let day_of = |key: &str| key[..key.rfind('/').unwrap_or(0)].to_string();
    let days: BTreeSet<String> = listed
        .iter()
        .filter(|(.., inside)| *inside)
        .map(|(key, ..)| day_of(key))
        .collect();
    let mut snapshots = Vec::new();
    let mut objects_read = 0;
    for (key, id, fetched_at, inside) in listed {
        let copied_with_it = spec.whole_days && days.contains(&day_of(key));
        if !(inside || copied_with_it) {
            continue;
        }
        let rows = read_snapshot(objects, bucket, source, key, id).await?.len();
        objects_read += 1;
        if inside {
            snapshots.push(Archived {
                snapshot_id: id.to_string(),
                key: key.clone(),
                fetched_at,
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

/// Every record must be a page row of this source and snapshot, with a
/// row number of its own and within the warehouse's size limit — what
/// ingest sends and nothing else.
fn check_records(
    source: Source,
    snapshot_id: &str,
    records: Vec<Record>,
) -> Result<Vec<(u64, Record)>, String> {
    let mut rows = BTreeSet::new();
    let mut checked = Vec::with_capacity(records.len());
    for (i, record) in records.into_iter().enumerate() {
        let line = i + 1;
        if record.data.len() > MAX_RECORD_BYTES {
            return Err(format!(
                "line {line}: the record has {} bytes, more than the warehouse takes ({MAX_RECORD_BYTES})",
                record.data.len()
            ));
        }
        let key_chars = record.partition_key.chars().count();
        if !(1..=256).contains(&key_chars) {
            return Err(format!(
                "line {line}: a partition key has 1-256 characters, not {key_chars}"
            ));
        }
        let payload: serde_json::Value = serde_json::from_slice(&record.data)
            .map_err(|e| format!("line {line}: the record is not JSON ({e})"))?;
        let field = |name: &str| payload[name].as_str().unwrap_or_default().to_string();
        if field("record_type") != "row" {
            return Err(format!(
                "line {line}: not a page row (record_type {})",
                payload["record_type"]
            ));
        }
        if field("source") != source.name() {
            return Err(format!(
                "line {line}: a record of source {} in the {} archive",
                payload["source"],
                source.name()
            ));
        }
        if field("snapshot_id") != snapshot_id {
            return Err(format!(
                "line {line}: snapshot_id {} does not match the object's name",
                payload["snapshot_id"]
            ));
        }
        let row = payload["row_number"]
            .as_u64()
            .filter(|n| (1..=999_999_999).contains(n))
            .ok_or_else(|| {
                format!(
                    "line {line}: row_number {} is not a row number",
                    payload["row_number"]
                )
            })?;
        if !rows.insert(row) {
            return Err(format!("line {line}: row {row} appears twice"));
        }
        checked.push((row, record));
    }
    Ok(checked)
}

/// What a backfill did (or would do) with one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Loaded,
    /// `--dry-run`: would be loaded.
    WouldLoad,
    /// The warehouse already holds every row of it.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotOutcome {
    pub snapshot_id: String,
    pub key: String,
    pub rows: usize,
    /// Rows of it the warehouse held before.
    pub present_rows: usize,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceOutcome {
    pub source: &'static str,
    pub snapshots_loaded: usize,
    pub rows_loaded: usize,
    pub snapshots_skipped: usize,
    pub rows_skipped: usize,
    pub snapshots: Vec<SnapshotOutcome>,
}

/// Where archived snapshots come from: the archive bucket, and the role
/// of the namespace Redshift's COPY reads it with (PostgreSQL: pricewatch
/// reads the objects itself and ignores the role).
pub struct Target<'a> {
    pub bucket: &'a str,
    pub role_arn: &'a str,
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
    let present: BTreeMap<String, usize> = warehouse
        .query(
            &format!(
                "reading which {} snapshots the warehouse holds",
                source.name()
            ),
            &sql::present_rows(warehouse.dialect(), source, window),
        )
        .await?
        .into_iter()
        .filter_map(|row| {
            let mut values = row.into_iter();
            let id = values.next()??;
            let rows = values.next()??.parse().ok()?;
            Some((id, rows))
        })
        .collect();
    let mut outcome = SourceOutcome {
        source: source.name(),
        snapshots_loaded: 0,
        rows_loaded: 0,
        snapshots_skipped: 0,
        rows_skipped: 0,
        snapshots: Vec::new(),
    };
    let mut to_load: Vec<&Archived> = Vec::new();
    for snapshot in &archive.snapshots {
        let rows = snapshot.rows;
        let present_rows = present.get(&snapshot.snapshot_id).copied().unwrap_or(0);
        let action = if present_rows >= rows {
            Action::Skipped
        } else if dry_run {
            Action::WouldLoad
        } else {
            Action::Loaded
        };
        if action == Action::Skipped {
            outcome.snapshots_skipped += 1;
            outcome.rows_skipped += rows;
        } else {
            outcome.snapshots_loaded += 1;
            outcome.rows_loaded += rows;
            to_load.push(snapshot);
        }
        outcome.snapshots.push(SnapshotOutcome {
            snapshot_id: snapshot.snapshot_id.clone(),
            key: snapshot.key.clone(),
            rows,
            present_rows,
            action,
        });
    }
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
                let statements = sql::postgres_load(
                    source,
                    &snapshot.snapshot_id,
                    snapshot.fetched_at,
                    &records,
                );
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
            let mut by_day: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for snapshot in snapshots {
                let day = &snapshot.key[..=snapshot.key.rfind('/').unwrap_or(0)];
                by_day
                    .entry(day.to_string())
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
    use crate::cloud::{AwsErrorKind, AwsResult};
    use crate::ingest::fixtures::{product_page, vendor_page, PageSpec};
    use crate::ingest::{html, records};

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
        let page = match source {
            Source::Products => product_page(&spec),
            Source::Vendors => vendor_page(&spec),
        };
        records::snapshot(source, &html::parse_table(&page).unwrap(), at).unwrap()
    }

    /// Products snapshots at 10:00 on three days, 20 rows each.
    fn archive_of_three_days() -> (Bucket, Vec<records::Snapshot>) {
        let mut bucket = Bucket::default();
        let snaps: Vec<_> = (0..3)
            .map(|d| snapshot(Source::Products, 20, d as u32, T0 + d * DAY + 36_000))
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
            Source::Products,
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
        let one =
            crate::block_on(read_archive(&bucket, &spec(day2, false), Source::Products)).unwrap();
        assert_eq!(one.snapshots.len(), 1);
        assert_eq!(one.snapshots[0].snapshot_id, snaps[1].snapshot_id);
        assert_eq!(one.objects_read, 1);
        let vendors = crate::block_on(read_archive(
            &bucket,
            &spec(Window::default(), false),
            Source::Vendors,
        ))
        .unwrap();
        assert!(vendors.snapshots.is_empty());
    }

    #[test]
    fn copy_days_are_read_whole_and_a_bad_object_stops_everything() {
        let (mut bucket, _) = archive_of_three_days();
        // Another products snapshot on day 2 at 02:00, before the window.
        let early = snapshot(Source::Products, 5, 7, T0 + DAY + 7_200);
        let early_key = archive::key(Source::Products, &early.snapshot_id);
        bucket
            .0
            .insert(early_key.clone(), archive::encode(&early.records));
        let afternoon = Window::new(Some(T0 + DAY + 30_000), Some(T0 + 2 * DAY)).unwrap();
        let read = crate::block_on(read_archive(
            &bucket,
            &spec(afternoon, true),
            Source::Products,
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
            Source::Products,
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
                Source::Products
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
            Source::Products,
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains("is not an archive object"),
            "{err}"
        );
    }

    #[test]
    fn only_page_rows_of_the_named_snapshot_pass() {
        let snap = snapshot(Source::Vendors, 3, 0, T0);
        let id = snap.snapshot_id.clone();
        let rows = snap.records.len();
        assert_eq!(
            check_records(Source::Vendors, &id, snap.records.clone())
                .unwrap()
                .len(),
            rows
        );
        let err = check_records(Source::Products, &id, snap.records.clone()).unwrap_err();
        assert!(
            err.contains("a record of source \"vendors\" in the products archive"),
            "{err}"
        );
        let err = check_records(Source::Vendors, "20000101T000000Z-00", snap.records.clone())
            .unwrap_err();
        assert!(err.contains("does not match the object's name"), "{err}");
        let mut twice = snap.records.clone();
        twice.push(snap.records[0].clone());
        assert_eq!(
            check_records(Source::Vendors, &id, twice).unwrap_err(),
            format!("line {}: row 1 appears twice", rows + 1)
        );
        let heartbeat = crate::ingest::heartbeat::record(&crate::ingest::heartbeat::Run {
            source: Source::Vendors,
            fetched_at: T0,
            outcome: crate::ingest::Outcome::Pushed,
            page_hash: None,
            snapshot_id: Some(&id),
            page_rows: 3,
            records_pushed: 3,
            error: None,
        });
        let err = check_records(Source::Vendors, &id, vec![heartbeat]).unwrap_err();
        assert!(err.contains("not a page row"), "{err}");
        let mut big = snap.records[0].clone();
        big.data = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(check_records(Source::Vendors, &id, vec![big])
            .unwrap_err()
            .contains("more than the warehouse takes"));
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
            Source::Products,
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
        let second = snapshot(Source::Products, 4, 9, T0 + 40_000);
        bucket.0.insert(
            archive::key(Source::Products, &second.snapshot_id),
            archive::encode(&second.records),
        );
        let archive = crate::block_on(read_archive(
            &bucket,
            &spec(Window::default(), true),
            Source::Products,
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
            Source::Vendors,
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
