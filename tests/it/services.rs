//! Smoke tests of the test services: PostgreSQL runs the rendered `local`
//! SQL, and moto answers STS with its fixed account, the one `local.yaml`
//! states for the account guard.

use crate::support;

use crate::support::{bundle, Moto, Postgres};
use pricewatch_core::model::Materialization;
use pricewatch_core::render::incremental;
use pricewatch_ops::warehouse::bootstrap;

/// The administrator's bootstrap, then the owner's setup, as `sql apply` runs them.
fn set_up(client: &mut postgres::Client, bundle: &pricewatch_core::bundle::Bundle) {
    let roles = bundle.env.names().roles(bundle.env.dialect());
    let statements = bootstrap::statements(bundle, &roles, &Default::default(), None);
    for sql in statements {
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("bootstrap SQL runs on PostgreSQL: {e:?}\n{sql}"));
    }
    client
        .batch_execute(&bundle.setup_sql)
        .expect("setup SQL runs on PostgreSQL");
}

pub(crate) fn postgres_accepts_every_rendered_local_model() {
    let pg = Postgres::start();
    let mut client = pg.connect("pricewatch");
    let bundle = bundle("local");
    set_up(&mut client, &bundle);
    for model in &bundle.models {
        client.batch_execute(&model.ddl).unwrap_or_else(|e| {
            panic!(
                "model {} does not run on PostgreSQL: {e:?}\n{}",
                model.name, model.ddl
            )
        });
    }
    let mut count = |sql: &str| -> usize {
        let n: i64 = client.query_one(sql, &[]).unwrap().get(0);
        n as usize
    };
    let of_kind = |kind: Materialization| {
        bundle
            .models
            .iter()
            .filter(|m| m.materialized == kind)
            .count()
    };
    let incremental = of_kind(Materialization::Incremental);
    assert_eq!(
        count("SELECT COUNT(*) FROM pg_matviews WHERE schemaname IN ('bronze', 'silver', 'gold')"),
        of_kind(Materialization::MaterializedView) + of_kind(Materialization::Stream)
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM pg_views WHERE schemaname IN ('bronze', 'silver', 'gold')"),
        of_kind(Materialization::View)
    );
    // Incremental models are tables, each with its refresh procedure.
    assert_eq!(
        count("SELECT COUNT(*) FROM pg_tables WHERE schemaname IN ('bronze', 'silver') OR (schemaname = 'gold' AND tablename <> 'item_clusters')"),
        incremental
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM pg_proc WHERE proname LIKE 'incremental\\_\\_%'"),
        incremental
    );
}

