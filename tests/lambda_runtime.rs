//! The ingest Lambda binary itself, driven through a minimal Lambda Runtime
//! API on loopback (as the provided.al2023 runtime drives it), against moto
//! and pages served on loopback: the invocation succeeds and pushes the
//! snapshot, logs EMF metrics, and fails with the undelivered count when
//! the stream is missing.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use pricewatch::ingest::fixtures::{product_page, vendor_page, PageSpec};
use support::{Moto, PageServer};

/// Serves one invocation to the runtime and returns (path, body) of its answer.
fn invoke_once(env: &[(&str, String)]) -> (String, String, String) {
    let api = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = api.local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pricewatch-ingest"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "pricewatch-local-ingest")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/pricewatch-local-ingest",
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Lambda binary");
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    let mut answer = None;
    for stream in api.incoming().take(2) {
        let mut stream = stream.unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut content_length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                content_length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).unwrap();
        let path = request_line.split_whitespace().nth(1).unwrap().to_string();
        if path.ends_with("/invocation/next") {
            let event = r#"{"source":"aws.events","detail-type":"Scheduled Event"}"#;
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: {deadline_ms}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:pricewatch-local-ingest\r\nLambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: {}\r\n\r\n{event}",
                event.len()
            )
            .unwrap();
        } else {
            write!(
                stream,
                "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}"
            )
            .unwrap();
            answer = Some((path, String::from_utf8_lossy(&body).to_string()));
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let (path, body) = answer.expect("the runtime answered the invocation");
    (
        path,
        body,
        String::from_utf8_lossy(&output.stdout).to_string(),
    )
}

#[test]
fn the_lambda_pushes_a_snapshot_and_reports_failures_through_the_runtime_api() {
    let Some(moto) = Moto::start() else { return };
    support::deploy_local(&moto);

    let pages = tempfile::tempdir().unwrap();
    let spec = PageSpec {
        rows: 40,
        ..PageSpec::default()
    };
    std::fs::write(pages.path().join("product_data.html"), product_page(&spec)).unwrap();
    std::fs::write(pages.path().join("vendor_data.html"), vendor_page(&spec)).unwrap();
    let server = PageServer::start(pages.path());
    let stream_arn = |source: &str| {
        format!("arn:aws:kinesis:us-east-1:123456789012:stream/pricewatch-local-{source}")
    };
    let mut env = vec![
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("PRICEWATCH_ENV", "local".to_string()),
        ("PRICEWATCH_PRODUCTS_URL", server.url("product_data.html")),
        ("PRICEWATCH_VENDORS_URL", server.url("vendor_data.html")),
        ("PRICEWATCH_PRODUCTS_STREAM_ARN", stream_arn("products")),
        ("PRICEWATCH_VENDORS_STREAM_ARN", stream_arn("vendors")),
        (
            "PRICEWATCH_STATE_BUCKET",
            "pricewatch-local-artifacts-123456789012".to_string(),
        ),
        ("PRICEWATCH_STATE_PREFIX", "state/ingest/".to_string()),
    ];

    let (path, body, stdout) = invoke_once(&env);
    assert!(
        path.ends_with("/invocation/req-1/response"),
        "{path}: {body}"
    );
    let reports: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reports[0]["outcome"], "pushed");
    assert_eq!(reports[0]["records_pushed"], 40);
    assert_eq!(moto.stream_records("pricewatch-local-products").len(), 40);
    let emf: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("_aws").is_some())
        .collect();
    assert_eq!(emf.len(), 2, "{stdout}");
    assert_eq!(emf[0]["RecordsPushed"], 40);

    let (path, body, _) = invoke_once(&env);
    assert!(path.ends_with("/response"), "{body}");
    assert!(body.contains("\"unchanged\""), "{body}");

    std::fs::write(
        pages.path().join("product_data.html"),
        product_page(&PageSpec { variant: 2, ..spec }),
    )
    .unwrap();
    env[4].1 = stream_arn("missing");
    let (path, body, stdout) = invoke_once(&env);
    assert!(path.ends_with("/invocation/req-1/error"), "{path}: {body}");
    assert!(body.contains("40 record(s) not delivered"), "{body}");
    assert!(stdout.contains("\"FailedRecords\":40"), "{stdout}");
}
