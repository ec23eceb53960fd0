//! From a parsed table to Kinesis records: columns found by header name,
//! every cell kept as raw text, one snapshot id per page version, a stable
//! partition key per row (so a row's history stays ordered on one shard),
//! and the content hash that tells whether the page changed.

use serde_json::{Map, Value};

use super::html::Table;
use sha2::{Digest as _, Sha256};

use crate::config::{Settings, SourceSettings};
use crate::hash::sha256_hex;
use crate::limits::{MAX_CELL_CHARS, MAX_RECORD_BYTES, TRUNCATED_MARKER};
use crate::time::utc_timestamps;

/// A page pricewatch ingests, as its declaration (`sources.<name>` in the
/// env files) describes it: its name, which page headers feed which payload
/// keys, and the keys that identify a row.
///
/// A copyable handle: sources are declared once per process (the CLI loads
/// one env, the ingest Lambda reads its configuration once) and live as
/// long as it, so [`Source::declare`] leaks its description once rather
/// than every step of a run cloning and threading it through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source(&'static SourceSpec);

/// What ingest reads of a source's declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceSpec {
    pub name: String,
    /// Payload key → the page's header text, in declaration order.
    pub columns: Vec<(String, String)>,
    /// Payload keys whose values make the partition key.
    pub key: Vec<String>,
}

impl SourceSpec {
    /// The spec of a declared source.
    pub(crate) fn of(name: &str, settings: &SourceSettings) -> SourceSpec {
        SourceSpec {
            name: name.to_string(),
            columns: settings
                .columns
                .iter()
                .map(|(column, c)| (column.to_string(), c.header.clone()))
                .collect(),
            key: settings.key.clone(),
        }
    }
}

/// One source as the ingest Lambda's configuration lists it: the JSON
/// array `PRICEWATCH_SOURCES` the ingest stack sets, so a new source needs
/// a deploy, not a new Lambda build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    /// The page: an http(s) URL or a file.
    pub url: String,
    /// The Kinesis stream's name or ARN.
    pub stream: String,
    /// Payload key → the page's header text, in declaration order.
    pub columns: Vec<(String, String)>,
    pub key: Vec<String>,
}

impl SourceConfig {
    /// Every enabled source of an env, with its stream.
    pub fn enabled(settings: &Settings, names: &crate::config::Names) -> Vec<SourceConfig> {
        settings
            .enabled_sources()
            .map(|(name, s)| {
                let spec = SourceSpec::of(name, s);
                SourceConfig {
                    url: s.url.clone(),
                    stream: names
                        .stream(name)
                        .expect("an enabled source has a stream")
                        .to_string(),
                    name: spec.name,
                    columns: spec.columns,
                    key: spec.key,
                }
            })
            .collect()
    }

    /// Its source (declared once per process, see [`Source`]).
    pub fn source(&self) -> Source {
        Source::declare(SourceSpec {
            name: self.name.clone(),
            columns: self.columns.clone(),
            key: self.key.clone(),
        })
    }
}

impl Source {
    /// The handle of a declared source (see [`Source`] for its lifetime).
    pub(crate) fn declare(spec: SourceSpec) -> Source {
        Source(Box::leak(Box::new(spec)))
    }

    /// Every enabled source of an env's settings, by name.
    pub fn enabled(settings: &Settings) -> Vec<Source> {
        settings
            .enabled_sources()
            .map(|(name, s)| Source::declare(SourceSpec::of(name, s)))
            .collect()
    }

    pub fn name(self) -> &'static str {
        &self.0.name
    }

    /// Normalised header → payload key, for the declared columns.
    fn columns(self) -> impl Iterator<Item = (String, &'static str)> {
        self.0
            .columns
            .iter()
            .map(|(key, header)| (normalise_header(header), key.as_str()))
    }

    /// Payload keys whose values make the partition key.
    fn key_columns(self) -> &'static [String] {
        &self.0.key
    }
}

