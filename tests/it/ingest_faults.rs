//! Ingest on a bad day, on the local env: a run killed with SIGKILL in the
//! middle of delivering a 100,000-row page never becomes a snapshot in
//! silver, and the rerun (once the dead run's lease expired) yields exactly
//! one complete one; two runs of one page started together never push it
//! twice; a backfill later completes the cut-off snapshot from the archive.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{self, LocalEnv};
use pricewatch_core::ingest::fixtures::PageSpec;

const STATE: &str = "pricewatch-local-artifacts-123456789012";
const LEASE: &str = "state/ingest/products.lease";
const STREAM: &str = "pricewatch-local-products";

/// A deadline no run here reaches: 100,000 records take a minute or more
/// against moto on a busy 2-core machine (a debug build).
const RETRY_FOR: &str = "600";

fn spawn_ingest(local: &LocalEnv) -> Child {
    let args = local.server.ingest_args();
    let mut all = vec!["--output", "json"];
    all.extend(args.each_ref().map(String::as_str));
    all.extend(["--retry-for", RETRY_FOR]);
    support::pricewatch_command(&support::project_dir(), &local.moto, &all)
        .env("PRICEWATCH_DATABASE_URL", local.pg.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pricewatch ingest")
}

/// Products records in the warehouse's landing table, per snapshot:
/// (snapshot id, records, distinct page rows).
fn landed(local: &LocalEnv) -> Vec<(String, i64, i64)> {
    local
        .pg
        .connect("pricewatch")
        .query(
            "SELECT payload ->> 'snapshot_id', COUNT(*), COUNT(DISTINCT payload ->> 'row_number') \
             FROM pricewatch_meta.kinesis_products \
             WHERE COALESCE(payload ->> 'record_type', 'row') = 'row' \
             GROUP BY 1 ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

fn count(local: &LocalEnv, sql: &str) -> i64 {
    local
        .pg
        .connect("pricewatch")
        .query_one(sql, &[])
        .unwrap()
        .get(0)
}

/// Whether the products stream holds a record yet. moto may answer 500
/// while the run appends to the shard it reads: that counts as not yet.
fn stream_has_a_record(local: &LocalEnv) -> bool {
    let call = |target: &str, body: serde_json::Value| -> Option<serde_json::Value> {
        let (status, answer) = local.moto.json_call_raw(
            "kinesis",
            &format!("Kinesis_20131202.{target}"),
            &body.to_string(),
        );
        (status == 200).then(|| serde_json::from_str(&answer).ok())?
    };
    let Some(shards) = call("ListShards", serde_json::json!({"StreamName": STREAM})) else {
        return false;
    };
    shards["Shards"].as_array().into_iter().flatten().any(|shard| {
        call(
            "GetShardIterator",
            serde_json::json!({"StreamName": STREAM, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .and_then(|it| {
            call(
                "GetRecords",
                serde_json::json!({"ShardIterator": it["ShardIterator"], "Limit": 1}),
            )
        })
        .is_some_and(|page| page["Records"].as_array().is_some_and(|r| !r.is_empty()))
    })
}

/// Waits until the run's first records are on the products stream: the
/// delivery has begun, and 100,000 records take far longer than a poll.
fn wait_for_the_first_records(local: &LocalEnv, run: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if stream_has_a_record(local) {
            return;
        }
        if let Some(status) = run.try_wait().unwrap() {
            panic!("ingest ended ({status}) before sending a products record");
        }
        assert!(
            Instant::now() < deadline,
            "no products record on the stream after 120 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Makes the dead run's lease look expired, as it is once its deadline and
/// margin have passed (minutes): the same holder, its expiry in the past.
fn expire_the_lease(local: &LocalEnv) {
    let (status, body) = local
        .moto
        .rest_call("s3", "GET", &format!("/{STATE}/{LEASE}"));
    assert_eq!(status, 200, "the killed run left its lease: {body}");
    let mut lease: serde_json::Value = serde_json::from_str(&body).unwrap();
    lease["expires_at"] = lease["acquired_at"].clone();
    local.moto.put_object(STATE, LEASE, &lease.to_string());
}

pub(crate) fn a_killed_ingest_never_becomes_a_snapshot_and_two_at_once_push_once() {
    let local = LocalEnv::start();
    let rows = 100_000;
    support::write_pages(
        local.pages.path(),
        &PageSpec {
            rows,
            ..PageSpec::default()
        },
    );

    // SIGKILL in the middle of the delivery.
    let mut killed = spawn_ingest(&local);
    wait_for_the_first_records(&local, &mut killed);
    killed.kill().unwrap();
    let status = killed.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal, not finished");
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    let partial = landed(&local);
    assert_eq!(partial.len(), 1, "{partial:?}");
    let (dead, sent, _) = partial[0].clone();
    assert!(
        sent > 0 && sent < rows as i64,
        "the kill must land mid-delivery: {sent} of {rows} records were sent"
    );
    assert_eq!(
        count(
            &local,
            &format!("SELECT COUNT(*) FROM silver.snapshots WHERE snapshot_id = '{dead}' AND NOT complete AND rows_arrived = {sent}")
        ),
        1,
        "silver.snapshots knows the cut-off snapshot as incomplete"
    );
    assert_eq!(
        count(&local, "SELECT COUNT(*) FROM silver.products_validated"),
        0,
        "no row of an incomplete snapshot reaches silver"
    );
    assert_eq!(
        count(&local, "SELECT COUNT(*) FROM gold.price_evolution"),
        0
    );

    // The rerun takes over the expired lease and sends the page again.
    let busy = local.run(&local.server.ingest_args().each_ref().map(String::as_str));
    assert_eq!(
        busy.status.code(),
        Some(1),
        "the dead run's lease still holds"
    );
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(
        stderr.contains("another ingest of the products page is running"),
        "{stderr}"
    );
    expire_the_lease(&local);
    let rerun = support::succeeded(local.run(&[
        "--env",
        "local",
        "--output",
        "json",
        "ingest",
        "--products",
        &local.server.url("product_data.html"),
        "--vendors",
        &local.server.url("vendor_data.html"),
        "--retry-for",
        RETRY_FOR,
    ]));
    let products = &rerun[0];
    assert_eq!(products["outcome"], "pushed", "{rerun}");
    assert_eq!(products["records_pushed"], rows, "{rerun}");
    assert!(
        products["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("took over the expired ingest lease")),
        "{rerun}"
    );
    let complete = products["snapshot_id"].as_str().unwrap().to_string();
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    assert_eq!(
        landed(&local),
        vec![
            (dead.clone(), sent, sent),
            (complete.clone(), rows as i64, rows as i64)
        ]
    );
    assert_eq!(
        count(
            &local,
            "SELECT COUNT(DISTINCT snapshot_id) FROM silver.products_validated"
        ),
        1,
        "exactly one snapshot in silver"
    );
    assert_eq!(
        count(
            &local,
            &format!(
                "SELECT COUNT(*) FROM silver.products_validated WHERE snapshot_id = '{complete}'"
            )
        ),
        rows as i64,
        "every row of the complete snapshot, once"
    );
    let check = local.run(&["--env", "local", "check", "--no-publish"]);
    let table = String::from_utf8_lossy(&check.stdout);
    let line = table
        .lines()
        .find(|l| l.starts_with("snapshots_complete "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        line.ends_with("pass"),
        "replaced by a complete snapshot: {line}"
    );

    // Two runs of a changed page at once: one pushes it, the other sends
    // nothing (the lease is taken) or finds the page already sent.
    support::write_pages(
        local.pages.path(),
        &PageSpec {
            rows: 20_000,
            variant: 1,
            ..PageSpec::default()
        },
    );
    let runs = [spawn_ingest(&local), spawn_ingest(&local)];
    let outputs: Vec<_> = runs
        .into_iter()
        .map(|run| run.wait_with_output().unwrap())
        .collect();
    let reports: Vec<String> = outputs
        .iter()
        .map(|o| {
            format!(
                "exit {:?}\n{}\n{}",
                o.status.code(),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .collect();
    let pushed = outputs
        .iter()
        .filter(|o| {
            serde_json::from_slice::<serde_json::Value>(&o.stdout)
                .map(|r| r[0]["outcome"] == "pushed")
                .unwrap_or(false)
        })
        .count();
    assert_eq!(pushed, 1, "exactly one run pushes the page: {reports:#?}");
    for (output, report) in outputs.iter().zip(&reports) {
        if output.status.success() {
            continue;
        }
        assert!(
            report.contains("another ingest of the products page is running"),
            "a run fails only because the other holds the lease: {report}"
        );
    }
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    let after = landed(&local);
    assert_eq!(after.len(), 3, "one more snapshot: {after:?}");
    let (_, records, distinct) = after
        .iter()
        .find(|(id, _, _)| *id != dead && *id != complete)
        .unwrap();
    assert_eq!((*records, *distinct), (20_000, 20_000), "every row once");

    // The archive holds the cut-off snapshot whole (it is written before
    // the delivery starts): backfill completes it, a true observation of
    // the page at its time, next to the copy the rerun sent.
    support::succeeded(local.run(&["--env", "local", "backfill", "--source", "products"]));
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    assert_eq!(
        count(
            &local,
            &format!(
                "SELECT COUNT(*) FROM silver.snapshots WHERE snapshot_id = '{dead}' AND complete"
            )
        ),
        1,
        "backfill completed the cut-off snapshot"
    );
    assert_eq!(
        count(
            &local,
            &format!("SELECT COUNT(*) FROM silver.products_validated WHERE snapshot_id = '{dead}'")
        ),
        rows as i64,
        "each of its rows once, streamed or reloaded"
    );
}
