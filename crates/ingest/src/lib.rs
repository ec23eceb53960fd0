//! The ingestor, shared by the Lambda and `pricewatch ingest`: fetch each
//! vendor page, parse its table, and when its content changed archive the
//! whole table in S3 and push it to the source's Kinesis stream as one
//! snapshot. The page hash is kept in S3 and only advanced once the archive
//! object was written and every record was accepted, so a failed run is
//! retried by the next one. One run per source at a time (a lease in S3),
//! and nothing is sent past the run's deadline. Every run, changed page or
//! not, ends with a heartbeat record on the stream, so the warehouse knows
//! ingest is alive.

mod archive;
pub(crate) mod delivery;
pub mod emf;
pub(crate) mod heartbeat;
pub mod lease;
pub(crate) mod page;

use std::time::{Duration, Instant};

use serde::Serialize;

pub use delivery::{Delivery, RetryPolicy};
pub use page::PageFile;
pub use pricewatch_core::ingest::records::Source;

use pricewatch_core::cloud::{ConditionalObjects, FileObjects, RecordSink};

/// Where one run reads and writes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sources: Vec<SourcePlan>,
    /// Bucket and key prefix of the page hashes.
    pub state_bucket: String,
    pub state_prefix: String,
    /// Bucket of the snapshot archive (see `archive`).
    pub archive_bucket: String,
    pub retry: RetryPolicy,
    /// The longest one AWS call may take, retries included (the clients'
    /// operation timeout): the lease must outlast the writes after the
    /// deadline.
    pub call_limit: Duration,
    /// Who runs this ingest, as the source leases name it.
    pub holder: String,
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
pub enum IngestOutcome {
    /// A new snapshot was pushed, every record accepted.
    Pushed,
    /// The page did not change since the last pushed snapshot.
    Unchanged,
    /// Another run holds the source's lease and handles the page; this one
    /// sent nothing but its heartbeat. Not a failure: the scheduled Lambda
    /// and an on-call `pricewatch ingest` overlap by design.
    Busy,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source: &'static str,
    pub location: String,
    pub outcome: IngestOutcome,
    pub rows: usize,
    pub records_pushed: usize,
    pub failed_records: usize,
    /// Cells cut to the warehouse's cell limit (see `limits`).
    pub cells_truncated: usize,
    /// Rows sent without their cells because their record was too large.
    pub records_oversize: usize,
    /// sha256 of the page's table (None when it could not be read).
    pub(crate) page_hash: Option<String>,
    pub snapshot_id: Option<String>,
    /// The snapshot's archive object, once written.
    pub archive_key: Option<String>,
    /// Whether the run's heartbeat reached the stream.
    pub heartbeat: bool,
    /// Why the run failed, or (busy) which run holds the lease.
    pub error: Option<String>,
    /// Rows of the source's last pushed snapshot, when known.
    pub(crate) previous_rows: Option<usize>,
    /// A pushed page that looks wrong without being invalid: an empty
    /// table, or far fewer rows than the last snapshot (metric PageWarnings).
    pub warnings: Vec<String>,
}

impl SourceReport {
    fn failed(plan: &SourcePlan, error: String) -> SourceReport {
        SourceReport::nothing_sent(plan, IngestOutcome::Failed, error)
    }

    /// A run that sent no page record, with why.
    fn nothing_sent(plan: &SourcePlan, outcome: IngestOutcome, error: String) -> SourceReport {
        SourceReport {
            source: plan.source.name(),
            location: plan.location.clone(),
            outcome,
            rows: 0,
            records_pushed: 0,
            failed_records: 0,
            cells_truncated: 0,
            records_oversize: 0,
            page_hash: None,
            snapshot_id: None,
            archive_key: None,
            heartbeat: false,
            error: Some(error),
            previous_rows: None,
            warnings: Vec::new(),
        }
    }
}

/// A page with fewer than this share of the last snapshot's rows is
/// pushed, with a warning: a vendor can shrink a page, but a half-empty
/// page is more often a broken one.
const SHRINK_WARNING: f64 = 0.5;

/// Warnings about a changed page's row count.
fn row_warnings(rows: usize, previous: Option<usize>) -> Vec<String> {
    match previous {
        _ if rows == 0 => vec!["the table has a header but no rows".to_string()],
        Some(previous) if (rows as f64) < previous as f64 * SHRINK_WARNING => vec![format!(
            "the table has {rows} rows, down from {previous} in the last snapshot"
        )],
        _ => Vec::new(),
    }
}

