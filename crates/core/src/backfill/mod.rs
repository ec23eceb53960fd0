//! The pure half of `pricewatch backfill`, which reloads archived snapshots
//! (`ingest::archive`) into the warehouse so that silver and gold come out
//! as if the records had arrived through the stream: the time window
//! (`window`), which listed keys a backfill reads and what each must hold,
//! the per-snapshot decision from the rows the warehouse already holds, and
//! the load statements per dialect (`sql`). Listing, reading and loading
//! under the warehouse lease is `pricewatch_ops::backfill`.

pub mod sql;
pub mod window;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::ingest::archive;
use crate::ingest::records::{Record, Source, PAGE_HASH_KEY, SNAPSHOT_ROWS_KEY};
use crate::limits::MAX_RECORD_BYTES;
pub use window::Window;

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

/// A listed archive key a backfill must read.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub key: String,
    pub snapshot_id: String,
    pub fetched_at: u64,
    /// In the window (else only read because COPY loads its whole day).
    pub inside: bool,
}

/// An archive object that is not what ingest writes, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidObject {
    pub key: String,
    pub why: String,
}

/// Which of a source's listed keys a backfill over `window` reads: those
/// in the window and, with `whole_days` (Redshift's COPY loads a day's
/// prefix), every other object of their days. A key that is not an archive
/// object, or whose snapshot id does not match its date folder, stops the
/// backfill.
pub fn to_read(
    source: Source,
    keys: &[String],
    window: &Window,
    whole_days: bool,
) -> Result<Vec<Listed>, InvalidObject> {
    let invalid = |key: &str, why: String| InvalidObject {
        key: key.into(),
        why,
    };
    let mut listed = Vec::with_capacity(keys.len());
    for key in keys {
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
        listed.push(Listed {
            key: key.clone(),
            snapshot_id: id.to_string(),
            fetched_at,
            inside: window.contains(fetched_at),
        });
    }
    let days: BTreeSet<&str> = listed
        .iter()
        .filter(|l| l.inside)
        .map(|l| day_prefix(&l.key))
        .collect();
    let read: Vec<bool> = listed
        .iter()
        .map(|l| l.inside || (whole_days && days.contains(day_prefix(&l.key))))
        .collect();
    Ok(listed
        .into_iter()
        .zip(read)
        .filter_map(|(l, read)| read.then_some(l))
        .collect())
}

/// A key's folder, with its trailing `/`: the day prefix COPY loads.
pub fn day_prefix(key: &str) -> &str {
    &key[..key.rfind('/').map_or(0, |i| i + 1)]
}

