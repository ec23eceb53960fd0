//! The ingest Lambda binary itself, driven through a minimal Lambda Runtime
//! API on loopback (as the provided.al2023 runtime drives it), against moto
//! and pages served on loopback: the invocation succeeds and pushes the
//! snapshot (archived first), logs EMF metrics, succeeds without sending
//! the page while another run holds its lease (busy, no Errors alarm), and
//! fails with the undelivered count when the stream is missing.

use crate::support;

use crate::support::{Moto, PageServer};
use pricewatch_core::ingest::fixtures::{product_page, vendor_page, PageSpec};
use pricewatch_core::ingest::records::SourceConfig;

pub(crate) fn the_lambda_pushes_a_snapshot_and_reports_failures_through_the_runtime_api() {
    let moto = Moto::start();
    support::deploy_local(&moto);

    let pages = tempfile::tempdir().unwrap();
    let spec = PageSpec {
        rows: 40,
        ..PageSpec::default()
    };
    std::fs::write(pages.path().join("product_data.html"), product_page(&spec)).unwrap();
    std::fs::write(pages.path().join("vendor_data.html"), vendor_page(&spec)).unwrap();
    let server = PageServer::start(pages.path());
    // The source list as the ingest stack passes it: the local env's
    // declaration, pages on loopback, streams by ARN.
    let stream_arn = |source: &str| {
        format!("arn:aws:kinesis:us-east-1:123456789012:stream/pricewatch-local-{source}")
    };
    let sources = |products_stream: &str| {
        let env = support::bundle("local").env;
        let mut sources = SourceConfig::enabled(&env.settings, &env.names());
        for source in &mut sources {
            let (page, stream) = match source.name.as_str() {
                "products" => ("product_data.html", stream_arn(products_stream)),
                _ => ("vendor_data.html", stream_arn("vendors")),
            };
            source.url = server.url(page);
            source.stream = stream;
        }
        serde_json::to_string(&sources).unwrap()
    };
    let mut env = vec![
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("PRICEWATCH_ENV", "local".to_string()),
        ("PRICEWATCH_SOURCES", sources("products")),
        (
            "PRICEWATCH_STATE_BUCKET",
            "pricewatch-local-artifacts-123456789012".to_string(),
        ),
        ("PRICEWATCH_STATE_PREFIX", "state/ingest/".to_string()),
        (
            "PRICEWATCH_ARCHIVE_BUCKET",
            "pricewatch-local-archive-123456789012".to_string(),
        ),
    ];

    let (path, body, stdout) = support::invoke_lambda(
        &support::workspace_bin("pricewatch-ingest").to_string_lossy(),
        &env,
    );
    assert!(
        path.ends_with("/invocation/req-1/response"),
        "{path}: {body}"
    );
    let reports: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reports[0]["outcome"], "pushed");
    assert_eq!(reports[0]["records_pushed"], 40);
    assert!(
        reports[0]["archive_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("archive/products/")),
        "{body}"
    );
    let records = moto.stream_records("pricewatch-local-products");
    assert_eq!(records.len(), 41, "40 rows and the run's heartbeat");
    assert_eq!(
        records
            .iter()
            .filter(|r| r["record_type"] == "heartbeat")
            .count(),
        1
    );
    let emf: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("_aws").is_some())
        .collect();
    assert_eq!(emf.len(), 2, "{stdout}");
    assert_eq!(emf[0]["RecordsPushed"], 40);
    assert_eq!(emf[0]["IngestRuns"], 1);

    let (path, body, _) = support::invoke_lambda(
        &support::workspace_bin("pricewatch-ingest").to_string_lossy(),
        &env,
    );
    assert!(path.ends_with("/response"), "{body}");
    assert!(body.contains("\"unchanged\""), "{body}");

    std::fs::write(
        pages.path().join("product_data.html"),
        product_page(&PageSpec { variant: 2, ..spec }),
    )
    .unwrap();
    // An on-call `pricewatch ingest` holds the products lease: the
    // invocation succeeds, sends only the heartbeats and says busy.
    let now = pricewatch_core::time::now_unix();
    let lease = serde_json::json!({
        "holder": "pricewatch ingest (on-call)",
        "acquired_at": now,
        "expires_at": now + 600,
    });
    let state = "pricewatch-local-artifacts-123456789012";
    moto.put_object(state, "state/ingest/products.lease", &lease.to_string());
    let (path, body, stdout) = support::invoke_lambda(
        &support::workspace_bin("pricewatch-ingest").to_string_lossy(),
        &env,
    );
    assert!(path.ends_with("/response"), "busy is no error: {body}");
    let reports: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reports[0]["outcome"], "busy", "{body}");
    assert!(stdout.contains("\"IngestBusy\":1"), "{stdout}");
    assert_eq!(
        moto.stream_records("pricewatch-local-products").len(),
        43,
        "the unchanged and the busy runs' heartbeats only"
    );
    moto.put_object(
        state,
        "state/ingest/products.lease",
        &serde_json::json!({"holder": "gone", "acquired_at": 0, "expires_at": 0}).to_string(),
    );
    env[2].1 = sources("missing");
    let (path, body, stdout) = support::invoke_lambda(
        &support::workspace_bin("pricewatch-ingest").to_string_lossy(),
        &env,
    );
    assert!(path.ends_with("/invocation/req-1/error"), "{path}: {body}");
    assert!(body.contains("40 record(s) not delivered"), "{body}");
    assert!(stdout.contains("\"FailedRecords\":40"), "{stdout}");
    assert!(stdout.contains("\"IngestRuns\":0"), "{stdout}");
}