/// The heartbeat waits at most this long for the stream, so a throttled
/// stream cannot push a run past its Lambda timeout twice over.
const HEARTBEAT_DEADLINE: Duration = Duration::from_secs(5);

/// How long a lease taken now must last: until the run's deadline, plus
/// what may still run after it — the page hash and row count writes and
/// the lease's own release (one call each), and the heartbeat — plus a
/// minute for clocks that disagree (the expiry is judged by the clock of
/// the run that finds the lease). Only then may anyone take it over.
fn lease_duration(plan: &Plan) -> Duration {
    plan.retry
        .deadline
        .saturating_duration_since(Instant::now())
        + plan.call_limit * 3
        + HEARTBEAT_DEADLINE
        + Duration::from_secs(60)
}

fn state_key(prefix: &str, source: Source) -> String {
    let prefix = prefix.trim_end_matches('/');
    format!("{prefix}/{}.sha256", source.name())
}

/// The row count of the source's last pushed snapshot, next to its hash.
fn rows_key(prefix: &str, source: Source) -> String {
    let prefix = prefix.trim_end_matches('/');
    format!("{prefix}/{}.rows", source.name())
}

/// Ingests one fetched page (or the error fetching it) under the source's
/// lease, then sends the run's heartbeat. A heartbeat the stream did not
/// take fails the run: the warehouse would not see it, and its freshness
/// check pages on exactly that.
pub(crate) async fn ingest_page(
    plan: &Plan,
    source: &SourcePlan,
    page: Result<PageFile, String>,
    fetched_at: u64,
    sink: &impl RecordSink,
    state: &(impl ConditionalObjects + FileObjects),
) -> SourceReport {
    let mut report = under_lease(plan, source, page, fetched_at, sink, state).await;
    let record = heartbeat::record(&heartbeat::Run {
        source: source.source,
        fetched_at,
        outcome: report.outcome,
        page_hash: report.page_hash.as_deref(),
        snapshot_id: report.snapshot_id.as_deref(),
        page_rows: report.rows,
        records_pushed: report.records_pushed,
        error: report.error.as_deref(),
    });
    // The heartbeat still goes when the run's deadline has passed (the
    // Lambda keeps a margin for it), but never waits long.
    let retry = RetryPolicy {
        deadline: Instant::now() + HEARTBEAT_DEADLINE,
        ..plan.retry
    };
    let delivery = delivery::deliver(sink, &source.stream, &[record], retry).await;
    report.heartbeat = delivery.complete();
    if !report.heartbeat {
        let why = format!(
            "the run's heartbeat was not accepted by {} ({}), so the warehouse does not see this run",
            source.stream,
            delivery.last_error.unwrap_or_default()
        );
        report.error = Some(match report.error.take() {
            Some(error) => format!("{error}; {why}"),
            None if report.outcome == IngestOutcome::Pushed => {
                format!("{why}; the snapshot itself was delivered")
            }
            None => format!("{why}; the page had not changed"),
        });
        report.outcome = IngestOutcome::Failed;
    }
    report
}

/// Ingests one page holding the source's lease: two runs never push the
/// same page at once.
async fn under_lease(
    plan: &Plan,
    source: &SourcePlan,
    page: Result<PageFile, String>,
    fetched_at: u64,
    sink: &impl RecordSink,
    state: &(impl ConditionalObjects + FileObjects),
) -> SourceReport {
    let lease_for = lease_duration(plan);
    let held = match lease::acquire(
        state,
        &plan.state_bucket,
        &plan.state_prefix,
        source.source,
        &plan.holder,
        pricewatch_core::time::now_unix(),
        lease_for.as_secs(),
    )
    .await
    {
        Ok(held) => held,
        Err(e @ lease::LeaseError::Busy { .. }) => {
            return SourceReport::nothing_sent(source, IngestOutcome::Busy, e.to_string())
        }
        Err(e) => return SourceReport::failed(source, e.to_string()),
    };
    let mut report = ingest_snapshot(plan, source, page, fetched_at, sink, state).await;
    if let Some(previous) = &held.took_over {
        report.warnings.push(format!(
            "took over the expired ingest lease of {} (a run that did not finish)",
            previous.holder
        ));
    }
    if let Err(e) = held.release(state, &plan.state_bucket).await {
        report.warnings.push(format!(
            "the ingest lease could not be released ({e}); it expires by itself"
        ));
    }
    report
}

