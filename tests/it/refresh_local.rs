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
        "{{ config(materialized=\"materialized_view\", full_refresh=\"A test model.\", description=\"Breaks on data.\") }}\n\
         SELECT item, 1 / (COUNT(*) - COUNT(*)) AS boom FROM {{ ref(model=\"silver.products\") }} GROUP BY item\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("sql/gold/fragile_child.sql"),
        "{{ config(materialized=\"materialized_view\", full_refresh=\"A test model.\", description=\"Reads the fragile one.\") }}\n\
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

/// A page with poison cells — a NUL escape, a price past every column, one
/// just inside the old check but past gold's columns, a 10 kB item name —
/// is ingested and refreshed with exit 0, those rows quarantined with their
/// reasons, `12,99` read as 12.99; the next clean snapshot reaches silver.
pub(crate) fn poison_cells_are_quarantined_and_the_next_snapshot_still_loads() {
    let local = support::LocalEnv::start();
    let spec = PageSpec {
        rows: 60,
        ..PageSpec::default()
    };
    support::write_pages(local.pages.path(), &spec);
    let page_path = local.pages.path().join("product_data.html");
    let page = std::fs::read_to_string(&page_path).unwrap();
    let row = |n: u32, item: &str, price: &str| {
        format!("<tr><th>{n}</th><td>{item}</td><td>Laptops</td><td>Acme Electronics</td><td>{price}</td><td>in stock</td></tr>\n")
    };
    let long_name = "X".repeat(10_000);
    let poison = [
        row(900, "Ket&#0;tle", "10.00"),
        row(901, "Poison Price", "9999999999.995"),
        row(902, "Just Under", "9999999999.99"),
        row(903, &long_name, "10.00"),
        row(904, "Comma Price", "12,99"),
    ]
    .concat();
    let at = page.rfind("</tbody>").expect("the page has a tbody");
    std::fs::write(
        &page_path,
        format!("{}{poison}{}", &page[..at], &page[at..]),
    )
    .unwrap();
    let args = local.server.ingest_args();
    ok(local.run(&args.each_ref().map(String::as_str)));
    let report = ok(local.run(&["--env", "local", "--output", "json", "refresh"]));
    assert!(
        report["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "refreshed"),
        "{report}"
    );
    let pg = &local.pg;
    let reason = |item_like: &str| -> String {
        pg.connect("pricewatch")
            .query_one(
                "SELECT reason FROM silver.quarantine WHERE reason <> 'unloadable record' AND CAST(\"raw\" AS JSONB) ->> 'item' LIKE $1",
                &[&item_like],
            )
            .unwrap_or_else(|e| panic!("{item_like}: {e}"))
            .get(0)
    };
    assert_eq!(reason("Poison Price"), "price finer than a cent");
    assert_eq!(reason("Just Under"), "price out of range");
    assert_eq!(reason("XXXXXXXXXX%"), "name too long");
    assert_eq!(
        count(pg, "SELECT COUNT(*) FROM silver.products WHERE item = 'Comma Price' AND sale_price = 12.99"),
        1,
        "12,99 is 12.99"
    );
    assert_eq!(
        count(
            pg,
            "SELECT COUNT(*) FROM silver.products WHERE item LIKE 'Ket%tle'"
        ) + count(
            pg,
            "SELECT COUNT(*) FROM silver.quarantine WHERE \"raw\" LIKE '%Ket%tle%'"
        ),
        1,
        "the NUL row is accounted for"
    );
    // The next, clean snapshot loads and reaches silver.
    local.ingest(&PageSpec { variant: 1, ..spec });
    ok(local.run(&["--env", "local", "refresh"]));
    assert_eq!(
        count(
            pg,
            "SELECT COUNT(DISTINCT snapshot_id) FROM silver.products"
        ),
        2,
        "both snapshots reached silver"
    );
}
