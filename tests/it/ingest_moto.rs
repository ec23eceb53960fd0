//! `pricewatch ingest` end to end: pages served on loopback, streams and
//! state bucket deployed on moto. One record per table row, bad rows
//! included; only a heartbeat on an unchanged page; exactly one new
//! snapshot when a page changes; a failed delivery does not advance the
//! page hash.

use crate::support;

use std::process::Output;

use crate::support::{Moto, PageServer};
use pricewatch_core::ingest::fixtures::{parsed_rows, product_page, vendor_page, PageSpec};

fn pricewatch(moto: &Moto, args: &[&str]) -> Output {
    support::pricewatch_on(&support::project_dir(), moto, args)
}

fn ingest(moto: &Moto, server: &PageServer) -> (Output, serde_json::Value) {
    let out = pricewatch(
        moto,
        &[
            "--env",
            "local",
            "--output",
            "json",
            "ingest",
            "--products",
            &server.url("product_data.html"),
            "--vendors",
            &server.url("vendor_data.html"),
            "--retry-for",
            "5",
        ],
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, report)
}

/// A stream's page rows and its heartbeats' outcomes.
fn stream(moto: &Moto, name: &str) -> (Vec<serde_json::Value>, Vec<String>) {
    let (heartbeats, rows): (Vec<_>, Vec<_>) = moto
        .stream_records(name)
        .into_iter()
        .partition(|r| r["record_type"] == "heartbeat");
    let mut outcomes: Vec<String> = heartbeats
        .iter()
        .map(|h| h["outcome"].as_str().unwrap().to_string())
        .collect();
    outcomes.sort();
    (rows, outcomes)
}

pub(crate) fn ingest_pushes_each_snapshot_once_and_only_on_change() {
    let moto = Moto::start();
    support::deploy_local(&moto);
    let pages = tempfile::tempdir().unwrap();
    let spec = PageSpec {
        rows: 300,
        broken_ratio: 0.1,
        ..PageSpec::default()
    };
    support::write_pages(pages.path(), &spec);
    let server = PageServer::start(pages.path());
    let product_rows = parsed_rows(&product_page(&spec));
    let vendor_rows = parsed_rows(&vendor_page(&spec));

    let (out, report) = ingest(&moto, &server);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report[0]["outcome"], "pushed");
    assert_eq!(report[0]["rows"], 300);
    let (products, heartbeats) = stream(&moto, "pricewatch-local-products");
    let (vendors, _) = stream(&moto, "pricewatch-local-vendors");
    assert_eq!(
        products.len(),
        product_rows.len(),
        "one record per table row, bad rows included"
    );
    assert_eq!(heartbeats, ["pushed"], "and the run's heartbeat");
    assert_eq!(vendors.len(), vendor_rows.len());
    // Records carry the raw cells, in page order per row number.
    let mut by_row: Vec<&serde_json::Value> = products.iter().collect();
    by_row.sort_by_key(|r| r["row_number"].as_u64());
    for (record, row) in by_row.iter().zip(&product_rows) {
        assert_eq!(record["item"], row[0].as_str());
        assert_eq!(record["sale_price"], row[3].as_str());
        assert_eq!(record["source"], "products");
    }
    let first_snapshot = products[0]["snapshot_id"].as_str().unwrap().to_string();
    assert!(products
        .iter()
        .all(|r| r["snapshot_id"] == first_snapshot.as_str()));
    // A row's partition key is stable: item and vendor.
    let laptop = by_row
        .iter()
        .find(|r| r["item"] != "" && r["vendor"].as_str().is_some_and(|v| !v.trim().is_empty()))
        .unwrap();
    assert_eq!(
        laptop["_partition_key"],
        format!(
            "{}|{}",
            laptop["item"].as_str().unwrap(),
            laptop["vendor"].as_str().unwrap()
        )
    );

    let (out, report) = ingest(&moto, &server);
    assert!(out.status.success());
    assert_eq!(report[0]["outcome"], "unchanged");
    assert_eq!(report[1]["outcome"], "unchanged");
    assert_eq!(
        stream(&moto, "pricewatch-local-products"),
        (products.clone(), vec!["pushed".into(), "unchanged".into()]),
        "an unchanged page adds only its heartbeat"
    );

    support::write_pages(pages.path(), &PageSpec { variant: 1, ..spec });
    std::fs::write(pages.path().join("vendor_data.html"), vendor_page(&spec)).unwrap();
    let (out, report) = ingest(&moto, &server);
    assert!(out.status.success());
    assert_eq!(report[0]["outcome"], "pushed");
    assert_eq!(report[1]["outcome"], "unchanged");
    let (products, _) = stream(&moto, "pricewatch-local-products");
    assert_eq!(products.len(), 2 * product_rows.len());
    let snapshots: std::collections::BTreeSet<&str> = products
        .iter()
        .map(|r| r["snapshot_id"].as_str().unwrap())
        .collect();
    assert_eq!(snapshots.len(), 2, "exactly one new snapshot");
    let (vendors, heartbeats) = stream(&moto, "pricewatch-local-vendors");
    assert_eq!(
        vendors.len(),
        vendor_rows.len(),
        "the vendor stream gets no new rows"
    );
    assert_eq!(heartbeats, ["pushed", "unchanged", "unchanged"]);
}

