//! The snapshot archive: before a changed page goes to its stream, ingest
//! writes the snapshot's records to S3 — one gzip-compressed NDJSON object
//! per source and snapshot, named so that a listing is in time order:
//! `archive/<source>/<yyyy>/<mm>/<dd>/<snapshot_id>.ndjson.gz`. Each line is
//! one Kinesis record exactly as it was put: `{"partition_key": …,
//! "data": <the record's JSON>}`. The snapshot id holds the fetch time and
//! the page's content hash, and the bytes are a pure function of both, so
//! the name addresses the content. Heartbeats describe runs, not pages, and
//! are not archived. `pricewatch backfill` reads these objects back. The
//! write itself is the ingest run's (`pricewatch-ingest`).

use std::io::{BufRead as _, Read, Write};

use serde_json::Value;

use super::records::{Record, Source};
use crate::config::names::ARCHIVE_PREFIX;

pub const CONTENT_TYPE: &str = "application/gzip";
const SUFFIX: &str = ".ndjson.gz";

/// The key of a snapshot's archive object. Snapshot ids begin with their
/// UTC fetch time (`YYYYMMDDTHHMMSSZ-<hash>`), which gives the date folders.
pub fn key(source: Source, snapshot_id: &str) -> String {
    let date = |range: std::ops::Range<usize>| snapshot_id.get(range).unwrap_or("0000");
    format!(
        "{}{}/{}/{}/{}/{snapshot_id}{SUFFIX}",
        ARCHIVE_PREFIX,
        source.name(),
        date(0..4),
        date(4..6),
        date(6..8)
    )
}

/// The key prefix of a source's archive, or of one of its days.
pub fn prefix(source: Source, day: Option<(i64, u32, u32)>) -> String {
    match day {
        Some((year, month, day)) => format!(
            "{ARCHIVE_PREFIX}{}/{year:04}/{month:02}/{day:02}/",
            source.name()
        ),
        None => format!("{ARCHIVE_PREFIX}{}/", source.name()),
    }
}

/// The snapshot id an archive key names, if it is one.
pub(crate) fn snapshot_id_of(source: Source, key: &str) -> Option<&str> {
    let rest = key.strip_prefix(&prefix(source, None))?;
    let file = rest.rsplit('/').next()?;
    let id = file.strip_suffix(SUFFIX)?;
    (rest.matches('/').count() == 3 && is_snapshot_id(id)).then_some(id)
}

/// `YYYYMMDDTHHMMSSZ-` followed by lowercase hex, as `records::snapshot` makes them.
fn is_snapshot_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() > 17
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'T'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'Z'
        && bytes[16] == b'-'
        && bytes[17..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// The object's bytes: one line per record, gzip with a zero timestamp so
/// the same records always give the same bytes.
pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    records
        .iter()
        .try_for_each(|record| encoder.push(record))
        .and_then(|()| encoder.finish())
        .expect("compressing into memory cannot fail")
}

/// Writes an archive object record by record into `W` (ingest writes a
/// temporary file, so a snapshot of any size costs the memory of one
/// record); the bytes are those of `encode`.
pub struct Encoder<W: Write> {
    gzip: flate2::write::GzEncoder<W>,
    line: Vec<u8>,
}

impl<W: Write> Encoder<W> {
    pub fn new(out: W) -> Encoder<W> {
        Encoder {
            gzip: flate2::GzBuilder::new()
                .mtime(0)
                .write(out, flate2::Compression::default()),
            line: Vec::new(),
        }
    }

    pub fn push(&mut self, record: &Record) -> std::io::Result<()> {
        self.line.clear();
        self.line.extend_from_slice(b"{\"data\":");
        self.line.extend_from_slice(&record.data);
        self.line.extend_from_slice(b",\"partition_key\":");
        self.line.extend_from_slice(
            Value::from(record.partition_key.as_str())
                .to_string()
                .as_bytes(),
        );
        self.line.extend_from_slice(b"}\n");
        self.gzip.write_all(&self.line)
    }

    pub fn finish(self) -> std::io::Result<W> {
        self.gzip.finish()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("is not gzip-compressed NDJSON: {0}")]
    Compression(String),
    #[error("line {line}: {why}")]
    Line { line: usize, why: String },
}

/// Reads an archive object back into the records it holds, in order.
pub fn decode(bytes: &[u8]) -> Result<Vec<Record>, DecodeError> {
    Decoder::new(bytes).collect()
}

/// Reads an archive object record by record from `R`, in order.
pub struct Decoder<R: Read> {
    lines: std::io::BufReader<flate2::read::GzDecoder<R>>,
    line: String,
    number: usize,
}

