//! The local pipeline end to end: deploy (moto) → ingest (pages on
//! loopback) → sql apply → refresh (PostgreSQL, reading the streams from
//! their checkpoints). Counts are computed from the page itself.

use crate::support;

use std::collections::BTreeSet;
use std::process::Output;

use crate::support::{Moto, PageServer, Postgres};
use pricewatch_core::ingest::fixtures::{parsed_rows, product_page, vendor_page, PageSpec};

fn pricewatch(moto: &Moto, pg: &Postgres, args: &[&str]) -> Output {
    support::pricewatch_with_warehouse(&support::project_dir(), moto, pg, args)
}

use crate::support::succeeded as ok;

fn count(pg: &Postgres, sql: &str) -> i64 {
    pg.connect("pricewatch").query_one(sql, &[]).unwrap().get(0)
}

pub(crate) fn ingest_then_refresh_fills_bronze_silver_and_gold() {
    let moto = Moto::start();
    let pg = Postgres::start();
    support::deploy_local(&moto);
    ok(pricewatch(&moto, &pg, &["--env", "local", "sql", "apply"]));

    let pages = tempfile::tempdir().unwrap();
    let spec = PageSpec {
        rows: 240,
        ..PageSpec::default()
    };
    support::write_pages(pages.path(), &spec);
    let server = PageServer::start(pages.path());
    let ingest = server.ingest_args();
    let ingest_args = ingest.each_ref().map(String::as_str);
    ok(pricewatch(&moto, &pg, &ingest_args));

    let report = ok(pricewatch(
        &moto,
        &pg,
        &["--env", "local", "--output", "json", "refresh"],
    ));
    let models = report["models"].as_array().unwrap();
    assert_eq!(models.len(), 17);
    assert!(
        models.iter().all(|m| m["status"] == "refreshed"),
        "{report}"
    );

    let rows = parsed_rows(&product_page(&spec));
    let distinct: BTreeSet<&Vec<String>> = rows.iter().collect();
    assert!(distinct.len() < rows.len(), "the page has exact duplicates");
    assert_eq!(
        count(&pg, "SELECT COUNT(*) FROM bronze.products") as usize,
        rows.len() + 1,
        "every row and the run's heartbeat"
    );
    assert_eq!(
        count(&pg, "SELECT COUNT(*) FROM silver.products") as usize,
        distinct.len(),
        "duplicates collapse"
    );
    assert_eq!(
        count(
            &pg,
            "SELECT COUNT(*) FROM silver.quarantine WHERE reason = 'duplicate'"
        ) as usize,
        rows.len() - distinct.len(),
        "the extra copies are recorded"
    );
    assert_eq!(
        count(
            &pg,
            "SELECT COUNT(*) FROM silver.ingest_runs WHERE outcome = 'pushed'"
        ),
        2
    );
    assert_eq!(
        count(&pg, "SELECT COUNT(*) FROM silver.vendors") as usize,
        parsed_rows(&vendor_page(&spec)).len()
    );
    let vendors_with_items = count(
        &pg,
        "SELECT COUNT(*) FROM gold.vendor_scorecard WHERE items > 0",
    );
    let expected_vendors: BTreeSet<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(vendors_with_items as usize, expected_vendors.len());

    // A changed page with broken rows: a second snapshot, some quarantined.
    let changed = PageSpec {
        variant: 1,
        broken_ratio: 0.2,
        ..spec
    };
    support::write_pages(pages.path(), &changed);
    ok(pricewatch(&moto, &pg, &ingest_args));
    let report = ok(pricewatch(
        &moto,
        &pg,
        &["--env", "local", "--output", "json", "refresh"],
    ));
    let loaded: i64 = report["loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[1].as_i64().unwrap())
        .sum();
    assert_eq!(
        loaded as usize,
        rows.len() + parsed_rows(&vendor_page(&changed)).len() + 2,
        "only the new records (and the two heartbeats) are loaded"
    );
    assert!(
        count(
            &pg,
            "SELECT COUNT(*) FROM silver.quarantine WHERE source = 'products'"
        ) > 0
    );
    assert_eq!(
        count(
            &pg,
            "SELECT COUNT(DISTINCT snapshot_id) FROM silver.products"
        ),
        2
    );
    assert!(count(&pg, "SELECT COUNT(*) FROM gold.price_evolution WHERE previous_price IS NOT NULL AND price_change <> 0") > 0);

    let report = ok(pricewatch(
        &moto,
        &pg,
        &[
            "--env",
            "local",
            "--output",
            "json",
            "refresh",
            "--select",
            "silver.products+",
        ],
    ));
    let refreshed: Vec<&str> = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        refreshed,
        [
            "silver.products",
            "gold.hourly_prices",
            "gold.item_price_range",
            "gold.price_evolution",
            "gold.price_recommendations",
            "gold.vendor_scorecard",
            "gold.vendor_stock_status",
            "gold.price_anomalies",
            "gold.price_trends"
        ]
    );
    assert!(
        report["loaded"].as_array().unwrap().is_empty(),
        "bronze was not selected"
    );

    let out = pricewatch(
        &moto,
        &pg,
        &["--env", "local", "refresh", "--select", "gold.nope"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no model `gold.nope`"));
}

pub(crate) fn a_failing_model_skips_its_downstream_and_exits_1() {
    let moto = Moto::start();
    let pg = Postgres::start();
    support::deploy_local(&moto);
    // Creates fine while silver is empty; divides by zero once it has rows.
    let project = support::project_copy();
    std::fs::write(
        project.path().join("sql/gold/fragile.sql"),
        "{{ config(materialized=\"materialized_view\", description=\"Breaks on data.\") }}\n\
         SELECT item, 1 / (COUNT(*) - COUNT(*)) AS boom FROM {{ ref(model=\"silver.products\") }} GROUP BY item\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("sql/gold/fragile_child.sql"),
        "{{ config(materialized=\"materialized_view\", description=\"Reads the fragile one.\") }}\n\
         SELECT item FROM {{ ref(model=\"gold.fragile\") }}\n",
    )
    .unwrap();
    let run = |args: &[&str]| support::pricewatch_with_warehouse(project.path(), &moto, &pg, args);
    ok(run(&["--env", "local", "sql", "apply"]));
    let pages = tempfile::tempdir().unwrap();
    support::write_pages(
        pages.path(),
        &PageSpec {
            rows: 40,
            ..PageSpec::default()
        },
    );
    let server = PageServer::start(pages.path());
    ok(run(&server.ingest_args().each_ref().map(String::as_str)));

    let out = run(&["--env", "local", "refresh"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let line = |model: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{model} ")))
            .unwrap_or_else(|| panic!("no line for {model} in:\n{stdout}"))
            .to_string()
    };
    assert!(line("gold.fragile").contains("FAILED"), "{stdout}");
    assert!(line("gold.fragile_child").contains("skipped"), "{stdout}");
    assert!(
        line("gold.price_evolution").contains("refreshed"),
        "{stdout}"
    );
    assert!(stdout.contains("gold.fragile did not refresh"), "{stdout}");
    assert!(
        stdout.contains("17 refreshed, 1 failed, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stderr.contains("gold.fragile") && stderr.contains("division by zero"),
        "{stderr}"
    );
    // The rest of gold is current: the failure did not hold it back.
    assert!(count(&pg, "SELECT COUNT(*) FROM gold.price_recommendations") > 0);

    // Without bronze nothing is read from Kinesis: no AWS needed at all.
    let out = support::pricewatch_command(
        project.path(),
        &moto,
        &[
            "--env",
            "local",
            "refresh",
            "--select",
            "gold.price_evolution+",
        ],
    )
    .env("PRICEWATCH_DATABASE_URL", pg.url())
    .env(
        "AWS_ENDPOINT_URL",
        format!("http://127.0.0.1:{}", support::free_port()),
    )
    .output()
    .unwrap();
    ok(out);
}