/// One record for Kinesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// A page's table turned into one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub source: Source,
    pub content_hash: String,
    pub snapshot_id: String,
    pub records: Vec<Record>,
    /// Cells cut to MAX_CELL_CHARS.
    pub cells_truncated: usize,
    /// Rows whose record would exceed MAX_RECORD_BYTES: sent without their
    /// cells, marked `oversize`, so the warehouse quarantines them.
    pub records_oversize: usize,
}

// The payload's contract (keys ingest writes, how a header reads), shared
// with the config's validation.
pub use crate::payload::RECORD_TYPE_KEY;
pub(crate) use crate::payload::{normalise_header, PAGE_HASH_KEY, ROW, SNAPSHOT_ROWS_KEY};

/// A cell as the warehouse can store it: control characters other than
/// tab and line breaks dropped (PostgreSQL rejects NUL in text and JSON,
/// and none of them is page content), at most MAX_CELL_CHARS characters.
/// True when it had to be cut.
pub fn clean_cell(cell: &str) -> (String, bool) {
    let clean: String = cell
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if clean.chars().count() <= MAX_CELL_CHARS {
        return (clean, false);
    }
    let keep = MAX_CELL_CHARS - TRUNCATED_MARKER.chars().count();
    let mut cut: String = clean.chars().take(keep).collect();
    cut.push_str(TRUNCATED_MARKER);
    (cut, true)
}

/// A table whose columns cannot be read by name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ColumnError {
    #[error("the {source_name} page's table lacks column(s) {}: found {}", .missing.join(", "), .found.join(", "))]
    Missing {
        source_name: &'static str,
        missing: Vec<String>,
        found: Vec<String>,
    },
    /// Two headers read the same once normalised: which one a value belongs
    /// to is a guess, so the page is refused rather than half of it kept.
    #[error("the {source_name} page's table has two columns named `{name}` (columns {first} and {second}); which one to read is a guess, so nothing was sent")]
    Duplicate {
        source_name: &'static str,
        name: String,
        first: usize,
        second: usize,
    },
}

/// The hash of what a page shows: its header and every cell.
pub(crate) fn content_hash(table: &Table) -> String {
    let mut hasher = PageHasher::new(&table.headers);
    for row in &table.rows {
        hasher.row(row);
    }
    hasher.finish()
}

/// The content hash computed row by row, as a page is read: the same
/// value as `content_hash` of the whole table.
pub struct PageHasher(Sha256);

impl PageHasher {
    pub fn new(headers: &[String]) -> PageHasher {
        let mut sha = Sha256::new();
        Self::cells(&mut sha, headers);
        PageHasher(sha)
    }

    pub fn row(&mut self, row: &[String]) {
        self.0.update("\u{1e}".as_bytes());
        Self::cells(&mut self.0, row);
    }

    fn cells(sha: &mut Sha256, cells: &[String]) {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                sha.update("\u{1f}".as_bytes());
            }
            sha.update(cell.as_bytes());
        }
    }

    pub fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The payload key of each of a page's columns: known columns get their
