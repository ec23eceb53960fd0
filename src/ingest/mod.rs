//! The ingestor, shared by the Lambda and `pricewatch ingest`: fetch each
//! vendor page, parse its table, and when its content changed push the whole
//! table to the source's Kinesis stream as one snapshot. The page hash is
//! kept in S3 and only advanced once every record was accepted, so a failed
//! run is retried by the next one.

pub mod delivery;
pub mod emf;
pub mod fixtures;
pub mod html;
pub mod records;

use std::time::Duration;

use serde::Serialize;

pub use delivery::{Delivery, RetryPolicy};
pub use records::Source;

use crate::cloud::{ObjectStore, RecordSink};

/// Where one run reads and writes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sources: Vec<SourcePlan>,
    /// Bucket and key prefix of the page hashes.
    pub state_bucket: String,
    pub state_prefix: String,
    pub retry: RetryPolicy,
}

#[derive(Debug, Clone)]
pub struct SourcePlan {
    pub source: Source,
    /// URL or file path of the page.
    pub location: String,
    /// Stream name or ARN.
    pub stream: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new snapshot was pushed, every record accepted.
    Pushed,
    /// The page did not change since the last pushed snapshot.
    Unchanged,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source: &'static str,
    pub location: String,
    pub outcome: Outcome,
    pub rows: usize,
    pub records_pushed: usize,
    pub failed_records: usize,
    pub snapshot_id: Option<String>,
    pub error: Option<String>,
}

impl SourceReport {
    fn failed(plan: &SourcePlan, error: String) -> SourceReport {
        SourceReport {
            source: plan.source.name(),
            location: plan.location.clone(),
            outcome: Outcome::Failed,
            rows: 0,
            records_pushed: 0,
            failed_records: 0,
            snapshot_id: None,
            error: Some(error),
        }
    }
}

/// Fetches a page: http(s) URLs over the network, anything else from disk.
pub fn fetch(location: &str) -> Result<String, String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut response = agent
            .get(location)
            .call()
            .map_err(|e| format!("GET {location}: {e}"))?;
        response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("reading {location}: {e}"))
    } else {
        let path = location.strip_prefix("file://").unwrap_or(location);
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
    }
}

fn state_key(prefix: &str, source: Source) -> String {
    let prefix = prefix.trim_end_matches('/');
    format!("{prefix}/{}.sha256", source.name())
}

/// Ingests one fetched page (or the error fetching it).
pub async fn ingest_page(
    plan: &Plan,
    source: &SourcePlan,
    page: Result<String, String>,
    fetched_at: u64,
    sink: &impl RecordSink,
    state: &impl ObjectStore,
) -> SourceReport {
    let fail = |error: String| SourceReport::failed(source, error);
    let page = match page {
        Ok(page) => page,
        Err(e) => return fail(e),
    };
    let table = match html::parse_table(&page) {
        Ok(table) => table,
        Err(e) => {
            return fail(format!(
                "{} page {}: {e}",
                source.source.name(),
                source.location
            ))
        }
    };
    let snapshot = match records::snapshot(source.source, &table, fetched_at) {
        Ok(snapshot) => snapshot,
        Err(e) => return fail(e.to_string()),
    };
    let key = state_key(&plan.state_prefix, source.source);
    let last = match state.get(&plan.state_bucket, &key).await {
        Ok(last) => last.map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string()),
        Err(e) => return fail(format!("cannot read the last page hash: {e}")),
    };
    let mut report = SourceReport {
        source: source.source.name(),
        location: source.location.clone(),
        outcome: Outcome::Unchanged,
        rows: table.rows.len(),
        records_pushed: 0,
        failed_records: 0,
        snapshot_id: None,
        error: None,
    };
    if last.as_deref() == Some(snapshot.content_hash.as_str()) {
        return report;
    }
    let delivery = delivery::deliver(sink, &source.stream, &snapshot.records, plan.retry).await;
    report.records_pushed = delivery.accepted;
    report.failed_records = delivery.failed;
    report.snapshot_id = Some(snapshot.snapshot_id.clone());
    if !delivery.complete() {
        report.outcome = Outcome::Failed;
        report.error = Some(format!(
            "{} of {} records were not accepted by {} ({}); the page hash was not advanced, so the next run sends the snapshot again",
            delivery.failed,
            snapshot.records.len(),
            source.stream,
            delivery.last_error.unwrap_or_default()
        ));
        return report;
    }
    if let Err(e) = state
        .put(
            &plan.state_bucket,
            &key,
            snapshot.content_hash.into_bytes(),
            "text/plain",
        )
        .await
    {
        report.outcome = Outcome::Failed;
        report.error = Some(format!(
            "every record was accepted but the page hash could not be saved ({e}); the next run sends this snapshot again"
        ));
        return report;
    }
    report.outcome = Outcome::Pushed;
    report
}

/// Fetches and ingests every source of the plan.
pub async fn run(
    plan: &Plan,
    fetched_at: u64,
    sink: &impl RecordSink,
    state: &impl ObjectStore,
) -> Vec<SourceReport> {
    let mut reports = Vec::new();
    for source in &plan.sources {
        let location = source.location.clone();
        let page = tokio::task::spawn_blocking(move || fetch(&location))
            .await
            .unwrap_or_else(|e| Err(format!("fetch task failed: {e}")));
        reports.push(ingest_page(plan, source, page, fetched_at, sink, state).await);
    }
    reports
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