pub(crate) fn silver_types_and_quarantines_records_on_postgres() {
    let pg = Postgres::start();
    let mut client = pg.connect("pricewatch");
    let bundle = bundle("local");
    set_up(&mut client, &bundle);
    for model in &bundle.models {
        client.batch_execute(&model.ddl).unwrap();
    }
    let record = |seq: u32, item: &str, price: &str, status: &str| {
        format!(
            r#"{{"source":"products","snapshot_id":"20261125T010000Z-aa","fetched_at":"2026-11-25T01:00:00Z","row_number":{seq},"item":"{item}","category":"Laptops","vendor":"Acme","sale_price":"{price}","stock_status":"{status}"}}"#
        )
    };
    // (item, price as the page shows it, what silver makes of it)
    let prices: &[(&str, &str, Result<&str, &str>)] = &[
        ("P1", "$1,299.00", Ok("1299.00")),
        ("P2", " 123.45 ", Ok("123.45")),
        ("P3", "12,99", Ok("12.99")),
        ("P4", "1.299,00", Ok("1299.00")),
        ("P5", "$ 1 299,5", Ok("1299.50")),
        ("P6", "99,999,999.99", Ok("99999999.99")),
        ("P7", "12.990", Ok("12.99")),
        ("P8", "1,2,3", Err("unparsable price")),
        ("P9", "0.001", Err("price finer than a cent")),
        ("P10", "9999999999.995", Err("price finer than a cent")),
        ("P11", "9999999999.99", Err("price out of range")),
        ("P12", "100000000", Err("price out of range")),
        ("P13", "ten", Err("unparsable price")),
        ("P14", "-5.00", Err("non-positive price")),
        ("P15", "0,00", Err("non-positive price")),
    ];
    let mut records: Vec<String> = prices
        .iter()
        .enumerate()
        .map(|(i, (item, price, _))| record(i as u32 + 1, item, price, "In Stock"))
        .collect();
    let n = records.len() as u32;
    records.push(record(n + 1, "P1", "$1,299.00", "In Stock")); // exact duplicate
    records.push(record(n + 2, "", "10", "In Stock")); // missing item
    records.push(record(n + 3, "P16", "9.99", "Backorder")); // unknown stock status
                                                             // The same record delivered twice (same snapshot, same row number) is one row.
    records.push(record(n + 3, "P16", "9.99", "Backorder"));
    // A name ingest cut at its cell limit.
    let cut_name = format!(
        "P17{}{}",
        "x".repeat(pricewatch_core::limits::MAX_CELL_CHARS - 20),
        pricewatch_core::limits::TRUNCATED_MARKER
    );
    records.push(record(n + 4, &cut_name, "9.99", "In Stock"));
    // A snapshot that announces three rows of which two arrived: kept out
    // of silver and quarantine alike.
    let partial = |row: u32| {
        format!(
            r#"{{"source":"products","snapshot_id":"20261125T020000Z-bb","fetched_at":"2026-11-25T02:00:00Z","row_number":{row},"snapshot_rows":"3","page_hash":"bb","item":"Late {row}","category":"Laptops","vendor":"Acme","sale_price":"1.00","stock_status":"In Stock"}}"#
        )
    };
    records.push(partial(1));
    records.push(partial(3));
    let insert = |client: &mut postgres::Client, seq: usize, text: &str, json: Option<&str>| {
        client
            .execute(
                "INSERT INTO pricewatch_meta.kinesis_products VALUES ('shardId-000000000000', $1, 'k', NOW(), $2, CAST(CAST($3 AS TEXT) AS JSONB))",
                &[&format!("{seq:05}"), &text, &json],
            )
            .unwrap();
    };
    for (i, payload) in records.iter().enumerate() {
        insert(&mut client, i, payload, Some(payload));
    }
    // What the loader stores for a record PostgreSQL cannot hold as JSONB.
    insert(&mut client, 900, r#"{"item":"Ket\u0000tle"}"#, None);
    let refresh = |client: &mut postgres::Client| {
        for model in bundle
            .models
            .iter()
            .filter(|m| m.name != "bronze.vendors" && m.materialized != Materialization::View)
        {
            let sql = match model.materialized {
                Materialization::Incremental => incremental::refresh_call(&model.name, false),
                _ => format!("REFRESH MATERIALIZED VIEW {}", model.name),
            };
            client
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("refreshing {}: {e:?}", model.name));
        }
    };
    refresh(&mut client);
    let rows = client
        .query(
            "SELECT item, CAST(sale_price AS TEXT), stock_status FROM silver.products",
            &[],
        )
        .unwrap();
    let got: std::collections::BTreeMap<String, (String, String)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let reasons: std::collections::BTreeMap<String, String> = client
        .query(
            "SELECT CASE WHEN reason = 'unloadable record' THEN \"raw\" ELSE CAST(\"raw\" AS JSONB) ->> 'item' END, reason FROM silver.quarantine WHERE reason <> 'duplicate'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    for (item, price, expected) in prices {
        match expected {
            Ok(value) => assert_eq!(
                got.get(*item).map(|(p, _)| p.as_str()),
                Some(*value),
                "{price:?}"
            ),
            Err(reason) => {
                assert!(!got.contains_key(*item), "{price:?} reached silver");
                assert_eq!(
                    reasons.get(*item).map(String::as_str),
                    Some(*reason),
                    "{price:?}"
                );
            }
        }
    }
    assert_eq!(got.len(), 7, "{got:?}");
    assert_eq!(got["P1"].1, "in_stock");
    assert_eq!(reasons.get("").map(String::as_str), Some("missing item"));
    assert_eq!(
        reasons.get("P16").map(String::as_str),
        Some("unknown stock status")
    );
    assert_eq!(
        reasons.get(&cut_name).map(String::as_str),
        Some("name too long")
    );
    let count = |client: &mut postgres::Client, sql: &str| -> i64 {
        client.query_one(sql, &[]).unwrap().get(0)
    };
    assert_eq!(
        count(
            &mut client,
            "SELECT COUNT(*) FROM silver.quarantine WHERE reason = 'duplicate'"
        ),
        1,
        "the page's exact copy is a duplicate; the record delivered twice is one row"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT COUNT(*) FROM silver.quarantine WHERE \"raw\" LIKE '%Late%'"
        ),
        0,
        "an incomplete snapshot is neither silver nor quarantine"
    );
    let snapshot: (i32, i64, bool) = {
        let row = client
            .query_one(
                "SELECT snapshot_rows, rows_arrived, complete FROM silver.snapshots WHERE snapshot_id = '20261125T020000Z-bb'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(snapshot, (3, 2, false));
    let unloadable: (String, String) = {
        let row = client
            .query_one(
                "SELECT source, \"raw\" FROM silver.quarantine WHERE reason = 'unloadable record'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(unloadable.0, "products");
    assert!(
        unloadable
            .1
            .starts_with("unparsable JSON: shard shardId-000000000000, sequence number 00900"),
        "{}",
        unloadable.1
    );

    // The check `records_loadable` reports it, at warn. It counts the
    // records of the day before the latest ingest run: an ingest run's
    // heartbeat gives it one.
    let heartbeat = format!(
        r#"{{"record_type":"heartbeat","source":"products","fetched_at":"{}","outcome":"unchanged"}}"#,
        pricewatch_core::time::utc_timestamps(pricewatch_core::time::now_unix()).0
    );
    insert(&mut client, 901, &heartbeat, Some(&heartbeat));
    refresh(&mut client);
    // `--no-publish`: no AWS call, so no moto (a port nobody answers on).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(support::project_dir())
        .args([
            "--env",
            "local",
            "--output",
            "json",
            "check",
            "--no-publish",
        ])
        .args(["--select", "records_loadable"])
        .env("PRICEWATCH_DATABASE_URL", pg.url())
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", support::free_port()),
        )
        .env_remove("PRICEWATCH_ENV")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let report = support::succeeded(out);
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1, "{report:#}");
    assert_eq!(checks[0]["check"], "records_loadable", "{report:#}");
    assert_eq!(checks[0]["status"], "warn", "{report:#}");
    assert_eq!(checks[0]["observed"], 1.0, "{report:#}");
}

pub(crate) fn moto_answers_sts_with_the_local_account() {
    let moto = Moto::start();
    let (status, body) = moto.request(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
            ),
        ],
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(status, 200, "{body}");
    let local = support::bundle("local").env.settings.account_id;
    assert!(
        body.contains(&format!("<Account>{local}</Account>")),
        "{body}"
    );
}