/// contract key, others a snake_case name — suffixed `__undeclared` when
/// that name is a declared column's key (a page's "Price" beside the
/// declared "Unit Price" → `price`), so a column the source does not
/// declare never takes a declared column's value, and is still kept
/// (declared names hold no `__`). An error when a column the source needs
/// is missing or two read the same.
pub fn column_keys(source: Source, headers: &[String]) -> Result<Vec<String>, ColumnError> {
    let normalised: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    for (second, name) in normalised.iter().enumerate() {
        if let Some(first) = normalised[..second].iter().position(|n| n == name) {
            return Err(ColumnError::Duplicate {
                source_name: source.name(),
                name: headers[second].clone(),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    let missing: Vec<String> = source
        .columns()
        .filter(|(header, _)| !normalised.iter().any(|n| n == header))
        .map(|(header, _)| header)
        .collect();
    if !missing.is_empty() {
        return Err(ColumnError::Missing {
            source_name: source.name(),
            missing,
            found: headers.to_vec(),
        });
    }
    Ok(normalised
        .iter()
        .map(|n| {
            source
                .columns()
                .find(|(header, _)| header == n)
                .map(|(_, key)| key.to_string())
                .unwrap_or_else(|| {
                    let name = n.replace(' ', "_");
                    if source.columns().any(|(_, key)| key == name) {
                        format!("{name}__undeclared")
                    } else {
                        name
                    }
                })
        })
        .collect())
}

/// What identifies a snapshot: its rows and content hash, known only once
/// the whole page was read, and the fetch time.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotHeader {
    pub rows: usize,
    pub content_hash: String,
    pub fetched_at: u64,
}

impl SnapshotHeader {
    /// `<UTC fetch time>-<first 8 hex digits of the content hash>`.
    pub fn snapshot_id(&self) -> String {
        let (_, compact) = utc_timestamps(self.fetched_at);
        format!("{compact}-{}", &self.content_hash[..8])
    }
}

/// Turns a page's rows into records one at a time: every record carries
/// the snapshot's row count and page hash, so the rows are read twice —
/// once for the header (`PageHasher`), once here.
pub struct RecordWriter {
    source: Source,
    keys: Vec<String>,
    header: SnapshotHeader,
    snapshot_id: String,
    fetched_at: String,
    /// Cells cut to MAX_CELL_CHARS.
    pub cells_truncated: usize,
    /// Rows whose record would exceed MAX_RECORD_BYTES: sent without their
    /// cells, marked `oversize`, so the warehouse quarantines them.
    pub records_oversize: usize,
}

impl RecordWriter {
    pub fn new(
        source: Source,
        headers: &[String],
        header: SnapshotHeader,
    ) -> Result<RecordWriter, ColumnError> {
        let keys = column_keys(source, headers)?;
        let (fetched_at, _) = utc_timestamps(header.fetched_at);
        Ok(RecordWriter {
            source,
            keys,
            snapshot_id: header.snapshot_id(),
            header,
            fetched_at,
            cells_truncated: 0,
            records_oversize: 0,
        })
    }

    pub fn snapshot_id(&self) -> &str {
        &self.snapshot_id
    }

    /// The record of data row `row_number` (from 1).
    pub fn record(&mut self, row_number: usize, row: &[String]) -> Record {
        let mut cells_truncated = 0;
        let mut cell = |text: &String| {
            let (clean, cut) = clean_cell(text);
            cells_truncated += usize::from(cut);
            clean
        };
        let mut meta = Map::new();
        meta.insert(RECORD_TYPE_KEY.into(), ROW.into());
        meta.insert("source".into(), self.source.name().into());
        meta.insert("snapshot_id".into(), self.snapshot_id.clone().into());
        meta.insert("fetched_at".into(), self.fetched_at.clone().into());
        meta.insert("row_number".into(), row_number.into());
        // What the warehouse needs to accept the snapshot only whole:
        // how many rows it has and what they hash to (a string, like
        // every value ingest sends: SUPER casts only strings to VARCHAR).
        meta.insert(
            SNAPSHOT_ROWS_KEY.into(),
            self.header.rows.to_string().into(),
        );
        meta.insert(
            PAGE_HASH_KEY.into(),
            self.header.content_hash.clone().into(),
        );
        let mut payload = meta.clone();
        for (key, value) in self.keys.iter().zip(row) {
            let value = cell(value);
            payload.entry(key.clone()).or_insert_with(|| value.into());
        }
        for key in self.keys.iter().skip(row.len()) {
            payload.entry(key.clone()).or_insert(Value::Null);
        }
        if row.len() > self.keys.len() {
            // A ragged row: keep what has no header in the record, so the raw
            // payload shows it; silver types the declared columns only.
            let extra: Vec<String> = row[self.keys.len()..].iter().map(&mut cell).collect();
            payload.insert("extra_cells".into(), extra.into());
        }
        self.cells_truncated += cells_truncated;
        let partition_key = partition_key(self.source, &payload, row_number);
        let mut data = Value::Object(payload).to_string().into_bytes();
        if data.len() > MAX_RECORD_BYTES {
            // Too large for the warehouse to read back: the row is
            // still sent (and quarantined there), just without its cells.
            self.records_oversize += 1;
            // A string: SUPER casts only strings to VARCHAR.
            meta.insert("oversize_bytes".into(), data.len().to_string().into());
            data = Value::Object(meta).to_string().into_bytes();
        }
        Record {
            partition_key,
            data,
        }
    }
}

/// Builds the snapshot of a page fetched at `fetched_at` (unix seconds).
pub fn snapshot(source: Source, table: &Table, fetched_at: u64) -> Result<Snapshot, ColumnError> {
    column_keys(source, &table.headers)?;
    let header = SnapshotHeader {
        rows: table.rows.len(),
        content_hash: content_hash(table),
        fetched_at,
    };
    let content_hash = header.content_hash.clone();
    let mut writer = RecordWriter::new(source, &table.headers, header)?;
    let records = table
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| writer.record(i + 1, row))
        .collect();
    Ok(Snapshot {
        source,
        content_hash,
        snapshot_id: writer.snapshot_id.clone(),
        records,
        cells_truncated: writer.cells_truncated,
        records_oversize: writer.records_oversize,
    })
}

/// Kinesis partition keys are 1-256 characters.
fn partition_key(source: Source, payload: &Map<String, Value>, row_number: usize) -> String {
    let key = source
        .key_columns()
        .iter()
        .map(|k| payload.get(k).and_then(Value::as_str).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("|");
    if key.trim_matches('|').is_empty() {
        format!("row-{row_number}")
    } else if key.chars().count() > 256 {
        sha256_hex(key.as_bytes())
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    fn payload(record: &Record) -> serde_json::Value {
        serde_json::from_slice(&record.data).unwrap()
    }

    #[test]
    fn records_carry_raw_text_by_header_name_in_any_column_order() {
        let t = table(
            &[
                "Stock Status",
                "Vendor",
                "Sale  Price",
                "Item",
                "Category",
                "Colour",
            ],
            &[
                &["In Stock", "Acme", "$1,299.00", "Laptop", "Laptops", "grey"],
                &["??", "", "ten", "", "", ""],
            ],
        );
        let snap = snapshot(Source::products(), &t, 1_795_568_523).unwrap();
        assert_eq!(snap.records.len(), 2);
        assert!(snap.snapshot_id.starts_with("20261125T010203Z-"));
        let first = payload(&snap.records[0]);
        assert_eq!(first["item"], "Laptop");
        assert_eq!(first["sale_price"], "$1,299.00");
        assert_eq!(first["stock_status"], "In Stock");
        assert_eq!(first["colour"], "grey");
        assert_eq!(first["source"], "products");
        assert_eq!(first["record_type"], "row");
        assert_eq!(first["row_number"], 1);
        assert_eq!(first["fetched_at"], "2026-11-25T01:02:03Z");
        assert_eq!(first["snapshot_rows"], "2");
        assert_eq!(
            first["page_hash"].as_str(),
            Some(snap.content_hash.as_str())
        );
        assert!(snap.snapshot_id.ends_with(&snap.content_hash[..8]));
        assert_eq!(snap.records[0].partition_key, "Laptop|Acme");
        // A broken row is still sent (the warehouse quarantines it).
        assert_eq!(payload(&snap.records[1])["sale_price"], "ten");
        assert_eq!(snap.records[1].partition_key, "row-2");
    }

    #[test]
    fn a_page_column_cannot_pass_a_row_off_as_a_heartbeat() {
        let t = table(
            &[
                "Item",
                "Category",
                "Vendor",
                "Sale Price",
                "Stock Status",
                "Record Type",
            ],
            &[&["Kettle", "Kitchen", "Acme", "1.00", "In Stock", "heartbeat"]],
        );
        let snap = snapshot(Source::products(), &t, 0).unwrap();
        assert_eq!(payload(&snap.records[0])["record_type"], "row");
    }

    #[test]
    fn ragged_rows_keep_every_cell() {
        let t = table(
            &[
                "Vendor Name",
                "Shipping Cost",
                "Customer Review Score",
                "Number of Feedbacks",
            ],
            &[&["Acme", "Free"], &["B", "1", "4.5", "1,204", "surplus"]],
        );
        let snap = snapshot(Source::vendors(), &t, 0).unwrap();
        let short = payload(&snap.records[0]);
        assert_eq!(short["review_score"], serde_json::Value::Null);
        let long = payload(&snap.records[1]);
        assert_eq!(long["feedback_count"], "1,204");
        assert_eq!(long["extra_cells"][0], "surplus");
        assert_eq!(snap.records[1].partition_key, "B");
    }

    #[test]
    fn a_declared_source_maps_its_headers_to_its_column_names() {
        let prices = Source::declare(SourceSpec {
            name: "prices".into(),
            columns: vec![
                ("item".into(), "Item Name".into()),
                ("vendor".into(), "Vendor".into()),
                ("price".into(), "Price (USD)".into()),
            ],
            key: vec!["item".into(), "vendor".into()],
        });
        let t = table(
            &["price usd", "VENDOR", "Item  name", "Note"],
            &[&["$1,234.56 ", "Acme", "Kettle", "x"]],
        );
        assert_eq!(
            column_keys(prices, &t.headers).unwrap(),
            ["price", "vendor", "item", "note"]
        );
        let snap = snapshot(prices, &t, 0).unwrap();
        let row = payload(&snap.records[0]);
        assert_eq!(
            row["price"], "$1,234.56 ",
            "raw text; the warehouse types it"
        );
        assert_eq!(row["source"], "prices");
        assert_eq!(row["snapshot_rows"], "1");
        assert_eq!(snap.records[0].partition_key, "Kettle|Acme");
        let err = snapshot(prices, &table(&["Item Name", "Price"], &[]), 0).unwrap_err();
        assert!(
            err.to_string()
                .contains("the prices page's table lacks column(s) vendor, price usd"),
            "{err}"
        );
    }

    #[test]
    fn an_undeclared_column_never_takes_a_declared_columns_name() {
        let prices = Source::declare(SourceSpec {
            name: "unit_prices".into(),
            columns: vec![
                ("item".into(), "Item".into()),
                ("price".into(), "Unit Price".into()),
            ],
            key: vec!["item".into()],
        });
        // "Price" comes first and would be `price` by its own name.
        let t = table(&["Item", "Price", "Unit Price"], &[&["Kettle", "9", "3"]]);
        assert_eq!(
            column_keys(prices, &t.headers).unwrap(),
            ["item", "price__undeclared", "price"]
        );
        let row = payload(&snapshot(prices, &t, 0).unwrap().records[0]);
        assert_eq!(row["price"], "3", "the declared column's value");
        assert_eq!(row["price__undeclared"], "9", "kept, under its own key");
    }

    #[test]
    fn a_missing_column_is_named() {
        let t = table(&["Item", "Vendor", "Price"], &[]);
        let err = snapshot(Source::products(), &t, 0).unwrap_err();
        let ColumnError::Missing { missing, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(missing, &["category", "sale price", "stock status"]);
        assert!(err.to_string().contains("found Item, Vendor, Price"));
    }

    #[test]
    fn a_column_named_twice_is_refused() {
        let t = table(
            &[
                "Item",
                "Category",
                "Vendor",
                "Sale Price",
                "Stock Status",
                "sale_price",
            ],
            &[&["Kettle", "Kitchen", "Acme", "1.00", "In Stock", "999.00"]],
        );
        let err = snapshot(Source::products(), &t, 0).unwrap_err();
        assert_eq!(
            err,
            ColumnError::Duplicate {
                source_name: "products",
                name: "sale_price".into(),
                first: 4,
                second: 6
            }
        );
        assert!(
            err.to_string()
                .contains("two columns named `sale_price` (columns 4 and 6)"),
            "{err}"
        );
    }

    #[test]
    fn the_hash_follows_content_not_time() {
        let a = table(&["h"], &[&["1"]]);
        let b = table(&["h"], &[&["2"]]);
        assert_eq!(content_hash(&a), content_hash(&a.clone()));
        assert_ne!(content_hash(&a), content_hash(&b));
        // Cell boundaries matter: ["ab"] is not ["a", "b"].
        assert_ne!(
            content_hash(&table(&["h"], &[&["ab"]])),
            content_hash(&table(&["h", "i"], &[&["a", "b"]]))
        );
        // The hash as every earlier release computed it: one sha256 of the
        // joined text, so page hashes kept in S3 stay comparable.
        let t = table(&["h", "i"], &[&["1", "2"], &["3", ""]]);
        assert_eq!(
            content_hash(&t),
            sha256_hex("h\u{1f}i\u{1e}1\u{1f}2\u{1e}3\u{1f}".as_bytes())
        );
    }

    #[test]
    fn long_partition_keys_are_hashed() {
        let long = "x".repeat(300);
        let t = table(
            &[
                "Vendor Name",
                "Shipping Cost",
                "Customer Review Score",
                "Number of Feedbacks",
            ],
            &[&[long.as_str(), "1", "1", "1"]],
        );
        let snap = snapshot(Source::vendors(), &t, 0).unwrap();
        assert_eq!(snap.records[0].partition_key.len(), 64);
    }

    #[test]
    fn cells_lose_control_characters_and_are_cut_with_a_marker() {
        assert_eq!(
            clean_cell("Ket\0tle\u{7}\t1"),
            ("Kettle\t1".to_string(), false)
        );
        let long = "é".repeat(MAX_CELL_CHARS + 5);
        let (cut, truncated) = clean_cell(&long);
        assert!(truncated);
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
        assert!(cut.ends_with(TRUNCATED_MARKER));
        let exact = "x".repeat(MAX_CELL_CHARS);
        assert_eq!(clean_cell(&exact), (exact.clone(), false));
    }

    #[test]
    fn no_record_exceeds_the_warehouse_limit_and_none_is_lost() {
        let huge = "\"".repeat(10_000);
        let headers = [
            "Item",
            "Category",
            "Vendor",
            "Sale Price",
            "Stock Status",
            "a",
            "b",
        ];
        let many: Vec<&str> = std::iter::repeat_n(huge.as_str(), 40).collect();
        let t = table(
            &headers,
            &[
                &["Kettle", "Kitchen", "Acme", "$1", "In Stock", "x", "y"],
                &many,
                &["Nul\0l", "Kitchen", "Acme", "$2", "In Stock", "", ""],
            ],
        );
        let snap = snapshot(Source::products(), &t, 0).unwrap();
        assert_eq!(snap.records.len(), 3, "every row is sent");
        assert!(snap
            .records
            .iter()
            .all(|r| r.data.len() <= MAX_RECORD_BYTES));
        assert_eq!(snap.records_oversize, 1);
        assert_eq!(snap.cells_truncated, 40);
        let oversize = payload(&snap.records[1]);
        let bytes: usize = oversize["oversize_bytes"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(bytes > MAX_RECORD_BYTES);
        assert_eq!(oversize["row_number"], 2);
        assert_eq!(
            oversize["snapshot_rows"], "3",
            "an oversize row still counts"
        );
        assert!(oversize.get("item").is_none());
        assert_eq!(payload(&snap.records[2])["item"], "Null");
    }
}
