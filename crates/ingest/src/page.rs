//! A page on local disk and the passes over it that keep memory flat
//! whatever the page's size. Every record of a snapshot carries the
//! snapshot's row count and page hash, which are known only once the whole
//! page was read, so the page is read twice from disk (see
//! docs/decisions.md, "Flat-memory ingest"):
//!
//! 1. `scan`: the header, the row count and the page hash, row by row;
//!    the run compares the hash with the last one and stops there when the
//!    page did not change.
//! 2. `build`: the records, row by row, into the archive object's bytes in
//!    a temporary file (gzip NDJSON, exactly as archived).
//!
//! The archive file is then uploaded, and `Archive::batches` reads it back
//! a PutRecords batch at a time for delivery, so what is sent is what was
//! archived. Memory holds one row, one record and one batch at a time.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pricewatch_core::ingest::archive::{Decoder, Encoder};
use pricewatch_core::ingest::html::TableReader;
use pricewatch_core::ingest::records::{
    column_keys, PageHasher, Record, RecordWriter, SnapshotHeader, Source,
};

use crate::delivery::{MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL};

/// A fetch never takes longer than this, nor past the run's deadline.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest page fetched over http(s). Pages go to a temporary file
/// (the Lambda's /tmp, 512 MiB by default), together with their archive
/// object, so this bounds disk, not memory.
pub(crate) const MAX_PAGE_BYTES: u64 = 256 * 1024 * 1024;

/// A fetched page: a temporary file for a URL, the file itself for a path.
pub struct PageFile {
    path: PathBuf,
    /// Deletes the downloaded copy when the page is dropped.
    _download: Option<tempfile::TempPath>,
}

impl PageFile {
    /// Fetches a page: http(s) URLs over the network into a temporary
    /// file, anything else read from disk where it is.
    pub(crate) fn fetch(location: &str, timeout: Duration) -> Result<PageFile, String> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout.min(FETCH_TIMEOUT)))
                .build()
                .into();
            let mut response = agent
                .get(location)
                .call()
                .map_err(|e| format!("GET {location}: {e}"))?;
            let mut body = response
                .body_mut()
                .with_config()
                .limit(MAX_PAGE_BYTES)
                .reader();
            let file = tempfile::NamedTempFile::new()
                .map_err(|e| format!("cannot create a temporary file for {location}: {e}"))?;
            let mut out = BufWriter::new(file.as_file());
            std::io::copy(&mut body, &mut out)
                .and_then(|_| out.flush())
                .map_err(|e| format!("reading {location}: {e}"))?;
            drop(out);
            let download = file.into_temp_path();
            Ok(PageFile {
                path: download.to_path_buf(),
                _download: Some(download),
            })
        } else {
            let path = location.strip_prefix("file://").unwrap_or(location);
            // Opened now, so a missing file fails the fetch, as before.
            File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            Ok(PageFile {
                path: PathBuf::from(path),
                _download: None,
            })
        }
    }

    /// A page given as text (tests, and callers that already hold it),
    /// written to a temporary file.
    pub fn from_text(text: &str) -> Result<PageFile, String> {
        let mut file = tempfile::NamedTempFile::new()
            .map_err(|e| format!("cannot create a temporary file: {e}"))?;
        file.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write a temporary file: {e}"))?;
        let download = file.into_temp_path();
        Ok(PageFile {
            path: download.to_path_buf(),
            _download: Some(download),
        })
    }

    fn table(&self) -> Result<TableReader<BufReader<File>>, String> {
        let file = File::open(&self.path)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        TableReader::new(BufReader::with_capacity(64 * 1024, file)).map_err(|e| e.to_string())
    }
}

/// What the first pass learns: the header row, how many rows follow and
/// what the table hashes to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scan {
    pub headers: Vec<String>,
    pub rows: usize,
    pub content_hash: String,
}

/// The first pass: refuses a table whose columns cannot be read before
/// reading its rows.
pub(crate) fn scan(page: &PageFile, source: Source) -> Result<Scan, String> {
    let mut table = page.table()?;
    let headers = table.headers().to_vec();
    column_keys(source, &headers).map_err(|e| e.to_string())?;
    let mut hasher = PageHasher::new(&headers);
    let mut rows = 0;
    while let Some(row) = table.next_row().map_err(|e| e.to_string())? {
        hasher.row(&row);
        rows += 1;
    }
    Ok(Scan {
        headers,
        rows,
        content_hash: hasher.finish(),
    })
}

/// A snapshot's archive object in a temporary file.
pub(crate) struct Archive {
    file: tempfile::TempPath,
    pub snapshot_id: String,
    pub records: usize,
    /// Size of the object.
    pub bytes: u64,
    pub cells_truncated: usize,
    pub records_oversize: usize,
}