/// A statement behind another session's lock, and one that runs too long,
/// end in a timeout naming the limit and what to do, not in a wait.
pub(crate) fn held_locks_and_long_statements_end_in_timeouts() {
    use pricewatch_core::cloud::{Statements as _, WarehouseError};
    let pg = Postgres::start();
    let mut holder = pg.connect("pricewatch");
    holder.batch_execute("CREATE TABLE held (x INT)").unwrap();
    holder
        .batch_execute("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let timeouts = pricewatch_core::config::TimeoutSettings {
        lock_seconds: 1,
        statement_seconds: 2,
        ..Default::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let session = pricewatch_ops::warehouse::postgres::Postgres::connect(&pg.url(), &timeouts)
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let error = session
            .query("reading held", "SELECT * FROM held")
            .await
            .unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(matches!(error, WarehouseError::TimedOut { .. }), "{error}");
        let message = error.to_string();
        assert!(
            message.starts_with("reading held: waiting for a lock on PostgreSQL")
                && message.contains("gave up after 1 s (timeouts.lock_seconds)")
                && message.contains("pricewatch status"),
            "{message}"
        );
        let error = session
            .execute("sleeping", "SELECT pg_sleep(10)")
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("sleeping on PostgreSQL")
                && message.contains("gave up after 2 s (timeouts.statement_seconds)"),
            "{message}"
        );
    });
    holder.batch_execute("ROLLBACK").unwrap();
}