/// Ingests one fetched page: archives and pushes a changed page's snapshot.
/// `state` holds the page hashes, the leases and the archive.
async fn ingest_snapshot(
    plan: &Plan,
    source: &SourcePlan,
    page: Result<PageFile, String>,
    fetched_at: u64,
    sink: &impl RecordSink,
    state: &(impl ConditionalObjects + FileObjects),
) -> SourceReport {
    let fail = |error: String| SourceReport::failed(source, error);
    let page = match page {
        Ok(page) => page,
        Err(e) => return fail(e),
    };
    // The first pass over the page: header, rows, hash (see `page`).
    let scan = match page::scan(&page, source.source) {
        Ok(scan) => scan,
        Err(e) => {
            return fail(format!(
                "{} page {}: {e}",
                source.source.name(),
                source.location
            ))
        }
    };
    let key = state_key(&plan.state_prefix, source.source);
    let last = match state.get(&plan.state_bucket, &key).await {
        Ok(last) => last.map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string()),
        Err(e) => return fail(format!("cannot read the last page hash: {e}")),
    };
    let mut report = SourceReport {
        source: source.source.name(),
        location: source.location.clone(),
        outcome: IngestOutcome::Unchanged,
        rows: scan.rows,
        records_pushed: 0,
        failed_records: 0,
        cells_truncated: 0,
        records_oversize: 0,
        page_hash: Some(scan.content_hash.clone()),
        snapshot_id: None,
        archive_key: None,
        heartbeat: false,
        error: None,
        previous_rows: None,
        warnings: Vec::new(),
    };
    if last.as_deref() == Some(scan.content_hash.as_str()) {
        return report;
    }
    // Best effort: a missing or unreadable count only skips the comparison.
    report.previous_rows = match state
        .get(
            &plan.state_bucket,
            &rows_key(&plan.state_prefix, source.source),
        )
        .await
    {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).trim().parse().ok(),
        _ => None,
    };
    report.warnings = row_warnings(report.rows, report.previous_rows);
    // The second pass: the records, into the archive object's file.
    let built = match page::build(&page, source.source, &scan, fetched_at) {
        Ok(built) => built,
        Err(e) => {
            report.outcome = IngestOutcome::Failed;
            report.error = Some(format!(
                "{} page {}: {e}",
                source.source.name(),
                source.location
            ));
            return report;
        }
    };
    drop(page);
    report.snapshot_id = Some(built.snapshot_id.clone());
    report.cells_truncated = built.cells_truncated;
    report.records_oversize = built.records_oversize;
    // A page that took the whole run to fetch and read is neither archived
    // nor sent: nothing could reach the stream, and an archive object for a
    // snapshot the stream never had would come back with the next backfill
    // next to the snapshot the next run sends.
    if Instant::now() >= plan.retry.deadline {
        report.outcome = IngestOutcome::Failed;
        report.error = Some(format!(
            "the run's deadline passed while reading the {} page, before anything was archived or sent; the page hash was not advanced, so the next run tries again",
            source.source.name()
        ));
        return report;
    }
    // Archive first: whatever reached the stream is then in the archive too,
    // so a warehouse rebuilt from it misses nothing the stream had.
    match archive::write(state, &plan.archive_bucket, source.source, &built).await {
        Ok(key) => report.archive_key = Some(key),
        Err(e) => {
            report.outcome = IngestOutcome::Failed;
            report.error = Some(format!(
                "cannot archive the snapshot in s3://{}/{} ({e}); nothing was sent to {} and the page hash was not advanced, so the next run tries again",
                plan.archive_bucket,
                pricewatch_core::ingest::archive::key(source.source, &built.snapshot_id),
                source.stream
            ));
            return report;
        }
    }
    let delivery = send(sink, &source.stream, &built, plan.retry).await;
    report.records_pushed = delivery.accepted;
    report.failed_records = delivery.failed;
    if !delivery.complete() {
        report.outcome = IngestOutcome::Failed;
        report.error = Some(format!(
            "{} of {} records were not accepted by {} ({}); the page hash was not advanced, so the next run sends the snapshot again",
            delivery.failed,
            built.records,
            source.stream,
            delivery.last_error.unwrap_or_default()
        ));
        return report;
    }
    if let Err(e) = state
        .put(
            &plan.state_bucket,
            &key,
            scan.content_hash.into_bytes(),
            "text/plain",
        )
        .await
    {
        report.outcome = IngestOutcome::Failed;
        report.error = Some(format!(
            "every record was accepted but the page hash could not be saved ({e}); the next run sends this snapshot again"
        ));
        return report;
    }
    if let Err(e) = state
        .put(
            &plan.state_bucket,
            &rows_key(&plan.state_prefix, source.source),
            report.rows.to_string().into_bytes(),
            "text/plain",
        )
        .await
    {
        report.warnings.push(format!(
            "the row count could not be saved ({e}); the next snapshot is not compared with this one"
        ));
    }
    report.outcome = IngestOutcome::Pushed;
    report
}