pub(crate) fn a_failed_delivery_exits_1_and_is_retried_by_the_next_run() {
    let moto = Moto::start();
    let pages = tempfile::tempdir().unwrap();
    let spec = PageSpec {
        rows: 20,
        ..PageSpec::default()
    };
    support::write_pages(pages.path(), &spec);
    let server = PageServer::start(pages.path());

    // Nothing deployed: no streams, no state bucket.
    let (out, report) = ingest(&moto, &server);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report[0]["outcome"], "failed");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("products:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    support::deploy_local(&moto);
    let (out, report) = ingest(&moto, &server);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report[0]["outcome"], "pushed");
    let (rows, heartbeats) = stream(&moto, "pricewatch-local-products");
    assert_eq!((rows.len(), heartbeats), (20, vec!["pushed".to_string()]));
}

pub(crate) fn a_page_that_is_not_a_price_table_fails_loudly() {
    let moto = Moto::start();
    support::deploy_local(&moto);
    let pages = tempfile::tempdir().unwrap();
    std::fs::write(
        pages.path().join("product_data.html"),
        "<html><body>Down for maintenance</body></html>",
    )
    .unwrap();
    std::fs::write(
        pages.path().join("vendor_data.html"),
        "<table><tr><th>Vendor</th></tr></table>",
    )
    .unwrap();
    let server = PageServer::start(pages.path());
    let (out, report) = ingest(&moto, &server);
    assert_eq!(out.status.code(), Some(1));
    assert!(report[0]["error"]
        .as_str()
        .unwrap()
        .contains("has no <table>"));
    assert!(report[1]["error"]
        .as_str()
        .unwrap()
        .contains("lacks column(s) vendor name"));
    // No rows; the failed run's heartbeat says why.
    let records = moto.stream_records("pricewatch-local-products");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["record_type"], "heartbeat");
    assert_eq!(records[0]["outcome"], "failed");
    assert!(records[0]["error"]
        .as_str()
        .unwrap()
        .contains("has no <table>"));
}

/// An archive object larger than one upload part (8 MiB) goes to S3 in a
/// multipart upload from its temporary file and reads back byte for byte;
/// a small one in a single PutObject.
pub(crate) fn a_large_archive_object_goes_up_in_parts_and_reads_back_whole() {
    use pricewatch_core::cloud::{FileObjects as _, ObjectStore as _};

    let moto = Moto::start();
    support::deploy_local(&moto);
    let project = support::project_dir();
    let mut env = pricewatch_core::config::Environments::new(&project)
        .load("local")
        .unwrap();
    env.settings.aws.endpoint_url = Some(moto.endpoint());
    let bucket = env.names().archive_bucket.clone();
    let dir = tempfile::tempdir().unwrap();
    // 20 MiB that do not repeat within a part: three parts, the last short.
    let mut large = Vec::with_capacity(20 << 20);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while large.len() < 20 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        large.extend_from_slice(&x.to_le_bytes());
    }
    let small = b"one line\n".to_vec();
    std::fs::write(dir.path().join("large"), &large).unwrap();
    std::fs::write(dir.path().join("small"), &small).unwrap();
    moto.start_recording();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let aws = pricewatch_aws::Context::for_env(&env).await;
            let s3 = aws.objects().await.unwrap();
            for (name, bytes) in [("large", &large), ("small", &small)] {
                let key = format!("archive/test/{name}.ndjson.gz");
                s3.put_file(&bucket, &key, &dir.path().join(name), "application/gzip")
                    .await
                    .unwrap();
                let stored = s3.get(&bucket, &key).await.unwrap().unwrap();
                assert!(stored == *bytes, "{name}: {} bytes back", stored.len());
            }
        });
    // S3 calls are recorded as "METHOD URL": one upload created and
    // completed for the large file, one PutObject for the small one.
    let actions = moto.recorded_actions();
    let count = |method: &str, url: &str, query: &str| {
        actions
            .iter()
            .filter(|a| a.starts_with(method) && a.contains(url) && a.contains(query))
            .count()
    };
    assert_eq!(
        count("POST ", "large.ndjson.gz", "?uploads"),
        1,
        "{actions:?}"
    );
    // (moto's recorder leaves UploadPart requests out; the object read
    // back whole is what shows its 8 MiB parts were all stored.)
    assert_eq!(
        count("POST ", "large.ndjson.gz", "uploadId="),
        1,
        "{actions:?}"
    );
    assert_eq!(count("PUT ", "small.ndjson.gz", ""), 1, "{actions:?}");
    assert_eq!(count("POST ", "small.ndjson.gz", ""), 0, "{actions:?}");
}
