//! Rebuilding a warehouse from the snapshot archive, on the local env
//! (moto + PostgreSQL): two snapshots ingested (and one unchanged run in
//! between) and refreshed; then the streams are deleted and recreated, so
//! their records are gone, and a fresh database is set up with `sql apply`;
//! `backfill` and `refresh` must give the same silver and gold figures as
//! before, and a second `backfill` + `refresh` must change nothing.

use std::collections::BTreeSet;

use crate::support::{self, LocalEnv, Moto, Postgres};
use pricewatch_core::ingest::fixtures::PageSpec;

const STREAMS: [&str; 2] = ["pricewatch-local-products", "pricewatch-local-vendors"];
const ARCHIVE: &str = "pricewatch-local-archive-123456789012";

/// Every row of a relation as text, sorted; `except` columns left out.
/// Floating-point columns to 9 decimals: a sum over rows a rebuild wrote in
/// another order may differ in its last bits (1e-16), which is no change.
fn rows(pg: &Postgres, relation: &str, except: &[&str]) -> Vec<Vec<String>> {
    let mut client = pg.connect("pricewatch");
    let (schema, table) = relation.split_once('.').unwrap();
    let columns: Vec<(String, bool)> = client
        .query(
            "SELECT a.attname, a.atttypid = 'double precision'::regtype FROM pg_attribute AS a \
             JOIN pg_class AS c ON c.oid = a.attrelid \
             JOIN pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&schema, &table],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, bool>(1)))
        .filter(|(c, _)| !except.contains(&c.as_str()))
        .collect();
    assert!(!columns.is_empty(), "{relation} has no columns");
    let select = columns
        .iter()
        .map(|(c, float)| {
            if *float {
                format!("CAST(ROUND(CAST(\"{c}\" AS NUMERIC), 9) AS TEXT)")
            } else {
                format!("CAST(\"{c}\" AS TEXT)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut found: Vec<Vec<String>> = client
        .query(&format!("SELECT {select} FROM {relation}"), &[])
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    r.get::<_, Option<String>>(i)
                        .unwrap_or_else(|| "NULL".into())
                })
                .collect()
        })
        .collect();
    found.sort();
    found
}

/// The figures a rebuild must reproduce: every silver and gold model but
/// the ingest runs (heartbeats describe runs and are not archived), and
/// the item clusters (without the time they were computed). Of
/// silver.snapshots, what the records say (size, rows arrived, hash,
/// complete), not how they arrived (record count, arrival times).
fn figures(pg: &Postgres) -> Vec<(String, Vec<Vec<String>>)> {
    let mut relations: Vec<String> = support::bundle("local")
        .models
        .iter()
        .map(|m| m.name.clone())
        .filter(|m| {
            (m.starts_with("silver.") || m.starts_with("gold.")) && m != "silver.ingest_runs"
        })
        .collect();
    relations.push("gold.item_clusters".into());
    relations
        .into_iter()
        .map(|relation| {
            let except: &[&str] = match relation.as_str() {
                "silver.snapshots" => &["records", "first_arrival", "last_arrival"],
                _ => &["computed_at"],
            };
            let found = rows(pg, &relation, except);
            (relation, found)
        })
        .collect()
}

fn count(pg: &Postgres, sql: &str) -> i64 {
    pg.connect("pricewatch").query_one(sql, &[]).unwrap().get(0)
}

/// The keys under archive/ in the local archive bucket.
fn archived(moto: &Moto) -> BTreeSet<String> {
    let (status, body) = moto.rest_call(
        "s3",
        "GET",
        &format!("/{ARCHIVE}?list-type=2&prefix=archive/"),
    );
    assert_eq!(status, 200, "{body}");
    body.split("<Key>")
        .skip(1)
        .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_string()))
        .collect()
}