/// Sends the archived records a batch at a time as they are read back:
/// one PutRecords call in flight (with its retries), so memory holds one
/// batch (at most 500 records, 5 MiB) whatever the snapshot's size. Every
/// record not accepted, for whatever reason, counts as failed.
async fn send(
    sink: &impl RecordSink,
    stream: &str,
    built: &page::Archive,
    retry: RetryPolicy,
) -> Delivery {
    let mut delivery = Delivery::default();
    match built.batches() {
        Ok(batches) => {
            for batch in batches {
                match batch {
                    Ok(batch) => delivery.add(delivery::deliver(sink, stream, &batch, retry).await),
                    Err(e) => {
                        delivery.last_error = Some(e);
                        break;
                    }
                }
            }
        }
        Err(e) => delivery.last_error = Some(e),
    }
    delivery.failed = built.records - delivery.accepted;
    delivery
}

/// What `pricewatch ingest --dry-run` reports for a source: everything
/// but sending, the lease and the state.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub source: &'static str,
    pub location: String,
    pub rows: usize,
    /// PutRecords calls the snapshot would take (before retries).
    pub batches: usize,
    pub(crate) page_hash: Option<String>,
    pub snapshot_id: Option<String>,
    /// Size of the snapshot's archive object.
    pub archive_bytes: u64,
    pub cells_truncated: usize,
    pub records_oversize: usize,
    pub error: Option<String>,
}

/// Fetches, reads, archives to a temporary file and batches one source's
/// page as a run would, and sends and stores nothing: for on-call (what
/// would this page become?) and for measuring a page of any size without
/// AWS. Blocking.
pub fn dry_run(source: &SourcePlan, fetched_at: u64, timeout: Duration) -> DryRun {
    let mut report = DryRun {
        source: source.source.name(),
        location: source.location.clone(),
        rows: 0,
        batches: 0,
        page_hash: None,
        snapshot_id: None,
        archive_bytes: 0,
        cells_truncated: 0,
        records_oversize: 0,
        error: None,
    };
    let result = (|| {
        let page = PageFile::fetch(&source.location, timeout)?;
        let scan = page::scan(&page, source.source)?;
        report.rows = scan.rows;
        report.page_hash = Some(scan.content_hash.clone());
        let built = page::build(&page, source.source, &scan, fetched_at)?;
        report.snapshot_id = Some(built.snapshot_id.clone());
        report.archive_bytes = built.bytes;
        report.cells_truncated = built.cells_truncated;
        report.records_oversize = built.records_oversize;
        for batch in built.batches()? {
            batch?;
            report.batches += 1;
        }
        Ok::<(), String>(())
    })();
    report.error = result
        .err()
        .map(|e| format!("{} page {}: {e}", source.source.name(), source.location));
    report
}

/// Fetches and ingests every source of the plan.
pub async fn run(
    plan: &Plan,
    fetched_at: u64,
    sink: &impl RecordSink,
    state: &(impl ConditionalObjects + FileObjects),
) -> Vec<SourceReport> {
    let mut reports = Vec::new();
    for source in &plan.sources {
        let location = source.location.clone();
        let timeout = plan
            .retry
            .deadline
            .saturating_duration_since(Instant::now());
        let page = tokio::task::spawn_blocking(move || PageFile::fetch(&location, timeout))
            .await
            .unwrap_or_else(|e| Err(format!("fetch task failed: {e}")));
        reports.push(ingest_page(plan, source, page, fetched_at, sink, state).await);
    }
    reports
}

