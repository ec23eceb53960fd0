//! The heartbeat: one small record per source and run, changed page or
//! not, on the source's own stream. The warehouse models them into
//! `silver.ingest_runs`, so "when did ingest last run" is a fact it holds
//! even while the vendor's page stays the same for hours — the page
//! "is updated in random intervals", and an unchanged page sends no rows.

use serde_json::{json, Value};

use super::IngestOutcome;
use pricewatch_core::ingest::records::{clean_cell, Record, Source, RECORD_TYPE_KEY};
use pricewatch_core::time::utc_timestamps;

/// `record_type` of a heartbeat; page rows carry `row`.
pub(crate) const HEARTBEAT: &str = "heartbeat";

/// What one run did for one source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Run<'a> {
    pub source: Source,
    /// When the run fetched the page (unix seconds).
    pub fetched_at: u64,
    pub outcome: IngestOutcome,
    /// sha256 of the page's table; None when it could not be read.
    pub(crate) page_hash: Option<&'a str>,
    /// Set when this run pushed a new snapshot.
    pub snapshot_id: Option<&'a str>,
    pub page_rows: usize,
    pub records_pushed: usize,
    pub error: Option<&'a str>,
}

/// The heartbeat record of a run. Its partition key is its own, so it never
/// shares a shard's ordering with a page row.
pub(crate) fn record(run: &Run) -> Record {
    let (fetched_at, _) = utc_timestamps(run.fetched_at);
    let text = |value: Option<&str>| value.map_or(Value::Null, |v| clean_cell(v).0.into());
    let payload = json!({
        RECORD_TYPE_KEY: HEARTBEAT,
        "source": run.source.name(),
        "fetched_at": fetched_at,
        "outcome": run.outcome,
        "page_hash": text(run.page_hash),
        "snapshot_id": text(run.snapshot_id),
        // Strings, like every value the ingestor sends: SUPER casts only
        // strings to VARCHAR.
        "page_rows": run.page_rows.to_string(),
        "records_pushed": run.records_pushed.to_string(),
        "error": text(run.error),
    });
    Record {
        partition_key: format!("{HEARTBEAT}|{}", run.source.name()),
        data: payload.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricewatch_core::limits::MAX_CELL_CHARS;

    #[test]
    fn a_heartbeat_says_what_the_run_did() {
        let run = Run {
            source: Source::products(),
            fetched_at: 1_795_568_523,
            outcome: IngestOutcome::Unchanged,
            page_hash: Some("ab12"),
            snapshot_id: None,
            page_rows: 1000,
            records_pushed: 0,
            error: None,
        };
        let record = record(&run);
        assert_eq!(record.partition_key, "heartbeat|products");
        let payload: Value = serde_json::from_slice(&record.data).unwrap();
        assert_eq!(payload["record_type"], "heartbeat");
        assert_eq!(payload["source"], "products");
        assert_eq!(payload["fetched_at"], "2026-11-25T01:02:03Z");
        assert_eq!(payload["outcome"], "unchanged");
        assert_eq!(payload["page_hash"], "ab12");
        assert_eq!(payload["snapshot_id"], Value::Null);
        assert_eq!(payload["page_rows"], "1000");
        assert_eq!(payload["records_pushed"], "0");
        assert_eq!(payload["error"], Value::Null);
    }

    #[test]
    fn a_long_error_is_cut_like_a_cell() {
        let error = "x".repeat(MAX_CELL_CHARS * 3);
        let run = Run {
            source: Source::vendors(),
            fetched_at: 0,
            outcome: IngestOutcome::Failed,
            page_hash: None,
            snapshot_id: None,
            page_rows: 0,
            records_pushed: 0,
            error: Some(&error),
        };
        let payload: Value = serde_json::from_slice(&record(&run).data).unwrap();
        assert_eq!(payload["outcome"], "failed");
        assert_eq!(
            payload["error"].as_str().unwrap().chars().count(),
            MAX_CELL_CHARS
        );
        assert_eq!(payload["page_hash"], Value::Null);
    }
}