/// Serves the pages of `spec` and ingests them: the run's JSON report.
fn ingest(local: &LocalEnv, spec: &PageSpec) -> serde_json::Value {
    support::write_pages(local.pages.path(), spec);
    let mut args = local.server.ingest_args().to_vec();
    args.extend(["--output".to_string(), "json".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::succeeded(local.run(&args))
}

fn recreate_streams(moto: &Moto) {
    for stream in STREAMS {
        let body = serde_json::json!({"StreamName": stream, "EnforceConsumerDeletion": true});
        moto.json_call(
            "kinesis",
            "Kinesis_20131202.DeleteStream",
            &body.to_string(),
        );
        let body = serde_json::json!({"StreamName": stream, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}});
        moto.json_call(
            "kinesis",
            "Kinesis_20131202.CreateStream",
            &body.to_string(),
        );
        assert!(
            moto.stream_records(stream).is_empty(),
            "{stream} starts empty"
        );
    }
}

pub(crate) fn a_warehouse_rebuilt_from_the_archive_has_the_same_silver_and_gold() {
    let local = LocalEnv::start();
    let moto = &local.moto;
    let spec = PageSpec {
        rows: 150,
        broken_ratio: 0.1,
        ..PageSpec::default()
    };
    let first = ingest(&local, &spec);
    let unchanged = ingest(&local, &spec);
    assert_eq!(unchanged[0]["outcome"], "unchanged");
    assert_eq!(unchanged[0]["archive_key"], serde_json::Value::Null);
    // Snapshot ids begin with the second they were taken: keep them apart.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = ingest(&local, &PageSpec { variant: 1, ..spec });
    let mut sent: BTreeSet<String> = BTreeSet::new();
    for report in [&first, &second] {
        for source in report.as_array().unwrap() {
            if source["outcome"] == "pushed" {
                sent.insert(source["archive_key"].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(sent.len(), 4, "two snapshots of each page");
    assert_eq!(
        archived(moto),
        sent,
        "one object per snapshot sent, none for an unchanged page"
    );
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    let before = figures(&local.pg);
    assert!(
        before.iter().filter(|(_, rows)| !rows.is_empty()).count() > 10,
        "the figures are there to compare"
    );

    // Half of a snapshot lost from the warehouse: backfill reloads the whole
    // snapshot, and the rows now there twice (stream and archive) count once.
    let snapshot = first[0]["snapshot_id"].as_str().unwrap().to_string();
    let lost = local
        .pg
        .connect("pricewatch")
        .execute(
            "DELETE FROM pricewatch_meta.kinesis_products WHERE payload ->> 'snapshot_id' = $1 \
             AND CAST(payload ->> 'row_number' AS INTEGER) % 2 = 0",
            &[&snapshot],
        )
        .unwrap();
    assert_eq!(lost, 75);
    // Records beyond the page's row count (a hostile or mixed-up copy) do
    // not make it whole: backfill counts rows as silver.snapshots does.
    let padding = "SELECT shard_id, sequence_number || '-padding', partition_key, \
         approximate_arrival_timestamp, kinesis_data, \
         JSONB_SET(payload, '{row_number}', TO_JSONB(CAST(payload ->> 'row_number' AS INTEGER) + 1000)) \
         FROM pricewatch_meta.kinesis_products \
         WHERE payload ->> 'snapshot_id' = $1 AND payload ->> 'row_number' IS NOT NULL";
    let padded = local
        .pg
        .connect("pricewatch")
        .execute(
            &format!("INSERT INTO pricewatch_meta.kinesis_products {padding}"),
            &[&snapshot],
        )
        .unwrap();
    assert_eq!(padded, 75);
    let padded_plan = support::succeeded(local.run(&[
        "--env",
        "local",
        "--output",
        "json",
        "backfill",
        "--source",
        "products",
        "--dry-run",
    ]));
    let planned = &padded_plan["sources"][0]["snapshots"][0];
    assert_eq!(planned["present_rows"], 75, "{padded_plan:#}");
    assert_eq!(planned["action"], "would_load", "{padded_plan:#}");
    local
        .pg
        .connect("pricewatch")
        .execute(
            "DELETE FROM pricewatch_meta.kinesis_products WHERE sequence_number LIKE '%-padding'",
            &[],
        )
        .unwrap();
    let completed = support::succeeded(local.run(&[
        "--env", "local", "--output", "json", "backfill", "--source", "products",
    ]));
    assert_eq!(
        completed["sources"].as_array().unwrap().len(),
        1,
        "--source picks one"
    );
    let outcome = &completed["sources"][0];
    assert_eq!(outcome["snapshots_loaded"], 1, "{completed:#}");
    assert_eq!(outcome["snapshots_skipped"], 1, "{completed:#}");
    assert_eq!(outcome["snapshots"][0]["present_rows"], 75);
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    assert_eq!(figures(&local.pg), before, "a row held twice counts once");
    assert_eq!(
        count(
            &local.pg,
            &format!(
                "SELECT COUNT(*) FROM silver.snapshots WHERE snapshot_id = '{snapshot}' \
                 AND complete AND rows_arrived = snapshot_rows AND records = 225"
            ),
        ),
        1,
        "the completed snapshot has every row, 75 of them twice"
    );

    recreate_streams(moto);
    let fresh = Postgres::start();
    let run = |args: &[&str]| {
        support::pricewatch_with_warehouse(&support::project_dir(), moto, &fresh, args)
    };
    support::succeeded(run(&["--env", "local", "sql", "apply"]));
    let dry = support::succeeded(run(&[
        "--env",
        "local",
        "--output",
        "json",
        "backfill",
        "--dry-run",
    ]));
    assert_eq!(dry["sources"][0]["snapshots_loaded"], 2, "{dry:#}");
    assert_eq!(dry["sources"][0]["snapshots"][0]["action"], "would_load");
    assert_eq!(
        count(
            &fresh,
            "SELECT COUNT(*) FROM pricewatch_meta.kinesis_products"
        ),
        0
    );

    let loaded = support::succeeded(run(&["--env", "local", "--output", "json", "backfill"]));
    let products = &loaded["sources"][0];
    assert_eq!(products["source"], "products");
    assert_eq!(products["snapshots_loaded"], 2, "{loaded:#}");
    assert_eq!(products["snapshots_skipped"], 0);
    assert_eq!(loaded["sources"][1]["snapshots_loaded"], 2);
    let landed = count(
        &fresh,
        "SELECT COUNT(*) FROM pricewatch_meta.kinesis_products",
    );
    assert_eq!(landed, products["rows_loaded"].as_i64().unwrap());
    support::succeeded(run(&["--env", "local", "refresh"]));
    let rebuilt = figures(&fresh);
    for ((relation, want), (_, got)) in before.iter().zip(&rebuilt) {
        assert_eq!(got, want, "{relation} differs after the rebuild");
    }
    assert_eq!(
        count(&fresh, "SELECT COUNT(*) FROM silver.ingest_runs"),
        0,
        "heartbeats are not archived: ingest runs start again with the next run"
    );

    let again = run(&["--env", "local", "backfill"]);
    let text = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success(), "{text}");
    assert!(
        text.contains("0 snapshot(s) with 0 row(s) loaded, 4 already in the warehouse"),
        "{text}"
    );
    assert_eq!(
        count(
            &fresh,
            "SELECT COUNT(*) FROM pricewatch_meta.kinesis_products"
        ),
        landed,
        "a second backfill adds nothing"
    );
    support::succeeded(run(&["--env", "local", "refresh"]));
    assert_eq!(
        figures(&fresh),
        rebuilt,
        "and a refresh after it changes nothing"
    );
}

pub(crate) fn backfill_refuses_bad_times_and_a_damaged_archive_before_loading() {
    let local = LocalEnv::start();
    let usage = local.run(&["--env", "local", "backfill", "--since", "yesterday"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&usage.stderr).contains("--since: `yesterday` is not a UTC time")
    );
    let usage = local.run(&[
        "--env",
        "local",
        "backfill",
        "--since",
        "2026-11-25",
        "--until",
        "2026-11-24",
    ]);
    assert_eq!(usage.status.code(), Some(2));
    let usage = local.run(&["--env", "local", "backfill", "--source", "prices"]);
    assert_eq!(usage.status.code(), Some(2));

    let report = ingest(
        &local,
        &PageSpec {
            rows: 20,
            ..PageSpec::default()
        },
    );
    let key = report[0]["archive_key"].as_str().unwrap().to_string();
    // Damage the object: the backfill names it and loads nothing at all.
    let (status, body) = local.moto.request(
        "PUT",
        &format!("/{ARCHIVE}/{key}"),
        &[(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
        )],
        "not an archive",
    );
    assert_eq!(status, 200, "{body}");
    let before = count(
        &local.pg,
        "SELECT COUNT(*) FROM pricewatch_meta.kinesis_vendors",
    );
    let out = local.run(&["--env", "local", "backfill"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "s3://{ARCHIVE}/{key}: is not gzip-compressed NDJSON"
        )) && stderr.contains("Nothing was loaded"),
        "{stderr}"
    );
    assert_eq!(
        count(
            &local.pg,
            "SELECT COUNT(*) FROM pricewatch_meta.kinesis_vendors"
        ),
        before,
        "the vendors snapshot, sound as it is, was not loaded either"
    );
}