/// Runs a future to completion in unit tests.
#[cfg(test)]
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime starts")
        .block_on(future)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use pricewatch_core::cloud::{AwsError, AwsErrorKind, AwsResult, ObjectStore};
    use pricewatch_core::ingest::archive;
    use pricewatch_core::ingest::fixtures::{product_page, PageSpec};

    use crate::lease::tests::Bucket;

    /// Accepts records, except those `reject` picks (throttled); keeps the
    /// payloads it accepted.
    struct Stream {
        reject: fn(&serde_json::Value) -> bool,
        accepted: Mutex<Vec<serde_json::Value>>,
    }

    impl Stream {
        fn new(reject: fn(&serde_json::Value) -> bool) -> Stream {
            Stream {
                reject,
                accepted: Mutex::new(Vec::new()),
            }
        }

        /// Accepted (rows, heartbeats' outcomes).
        fn accepted(&self) -> (usize, Vec<String>) {
            let accepted = self.accepted.lock().unwrap();
            let heartbeats: Vec<String> = accepted
                .iter()
                .filter(|p| p["record_type"] == "heartbeat")
                .map(|p| p["outcome"].as_str().unwrap().to_string())
                .collect();
            (accepted.len() - heartbeats.len(), heartbeats)
        }
    }

    /// A page given as text, as a fetch leaves it.
    fn text(page: &str) -> Result<PageFile, String> {
        PageFile::from_text(page)
    }

    /// One run of `page`, fetched at time 0.
    fn ingest(
        plan: &Plan,
        source: &SourcePlan,
        page: &str,
        stream: &Stream,
        bucket: &Bucket,
    ) -> SourceReport {
        block_on(ingest_page(plan, source, text(page), 0, stream, bucket))
    }

    fn everything(_: &serde_json::Value) -> bool {
        true
    }

    fn nothing(_: &serde_json::Value) -> bool {
        false
    }

    fn heartbeats(payload: &serde_json::Value) -> bool {
        payload["record_type"] == "heartbeat"
    }

    impl RecordSink for Stream {
        async fn put_records(
            &self,
            _: &str,
            records: &[(&str, &[u8])],
        ) -> AwsResult<Vec<Option<String>>> {
            Ok(records
                .iter()
                .map(|(_, data)| {
                    let payload: serde_json::Value = serde_json::from_slice(data).unwrap();
                    if (self.reject)(&payload) {
                        return Some("ProvisionedThroughputExceededException".into());
                    }
                    self.accepted.lock().unwrap().push(payload);
                    None
                })
                .collect())
        }
    }

    fn test_plan() -> (Plan, SourcePlan) {
        let source = SourcePlan {
            source: Source::products(),
            location: "page".into(),
            stream: "s".into(),
        };
        let plan = Plan {
            sources: vec![source.clone()],
            state_bucket: "b".into(),
            state_prefix: "state/ingest/".into(),
            archive_bucket: "archive-bucket".into(),
            retry: RetryPolicy {
                first_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(1),
                // Long enough for a page's two passes on a loaded machine
                // before delivery starts; short for the runs meant to fail.
                deadline: Instant::now() + Duration::from_millis(500),
            },
            call_limit: Duration::from_secs(1),
            holder: "test".into(),
        };
        (plan, source)
    }

    fn stored(bucket: &Bucket, key: &str) -> Option<String> {
        bucket
            .objects
            .lock()
            .unwrap()
            .get(key)
            .map(|(body, _)| String::from_utf8_lossy(body).to_string())
    }

    #[test]
    fn a_lease_outlasts_every_write_after_the_deadline() {
        let (mut plan, _) = test_plan();
        plan.retry.deadline = Instant::now() + Duration::from_secs(100);
        plan.call_limit = Duration::from_secs(60);
        let lease = lease_duration(&plan).as_secs();
        // 100 s of run, three 60 s calls, the 5 s heartbeat, a minute of
        // clock difference (a second may pass while computing it).
        assert!((344..=345).contains(&lease), "{lease}");
    }

    #[test]
    fn a_page_read_past_the_deadline_is_neither_archived_nor_sent() {
        let (mut plan, source) = test_plan();
        plan.retry.deadline = Instant::now();
        let page = product_page(&PageSpec {
            rows: 5,
            ..PageSpec::default()
        });
        let bucket = Bucket::default();
        let stream = Stream::new(nothing);
        let report = ingest(&plan, &source, &page, &stream, &bucket);
        assert_eq!(report.outcome, IngestOutcome::Failed);
        assert!(
            report.error.as_deref().unwrap().contains("deadline passed"),
            "{report:?}"
        );
        assert_eq!(report.archive_key, None);
        assert!(
            bucket.objects.lock().unwrap().is_empty(),
            "no archive object, no hash, the lease released"
        );
        assert_eq!(stream.accepted(), (0, vec!["failed".to_string()]));
    }

    #[test]
    fn the_page_hash_advances_only_after_every_record_was_accepted() {
        let (plan, source) = test_plan();
        let page = product_page(&PageSpec {
            rows: 50,
            ..PageSpec::default()
        });
        let bucket = Bucket::default();
        let failing = Stream::new(everything);
        let report = ingest(&plan, &source, &page, &failing, &bucket);
        assert_eq!(report.outcome, IngestOutcome::Failed);
        assert_eq!((report.records_pushed, report.failed_records), (0, 50));
        let error = report.error.as_deref().unwrap();
        assert!(
            error.contains("50 of 50 records were not accepted"),
            "{error}"
        );
        assert!(error.contains("heartbeat was not accepted"), "{error}");
        assert!(!report.heartbeat);
        assert!(
            bucket
                .objects
                .lock()
                .unwrap()
                .keys()
                .all(|k| k.starts_with("archive/")),
            "only the archive object is left: the hash was not advanced, the lease released"
        );

        let working = Stream::new(nothing);
        let (plan, _) = test_plan();
        let report = ingest(&plan, &source, &page, &working, &bucket);
        assert_eq!(report.outcome, IngestOutcome::Pushed);
        assert!(report.heartbeat);
        assert_eq!(working.accepted(), (50, vec!["pushed".to_string()]));
        assert!(stored(&bucket, "state/ingest/products.sha256").is_some());
        assert_eq!(
            stored(&bucket, "state/ingest/products.rows").as_deref(),
            Some("50")
        );
        assert_eq!(
            stored(&bucket, "state/ingest/products.lease"),
            None,
            "released"
        );
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);

        let (plan, _) = test_plan();
        let report = block_on(ingest_page(
            &plan,
            &source,
            text(&page),
            60,
            &working,
            &bucket,
        ));
        assert_eq!(report.outcome, IngestOutcome::Unchanged);
        assert_eq!(
            working.accepted(),
            (50, vec!["pushed".to_string(), "unchanged".to_string()]),
            "an unchanged page sends only its heartbeat"
        );
        let last = working.accepted.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last["fetched_at"], "1970-01-01T00:01:00Z");
        assert_eq!(last["page_hash"].as_str(), report.page_hash.as_deref());
        assert_eq!(last["page_rows"], "50");
    }

    /// The archive keys in the fake bucket.
    fn archive_keys(bucket: &Bucket) -> Vec<String> {
        bucket
            .objects
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("archive/"))
            .cloned()
            .collect()
    }

    #[test]
    fn every_snapshot_sent_is_archived_first_and_an_unchanged_page_archives_nothing() {
        let (plan, source) = test_plan();
        let page = |variant| {
            product_page(&PageSpec {
                rows: 30,
                variant,
                ..PageSpec::default()
            })
        };
        let bucket = Bucket::default();
        let stream = Stream::new(nothing);
        let first = crate::block_on(ingest_page(
            &plan,
            &source,
            text(&page(0)),
            0,
            &stream,
            &bucket,
        ));
        assert_eq!(first.outcome, IngestOutcome::Pushed);
        let key = first.archive_key.clone().unwrap();
        assert_eq!(
            key,
            archive::key(Source::products(), first.snapshot_id.as_deref().unwrap())
        );
        let object = bucket.objects.lock().unwrap()[&key].0.clone();
        let sent: Vec<serde_json::Value> = stream.accepted.lock().unwrap()[..30].to_vec();
        let archived: Vec<serde_json::Value> = archive::decode(&object)
            .unwrap()
            .iter()
            .map(|r| serde_json::from_slice(&r.data).unwrap())
            .collect();
        assert_eq!(archived, sent, "the archive holds exactly the records sent");

        let unchanged = crate::block_on(ingest_page(
            &plan,
            &source,
            text(&page(0)),
            60,
            &stream,
            &bucket,
        ));
        assert_eq!(unchanged.outcome, IngestOutcome::Unchanged);
        assert_eq!(unchanged.archive_key, None);
        assert_eq!(archive_keys(&bucket), vec![key.clone()]);

        let second = crate::block_on(ingest_page(
            &plan,
            &source,
            text(&page(1)),
            120,
            &stream,
            &bucket,
        ));
        assert_eq!(second.outcome, IngestOutcome::Pushed);
        assert_eq!(
            archive_keys(&bucket).len(),
            2,
            "one object per snapshot sent"
        );
    }

    /// Accepts everything except writes under `archive/`, which fail as S3
    /// would with a missing permission.
    #[derive(Default)]
    struct NoArchive(Bucket);

    impl ObjectStore for NoArchive {
        async fn exists(&self, bucket: &str, key: &str) -> AwsResult<bool> {
            self.0.exists(bucket, key).await
        }
        async fn get(&self, bucket: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
            self.0.get(bucket, key).await
        }
        async fn put(&self, bucket: &str, key: &str, body: Vec<u8>, kind: &str) -> AwsResult<()> {
            if key.starts_with("archive/") {
                return Err(AwsError::new(
                    "s3:PutObject",
                    AwsErrorKind::AccessDenied,
                    "Access Denied",
                ));
            }
            self.0.put(bucket, key, body, kind).await
        }
        async fn empty(&self, bucket: &str) -> AwsResult<usize> {
            self.0.empty(bucket).await
        }
    }

    impl FileObjects for NoArchive {
        async fn put_file(
            &self,
            bucket: &str,
            key: &str,
            path: &std::path::Path,
            kind: &str,
        ) -> AwsResult<()> {
            self.put(bucket, key, std::fs::read(path).unwrap(), kind)
                .await
        }
    }

    impl ConditionalObjects for NoArchive {
        async fn get_tagged(
            &self,
            bucket: &str,
            key: &str,
        ) -> AwsResult<Option<(Vec<u8>, String)>> {
            self.0.get_tagged(bucket, key).await
        }
        async fn put_if(
            &self,
            bucket: &str,
            key: &str,
            body: Vec<u8>,
            expected: Option<&str>,
        ) -> AwsResult<Option<String>> {
            self.0.put_if(bucket, key, body, expected).await
        }
        async fn delete_if(&self, bucket: &str, key: &str, etag: &str) -> AwsResult<bool> {
            self.0.delete_if(bucket, key, etag).await
        }
    }

    #[test]
    fn a_failed_archive_write_sends_nothing_keeps_the_page_hash_and_fails_the_run() {
        let (plan, source) = test_plan();
        let page = product_page(&PageSpec {
            rows: 10,
            ..PageSpec::default()
        });
        let store = NoArchive::default();
        let stream = Stream::new(nothing);
        let report = crate::block_on(ingest_page(&plan, &source, text(&page), 0, &stream, &store));
        assert_eq!(report.outcome, IngestOutcome::Failed);
        assert_eq!(report.records_pushed, 0);
        assert_eq!(report.archive_key, None);
        let error = report.error.clone().unwrap();
        assert!(
            error.starts_with(
                "cannot archive the snapshot in s3://archive-bucket/archive/products/1970/01/01/"
            ) && error.contains("Access Denied")
                && error.contains("the page hash was not advanced"),
            "{error}"
        );
        assert!(
            store.0.objects.lock().unwrap().is_empty(),
            "no page hash, no object"
        );
        assert_eq!(
            stream.accepted(),
            (0, vec!["failed".to_string()]),
            "no row reached the stream; the heartbeat says the run failed"
        );

        // Once the archive works again, the next run sends the snapshot.
        let bucket = Bucket::default();
        let report = crate::block_on(ingest_page(
            &plan,
            &source,
            text(&page),
            60,
            &stream,
            &bucket,
        ));
        assert_eq!(report.outcome, IngestOutcome::Pushed);
        assert_eq!(stream.accepted().0, 10);
    }

    #[test]
    fn a_heartbeat_the_stream_refuses_fails_the_run() {
        let (plan, source) = test_plan();
        let page = product_page(&PageSpec {
            rows: 5,
            ..PageSpec::default()
        });
        let bucket = Bucket::default();
        let stream = Stream::new(heartbeats);
        let report = ingest(&plan, &source, &page, &stream, &bucket);
        assert_eq!(report.outcome, IngestOutcome::Failed);
        assert_eq!(report.records_pushed, 5, "the snapshot went through");
        assert!(!report.heartbeat);
        let error = report.error.unwrap();
        assert!(
            error.contains("heartbeat was not accepted by s")
                && error.ends_with("the snapshot itself was delivered"),
            "{error}"
        );
        assert_eq!(stream.accepted(), (5, vec![]));
    }

    #[test]
    fn a_state_read_failure_sends_only_a_failed_heartbeat() {
        struct Broken;
        impl ObjectStore for Broken {
            async fn exists(&self, _: &str, _: &str) -> AwsResult<bool> {
                unreachable!()
            }
            async fn get(&self, _: &str, _: &str) -> AwsResult<Option<Vec<u8>>> {
                Err(AwsError::new(
                    "s3:GetObject",
                    AwsErrorKind::AccessDenied,
                    "denied",
                ))
            }
            async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: &str) -> AwsResult<()> {
                unreachable!()
            }
            async fn empty(&self, _: &str) -> AwsResult<usize> {
                unreachable!()
            }
        }
        impl FileObjects for Broken {
            async fn put_file(
                &self,
                _: &str,
                _: &str,
                _: &std::path::Path,
                _: &str,
            ) -> AwsResult<()> {
                unreachable!()
            }
        }
        impl ConditionalObjects for Broken {
            async fn get_tagged(&self, _: &str, _: &str) -> AwsResult<Option<(Vec<u8>, String)>> {
                unreachable!()
            }
            async fn put_if(
                &self,
                _: &str,
                _: &str,
                _: Vec<u8>,
                _: Option<&str>,
            ) -> AwsResult<Option<String>> {
                Ok(Some("1".into()))
            }
            async fn delete_if(&self, _: &str, _: &str, _: &str) -> AwsResult<bool> {
                Ok(true)
            }
        }
        let (plan, source) = test_plan();
        let stream = Stream::new(nothing);
        let page = product_page(&PageSpec {
            rows: 5,
            ..PageSpec::default()
        });
        let report = block_on(ingest_page(
            &plan,
            &source,
            text(&page),
            0,
            &stream,
            &Broken,
        ));
        assert_eq!(report.outcome, IngestOutcome::Failed);
        assert!(report.heartbeat);
        assert!(report
            .error
            .unwrap()
            .contains("cannot read the last page hash"));
        assert_eq!(stream.accepted(), (0, vec!["failed".to_string()]));
        let heartbeat = stream.accepted.lock().unwrap()[0].clone();
        assert!(heartbeat["error"]
            .as_str()
            .unwrap()
            .contains("cannot read the last page hash"));
    }

    #[test]
    fn a_second_run_of_the_same_page_sends_nothing_while_the_first_holds_the_lease() {
        let (plan, source) = test_plan();
        let page = product_page(&PageSpec {
            rows: 5,
            ..PageSpec::default()
        });
        let bucket = Bucket::default();
        let first = block_on(lease::acquire(
            &bucket,
            "b",
            "state/ingest/",
            Source::products(),
            "the scheduled Lambda",
            pricewatch_core::time::now_unix(),
            300,
        ))
        .unwrap();
        let stream = Stream::new(nothing);
        let report = ingest(&plan, &source, &page, &stream, &bucket);
        assert_eq!(report.outcome, IngestOutcome::Busy);
        let error = report.error.unwrap();
        assert!(
            error.contains("the scheduled Lambda holds its lease")
                && error.contains("sent nothing"),
            "{error}"
        );
        assert_eq!(
            stream.accepted(),
            (0, vec!["busy".to_string()]),
            "only its heartbeat"
        );
        assert_eq!(stored(&bucket, "state/ingest/products.sha256"), None);
        drop(first);
    }

    #[test]
    fn an_empty_or_shrunken_page_is_pushed_with_a_warning() {
        assert_eq!(
            row_warnings(0, Some(10)),
            ["the table has a header but no rows"]
        );
        assert_eq!(
            row_warnings(0, None),
            ["the table has a header but no rows"]
        );
        assert_eq!(
            row_warnings(4, Some(10)),
            ["the table has 4 rows, down from 10 in the last snapshot"]
        );
        assert!(row_warnings(5, Some(10)).is_empty());
        assert!(row_warnings(3, None).is_empty());

        let (plan, source) = test_plan();
        let bucket = Bucket::default();
        let stream = Stream::new(nothing);
        let page = |rows| {
            product_page(&PageSpec {
                rows,
                ..PageSpec::default()
            })
        };
        block_on(ingest_page(
            &plan,
            &source,
            text(&page(40)),
            0,
            &stream,
            &bucket,
        ));
        let (plan, _) = test_plan();
        let report = block_on(ingest_page(
            &plan,
            &source,
            text(&page(8)),
            60,
            &stream,
            &bucket,
        ));
        assert_eq!(report.outcome, IngestOutcome::Pushed);
        assert_eq!(report.previous_rows, Some(40));
        assert_eq!(
            report.warnings,
            ["the table has 8 rows, down from 40 in the last snapshot"]
        );
    }

    #[test]
    fn state_keys() {
        assert_eq!(
            state_key("state/ingest/", Source::vendors()),
            "state/ingest/vendors.sha256"
        );
        assert_eq!(
            state_key("state/ingest", Source::products()),
            "state/ingest/products.sha256"
        );
    }
}