impl<R: Read> Decoder<R> {
    pub fn new(input: R) -> Decoder<R> {
        Decoder {
            lines: std::io::BufReader::new(flate2::read::GzDecoder::new(input)),
            line: String::new(),
            number: 0,
        }
    }
}

impl<R: Read> Iterator for Decoder<R> {
    type Item = Result<Record, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.line.clear();
            match self.lines.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(DecodeError::Compression(e.to_string()))),
            }
            self.number += 1;
            if !self.line.trim().is_empty() {
                return Some(record(&self.line, self.number));
            }
        }
    }
}

/// Line `number` of an archive object.
fn record(line: &str, number: usize) -> Result<Record, DecodeError> {
    let bad = |why: &str| DecodeError::Line {
        line: number,
        why: why.to_string(),
    };
    let value: Value = serde_json::from_str(line).map_err(|e| bad(&format!("not JSON ({e})")))?;
    let partition_key = value["partition_key"]
        .as_str()
        .ok_or_else(|| bad("no partition_key string"))?;
    let data = &value["data"];
    if !data.is_object() {
        return Err(bad("no data object"));
    }
    Ok(Record {
        partition_key: partition_key.to_string(),
        // Ingest serialises records with sorted keys, as serde_json
        // does again here: the bytes are the ones that were sent.
        data: data.to_string().into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::{product_page, PageSpec};
    use crate::ingest::html;
    use crate::ingest::records::{self, Snapshot};

    fn snapshot(rows: usize) -> Snapshot {
        let page = product_page(&PageSpec {
            rows,
            broken_ratio: 0.2,
            ..PageSpec::default()
        });
        let table = html::parse_table(&page).unwrap();
        records::snapshot(Source::products(), &table, 1_795_568_523).unwrap()
    }

    #[test]
    fn keys_list_in_time_order_per_source_and_day() {
        let key = key(Source::products(), "20261125T010203Z-ab12cd34");
        assert_eq!(
            key,
            "archive/products/2026/11/25/20261125T010203Z-ab12cd34.ndjson.gz"
        );
        assert_eq!(
            snapshot_id_of(Source::products(), &key),
            Some("20261125T010203Z-ab12cd34")
        );
        assert_eq!(snapshot_id_of(Source::vendors(), &key), None);
        assert_eq!(
            snapshot_id_of(Source::products(), "archive/products/2026/11/25/notes.txt"),
            None
        );
        assert_eq!(
            snapshot_id_of(Source::products(), "archive/products/x.ndjson.gz"),
            None
        );
        assert_eq!(
            prefix(Source::vendors(), Some((2026, 1, 5))),
            "archive/vendors/2026/01/05/"
        );
        let mut keys = [
            key.clone(),
            super::key(Source::products(), "20261124T235959Z-ffffffff"),
            super::key(Source::products(), "20261125T010204Z-00000000"),
        ];
        keys.sort();
        assert_eq!(keys[1], key, "lexical order is time order");
    }

    #[test]
    fn an_object_holds_exactly_the_records_of_the_snapshot() {
        let snap = snapshot(120);
        let bytes = encode(&snap.records);
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip");
        assert_eq!(
            bytes,
            encode(&snap.records),
            "the same records, the same bytes"
        );
        let decoded = decode(&bytes).unwrap();
        assert_eq!(
            decoded, snap.records,
            "partition keys and data, byte for byte"
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text.lines().count(), 120, "one line per record");
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["data"]["row_number"], 1);
        assert_eq!(first["data"]["snapshot_id"], snap.snapshot_id.as_str());
    }

    #[test]
    fn damaged_objects_are_named_by_line() {
        assert!(matches!(
            decode(b"plain text"),
            Err(DecodeError::Compression(_))
        ));
        let gzip = |text: &str| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap()
        };
        let err = decode(&gzip(
            "{\"data\":{},\"partition_key\":\"k\"}\n{\"data\":1}\n",
        ))
        .unwrap_err();
        assert_eq!(err.to_string(), "line 2: no partition_key string");
        let err = decode(&gzip("{\"partition_key\":\"k\"}\n")).unwrap_err();
        assert_eq!(err.to_string(), "line 1: no data object");
        assert!(decode(&gzip("{oops\n"))
            .unwrap_err()
            .to_string()
            .starts_with("line 1: not JSON"));
    }

    #[test]
    fn snapshot_ids_are_recognised() {
        assert!(is_snapshot_id("20261125T010203Z-ab12cd34"));
        assert!(!is_snapshot_id("20261125T010203Z-"));
        assert!(!is_snapshot_id("20261125T010203Z-AB12"));
        assert!(!is_snapshot_id("2026-11-25T01:02:03Z-ab"));
        assert!(!is_snapshot_id("x'); drop table y; --"));
    }
}