/// The second pass: the snapshot's records into its archive object. The
/// page must read as the scan saw it (a file changed in between is an error).
pub(crate) fn build(
    page: &PageFile,
    source: Source,
    scan: &Scan,
    fetched_at: u64,
) -> Result<Archive, String> {
    let header = SnapshotHeader {
        rows: scan.rows,
        content_hash: scan.content_hash.clone(),
        fetched_at,
    };
    let mut writer = RecordWriter::new(source, &scan.headers, header).map_err(|e| e.to_string())?;
    let file = tempfile::NamedTempFile::new()
        .map_err(|e| format!("cannot create a temporary file for the archive: {e}"))?;
    let io = |e: std::io::Error| format!("cannot write the archive's temporary file: {e}");
    let mut encoder = Encoder::new(BufWriter::new(file.as_file()));
    let mut table = page.table()?;
    let mut hasher = PageHasher::new(table.headers());
    let mut records = 0;
    while let Some(row) = table.next_row().map_err(|e| e.to_string())? {
        hasher.row(&row);
        records += 1;
        encoder.push(&writer.record(records, &row)).map_err(io)?;
    }
    encoder
        .finish()
        .and_then(|mut out| out.flush())
        .map_err(io)?;
    if records != scan.rows || hasher.finish() != scan.content_hash {
        return Err(format!(
            "the page changed while it was read ({} rows, then {records}); nothing was sent",
            scan.rows
        ));
    }
    let bytes = file.as_file().metadata().map_err(io)?.len();
    Ok(Archive {
        snapshot_id: writer.snapshot_id().to_string(),
        records,
        bytes,
        cells_truncated: writer.cells_truncated,
        records_oversize: writer.records_oversize,
        file: file.into_temp_path(),
    })
}

impl Archive {
    pub(crate) fn path(&self) -> &Path {
        &self.file
    }

    /// The archived records again, in order, in groups within the
    /// PutRecords limits of one call.
    pub(crate) fn batches(&self) -> Result<Batches<impl Read>, String> {
        let file = File::open(&self.file)
            .map_err(|e| format!("cannot read the archive's temporary file: {e}"))?;
        Ok(Batches {
            records: Decoder::new(BufReader::new(file)),
            next: None,
        })
    }
}

/// Groups of records, each within MAX_RECORDS_PER_CALL and
/// MAX_BYTES_PER_CALL (a record too large for any call travels alone and is
/// refused by delivery).
pub(crate) struct Batches<R: Read> {
    records: Decoder<R>,
    /// The record that did not fit the last batch.
    next: Option<Record>,
}

impl<R: Read> Iterator for Batches<R> {
    type Item = Result<Vec<Record>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        loop {
            let record = match self.next.take() {
                Some(record) => record,
                None => match self.records.next() {
                    Some(Ok(record)) => record,
                    Some(Err(e)) => return Some(Err(format!("the archive's temporary file {e}"))),
                    None => break,
                },
            };
            let size = record.data.len() + record.partition_key.len();
            if !batch.is_empty()
                && (batch.len() == MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)
            {
                self.next = Some(record);
                break;
            }
            bytes += size;
            batch.push(record);
        }
        (!batch.is_empty()).then_some(Ok(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricewatch_core::ingest::archive;
    use pricewatch_core::ingest::fixtures::{product_page, PageSpec};
    use pricewatch_core::ingest::{html, records};

    #[test]
    fn two_passes_give_the_records_of_the_whole_page() {
        let text = product_page(&PageSpec {
            rows: 1234,
            broken_ratio: 0.1,
            ..PageSpec::default()
        });
        let page = PageFile::from_text(&text).unwrap();
        let scan = scan(&page, Source::products()).unwrap();
        let whole =
            records::snapshot(Source::products(), &html::parse_table(&text).unwrap(), 60).unwrap();
        assert_eq!(scan.rows, 1234);
        assert_eq!(scan.content_hash, whole.content_hash);
        let archive = build(&page, Source::products(), &scan, 60).unwrap();
        assert_eq!(archive.snapshot_id, whole.snapshot_id);
        assert_eq!(
            std::fs::read(archive.path()).unwrap(),
            archive::encode(&whole.records),
            "the archive object is byte for byte the one of the whole page"
        );
        let batches: Vec<Vec<Record>> = archive.batches().unwrap().map(Result::unwrap).collect();
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [500, 500, 234]
        );
        assert_eq!(batches.concat(), whole.records);
    }

    #[test]
    fn batches_respect_the_bytes_of_a_call() {
        let records: Vec<Record> = (0..12)
            .map(|i| Record {
                partition_key: format!("k{i}"),
                data: format!("{{\"x\":\"{}\"}}", "y".repeat(900 * 1024)).into_bytes(),
            })
            .collect();
        let bytes = archive::encode(&records);
        let batches = Batches {
            records: Decoder::new(&bytes[..]),
            next: None,
        };
        let sizes: Vec<usize> = batches.map(|b| b.unwrap().len()).collect();
        assert_eq!(sizes, [5, 5, 2], "six of these exceed 5 MiB");
    }

    #[test]
    fn a_page_that_is_not_a_table_of_the_source_fails_the_scan() {
        let page = PageFile::from_text("<table><tr><th>Item</th></tr></table>").unwrap();
        let error = scan(&page, Source::products()).unwrap_err();
        assert!(error.contains("lacks column(s) category"), "{error}");
        let error = PageFile::fetch("/nonexistent/page.html", Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(
            error.starts_with("cannot read /nonexistent/page.html"),
            "{error}"
        );
    }
}
