//! CloudWatch Embedded Metric Format: one JSON log line per source that
//! CloudWatch turns into the IngestRuns, RecordsPushed, PagesUnchanged,
//! FailedRecords, CellsTruncated, RecordsOversize and PageWarnings (an
//! empty table, a sharp drop in rows) metrics (namespace
//! Pricewatch, dimensions Env and Source) without any PutMetricData call
//! from the Lambda. IngestRuns is the heartbeat as a metric: 1 for a run
//! that handled its page (changed or not) and whose heartbeat reached the
//! stream, 0 for a failed one and for a busy one (another run held the
//! page's lease and handles it; IngestBusy counts those).

use serde_json::json;

use super::{IngestOutcome, SourceReport};

pub use pricewatch_core::config::names::METRICS_NAMESPACE as NAMESPACE;

pub fn line(env: &str, report: &SourceReport, timestamp_ms: u64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Env", "Source"]],
                "Metrics": [
                    {"Name": "IngestRuns", "Unit": "Count"},
                    {"Name": "RecordsPushed", "Unit": "Count"},
                    {"Name": "PagesUnchanged", "Unit": "Count"},
                    {"Name": "FailedRecords", "Unit": "Count"},
                    {"Name": "CellsTruncated", "Unit": "Count"},
                    {"Name": "RecordsOversize", "Unit": "Count"},
                    {"Name": "PageWarnings", "Unit": "Count"},
                    {"Name": "IngestBusy", "Unit": "Count"}
                ]
            }]
        },
        "Env": env,
        "Source": report.source,
        "IngestRuns": u8::from(matches!(
            report.outcome,
            IngestOutcome::Pushed | IngestOutcome::Unchanged
        )),
        "RecordsPushed": report.records_pushed,
        "PagesUnchanged": u8::from(report.outcome == IngestOutcome::Unchanged),
        "FailedRecords": report.failed_records,
        "CellsTruncated": report.cells_truncated,
        "RecordsOversize": report.records_oversize,
        "PageWarnings": report.warnings.len(),
        "IngestBusy": u8::from(report.outcome == IngestOutcome::Busy),
        "Outcome": report.outcome,
        "Warnings": report.warnings,
        "SnapshotId": report.snapshot_id,
        "Error": report.error,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_declares_its_metrics_and_carries_their_values() {
        let report = SourceReport {
            source: "products",
            location: "x".into(),
            outcome: IngestOutcome::Failed,
            rows: 10,
            records_pushed: 7,
            failed_records: 3,
            cells_truncated: 0,
            records_oversize: 0,
            page_hash: None,
            snapshot_id: Some("s".into()),
            archive_key: None,
            heartbeat: true,
            error: Some("e".into()),
            previous_rows: Some(40),
            warnings: vec!["the table has 10 rows, down from 40 in the last snapshot".into()],
        };
        let value: serde_json::Value = serde_json::from_str(&line("dev", &report, 42)).unwrap();
        assert_eq!(
            value["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Pricewatch"
        );
        assert_eq!(value["_aws"]["Timestamp"], 42);
        assert_eq!(value["Env"], "dev");
        assert_eq!(value["Source"], "products");
        assert_eq!(value["RecordsPushed"], 7);
        assert_eq!(value["FailedRecords"], 3);
        assert_eq!(value["PagesUnchanged"], 0);
        assert_eq!(value["PageWarnings"], 1);
        assert_eq!(value["IngestRuns"], 0, "a failed run is no heartbeat");
        let declared: Vec<&str> = value["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in declared {
            assert!(value.get(name).is_some(), "{name} has no value");
        }
        let busy = SourceReport {
            outcome: IngestOutcome::Busy,
            ..report
        };
        let value: serde_json::Value = serde_json::from_str(&line("dev", &busy, 42)).unwrap();
        assert_eq!(value["IngestBusy"], 1);
        assert_eq!(value["IngestRuns"], 0, "the lease holder handles the page");
        assert_eq!(value["Outcome"], "busy");
    }
}