/// Every record must be a page row of this source and snapshot, with a
/// row number of its own, within the warehouse's size limit and without a
/// NUL (PostgreSQL's JSON cannot hold one) — what ingest sends and nothing
/// else — and together they must be the whole snapshot: rows 1 to the row
/// count every record announces, one page hash. Silver accepts only whole
/// snapshots, so a partial object would load rows that never reach it.
/// Returns each record with its row.
pub fn check_records(
    source: Source,
    snapshot_id: &str,
    records: Vec<Record>,
) -> Result<Vec<(u64, Record)>, String> {
    let mut rows = BTreeSet::new();
    let mut announced = BTreeSet::new();
    let mut hashes = BTreeSet::new();
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
        let nul = payload
            .as_object()
            .into_iter()
            .flatten()
            .any(|(k, v)| k.contains('\0') || v.as_str().is_some_and(|v| v.contains('\0')));
        if nul {
            return Err(format!(
                "line {line}: a cell holds a NUL character, which the warehouse cannot store"
            ));
        }
        announced.insert(payload[SNAPSHOT_ROWS_KEY].as_str().map(str::to_string));
        hashes.insert(payload[PAGE_HASH_KEY].as_str().map(str::to_string));
        checked.push((row, record));
    }
    // Records from before ingest announced the row count cannot be checked
    // as a whole (silver counts their snapshots complete too).
    if announced.iter().all(Option::is_none) {
        return Ok(checked);
    }
    let count = match (announced.len(), announced.first()) {
        (1, Some(Some(count))) => count.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| "its records disagree on the snapshot's row count".to_string())?;
    if hashes.len() != 1 || hashes.contains(&None) {
        return Err("its records disagree on the page hash".into());
    }
    // Unique rows, each at least 1: as many as announced and none above the
    // count means exactly rows 1 to count.
    if rows.len() as u64 != count || rows.last() != Some(&count) {
        return Err(format!(
            "it holds {} row(s) of the {count} its records announce: not the whole snapshot",
            rows.len()
        ));
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

/// The rows per snapshot the warehouse holds, from the answer to
/// [`sql::present_rows`] (snapshot id, count).
pub fn present_rows(answer: Vec<Vec<Option<String>>>) -> BTreeMap<String, usize> {
    answer
        .into_iter()
        .filter_map(|row| {
            let mut values = row.into_iter();
            let id = values.next()??;
            let rows = values.next()??.parse().ok()?;
            Some((id, rows))
        })
        .collect()
}

/// Decides per snapshot: one the warehouse holds whole is skipped, any
/// other (missing, or only partly there) is loaded — or, with `dry_run`,
/// would be. Returns the outcome and the snapshots to load.
pub fn decide<'a>(
    archive: &'a SourceArchive,
    present: &BTreeMap<String, usize>,
    dry_run: bool,
) -> (SourceOutcome, Vec<&'a Archived>) {
    let mut outcome = SourceOutcome {
        source: archive.source.name(),
        snapshots_loaded: 0,
        rows_loaded: 0,
        snapshots_skipped: 0,
        rows_skipped: 0,
        snapshots: Vec::new(),
    };
    let mut to_load = Vec::new();
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
    (outcome, to_load)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::{vendor_page, PageSpec};
    use crate::ingest::{html, records};

    /// 2026-11-25T00:00:00Z
    const T0: u64 = 1_795_564_800;
    const DAY: u64 = 86_400;

    fn key(at: u64, hash: &str) -> String {
        let id = format!("{}-{hash}", crate::time::utc_timestamps(at).1);
        archive::key(Source::products(), &id)
    }

    #[test]
    fn the_window_and_copy_days_pick_the_keys_to_read() {
        let keys = vec![
            key(T0 + 36_000, "aa"),
            key(T0 + DAY + 7_200, "bb"),
            key(T0 + DAY + 36_000, "cc"),
            key(T0 + 2 * DAY + 36_000, "dd"),
        ];
        let afternoon = Window::new(Some(T0 + DAY + 30_000), Some(T0 + 2 * DAY)).unwrap();
        let read = to_read(Source::products(), &keys, &afternoon, false).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].key, keys[2]);
        assert!(read[0].inside);
        let copy = to_read(Source::products(), &keys, &afternoon, true).unwrap();
        assert_eq!(
            copy.iter()
                .map(|l| (l.key.as_str(), l.inside))
                .collect::<Vec<_>>(),
            [(keys[1].as_str(), false), (keys[2].as_str(), true)],
            "COPY loads the whole day"
        );
        assert_eq!(day_prefix(&keys[1]), "archive/products/2026/11/26/");

        let stray = vec!["archive/products/2026/11/25/notes.txt".to_string()];
        let err = to_read(Source::products(), &stray, &Window::default(), false).unwrap_err();
        assert!(err.why.contains("is not an archive object"), "{err:?}");
        let moved = vec!["archive/products/2026/11/24/20261125T010203Z-ab.ndjson.gz".to_string()];
        let err = to_read(Source::products(), &moved, &Window::default(), false).unwrap_err();
        assert_eq!(err.why, "its snapshot id does not match its date folder");
    }

    /// A snapshot of the generated vendors page, as ingest sends it.
    fn vendors_snapshot() -> records::Snapshot {
        let page = vendor_page(&PageSpec {
            rows: 3,
            ..PageSpec::default()
        });
        records::snapshot(Source::vendors(), &html::parse_table(&page).unwrap(), T0).unwrap()
    }

    #[test]
    fn only_page_rows_of_the_named_snapshot_pass() {
        let snap = vendors_snapshot();
        let id = snap.snapshot_id.clone();
        let rows = snap.records.len();
        assert_eq!(
            check_records(Source::vendors(), &id, snap.records.clone())
                .unwrap()
                .len(),
            rows
        );
        let err = check_records(Source::products(), &id, snap.records.clone()).unwrap_err();
        assert!(
            err.contains("a record of source \"vendors\" in the products archive"),
            "{err}"
        );
        let err = check_records(
            Source::vendors(),
            "20000101T000000Z-00",
            snap.records.clone(),
        )
        .unwrap_err();
        assert!(err.contains("does not match the object's name"), "{err}");
        let mut twice = snap.records.clone();
        twice.push(snap.records[0].clone());
        assert_eq!(
            check_records(Source::vendors(), &id, twice).unwrap_err(),
            format!("line {}: row 1 appears twice", rows + 1)
        );
        // A heartbeat describes a run, not a page: never in the archive.
        let heartbeat = Record {
            partition_key: "heartbeat".into(),
            data: format!(
                r#"{{"record_type":"heartbeat","snapshot_id":"{id}","source":"vendors"}}"#
            )
            .into_bytes(),
        };
        let err = check_records(Source::vendors(), &id, vec![heartbeat]).unwrap_err();
        assert!(err.contains("not a page row"), "{err}");
        let mut big = snap.records[0].clone();
        big.data = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(check_records(Source::vendors(), &id, vec![big])
            .unwrap_err()
            .contains("more than the warehouse takes"));
    }

    #[test]
    fn an_object_must_hold_its_whole_snapshot_and_no_nul() {
        let snap = vendors_snapshot();
        let id = snap.snapshot_id.clone();
        let edit = |i: usize, change: &dyn Fn(&mut serde_json::Value)| {
            let mut records = snap.records.clone();
            let mut payload: serde_json::Value = serde_json::from_slice(&records[i].data).unwrap();
            change(&mut payload);
            records[i].data = serde_json::to_vec(&payload).unwrap();
            records
        };
        let short: Vec<Record> = snap.records[..2].to_vec();
        assert_eq!(
            check_records(Source::vendors(), &id, short).unwrap_err(),
            format!(
                "it holds 2 row(s) of the {} its records announce: not the whole snapshot",
                snap.records.len()
            )
        );
        let other_size = edit(1, &|p| p[SNAPSHOT_ROWS_KEY] = "4".into());
        assert_eq!(
            check_records(Source::vendors(), &id, other_size).unwrap_err(),
            "its records disagree on the snapshot's row count"
        );
        let other_hash = edit(2, &|p| p[PAGE_HASH_KEY] = "00".into());
        assert_eq!(
            check_records(Source::vendors(), &id, other_hash).unwrap_err(),
            "its records disagree on the page hash"
        );
        let nul = edit(0, &|p| p["vendor_name"] = "Ac\0me".into());
        assert_eq!(
            check_records(Source::vendors(), &id, nul).unwrap_err(),
            "line 1: a cell holds a NUL character, which the warehouse cannot store"
        );
        let unannounced: Vec<Record> = (0..2)
            .map(|i| {
                edit(i, &|p| {
                    let object = p.as_object_mut().unwrap();
                    object.remove(SNAPSHOT_ROWS_KEY);
                    object.remove(PAGE_HASH_KEY);
                })[i]
                    .clone()
            })
            .collect();
        assert_eq!(
            check_records(Source::vendors(), &id, unannounced)
                .unwrap()
                .len(),
            2,
            "records from before the row count cannot be checked as a whole"
        );
    }

    #[test]
    fn held_snapshots_are_skipped_partial_and_missing_ones_loaded() {
        let snapshot = |id: &str, rows| Archived {
            snapshot_id: id.into(),
            key: format!("archive/products/2026/11/25/{id}.ndjson.gz"),
            fetched_at: T0,
            rows,
        };
        let archive = SourceArchive {
            source: Source::products(),
            snapshots: vec![snapshot("a", 20), snapshot("b", 20), snapshot("c", 20)],
            objects_read: 3,
        };
        let present = present_rows(vec![
            vec![Some("a".into()), Some("20".into())],
            vec![Some("b".into()), Some("5".into())],
            vec![None, Some("1".into())],
        ]);
        let (out, to_load) = decide(&archive, &present, false);
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
        assert_eq!(to_load.len(), 2);
        let (dry, _) = decide(&archive, &BTreeMap::new(), true);
        assert!(dry.snapshots.iter().all(|s| s.action == Action::WouldLoad));
    }
}
