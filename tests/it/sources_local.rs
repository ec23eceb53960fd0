//! Sources as configuration: a copy of the project with a source declared
//! only in environments/defaults.yaml validates, deploys its stream (moto),
//! ingests its page with `ingest --source`, and after `refresh` has its
//! valid rows typed in silver.<source> and its invalid ones in
//! silver.quarantine (PostgreSQL); ten more such sources still validate and
//! deploy, one stream each.

use std::path::Path;

use crate::support::{self, succeeded, Moto, Postgres};
use pricewatch_core::ingest::fixtures::PageSpec;

/// A source of three columns (text, text, decimal) keyed by item and vendor.
fn declaration(name: &str) -> String {
    format!(
        "  {name}:\n    url: http://127.0.0.1:9/{name}.html\n    key: [item, vendor]\n    columns:\n      item: {{header: Item, type: text, required: true}}\n      vendor: {{header: Vendor, type: text, required: true}}\n      price: {{header: Unit Price, type: decimal, required: true}}\n"
    )
}

/// Adds the sources to the copy's environments/defaults.yaml, and nothing else.
fn declare(project: &Path, names: &[&str]) {
    let path = project.join("environments/defaults.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let declared: String = names.iter().map(|n| declaration(n)).collect();
    let text = text.replacen("\nsources:\n", &format!("\nsources:\n{declared}"), 1);
    assert!(
        text.contains(&declaration(names[0])),
        "defaults.yaml has a sources: map"
    );
    std::fs::write(path, text).unwrap();
}

fn streams(moto: &Moto) -> Vec<String> {
    let streams = moto.json_call(
        "kinesis",
        "Kinesis_20131202.ListStreams",
        r#"{"Limit": 100}"#,
    );
    streams["StreamNames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

/// The page: header in another order and case than declared, an extra
/// column, valid rows (a `$1,234.56` and a price with stray spaces), an
/// exact copy, and rows missing an item, with a price that is not a number,
/// and without a price.
const PRICES_PAGE: &str = r#"<html><body><table>
<thead><tr><th>vendor</th><th>ITEM</th><th>Unit  Price</th><th>Note</th></tr></thead>
<tbody>
<tr><td>Acme</td><td>Kettle</td><td>$1,234.56</td><td>a</td></tr>
<tr><td>Acme</td><td>Toaster</td><td> 19.90 </td><td></td></tr>
<tr><td>Bolt</td><td>Kettle</td><td>7</td><td></td></tr>
<tr><td>Acme</td><td>Toaster</td><td> 19.90 </td><td></td></tr>
<tr><td>Acme</td><td></td><td>5.00</td><td></td></tr>
<tr><td>Acme</td><td>Mug</td><td>ten</td><td></td></tr>
<tr><td>Bolt</td><td>Lamp</td><td></td><td></td></tr>
</tbody></table></body></html>
"#;

pub(crate) fn a_source_declared_in_defaults_is_streamed_typed_and_quarantined() {
    let project = support::project_copy();
    declare(project.path(), &["prices"]);
    let moto = Moto::start();
    let pg = Postgres::start();
    let run = |args: &[&str]| {
        succeeded(support::pricewatch_with_warehouse(
            project.path(),
            &moto,
            &pg,
            args,
        ))
    };
    run(&["--env", "local", "validate"]);
    support::deploy_project(project.path(), &moto);
    assert!(
        streams(&moto).contains(&"pricewatch-local-prices".to_string()),
        "{:?}",
        streams(&moto)
    );
    run(&["--env", "local", "sql", "apply"]);

    let pages = tempfile::tempdir().unwrap();
    support::write_pages(
        pages.path(),
        &PageSpec {
            rows: 20,
            ..PageSpec::default()
        },
    );
    let prices = pages.path().join("prices.html");
    std::fs::write(&prices, PRICES_PAGE).unwrap();
    let page = |name: &str| pages.path().join(name).to_str().unwrap().to_string();
    // Every source from the files: the prices page as it is now.
    let ingest = || {
        run(&[
            "--env",
            "local",
            "--output",
            "json",
            "ingest",
            "--source",
            &format!("prices={}", page("prices.html")),
            "--products",
            &page("product_data.html"),
            "--vendors",
            &page("vendor_data.html"),
        ])
    };
    let report = ingest();
    let pushed = report
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "prices")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(pushed["outcome"], "pushed", "{report}");
    assert_eq!(pushed["records_pushed"], 7, "{report}");

    let refreshed = run(&["--env", "local", "--output", "json", "refresh"]);
    let models = refreshed["models"].as_array().unwrap();
    for name in ["bronze.prices", "silver.prices_validated", "silver.prices"] {
        assert!(
            models
                .iter()
                .any(|m| m["model"] == name && m["status"] == "refreshed"),
            "{name}: {refreshed}"
        );
    }

    let mut db = pg.connect("pricewatch");
    let valid: Vec<(String, String, String)> = db
        .query(
            "SELECT item, vendor, CAST(price AS TEXT) FROM silver.prices ORDER BY item, vendor",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let row = |i: &str, v: &str, p: &str| (i.to_string(), v.to_string(), p.to_string());
    assert_eq!(
        valid,
        [
            row("Kettle", "Acme", "1234.5600"),
            row("Kettle", "Bolt", "7.0000"),
            row("Toaster", "Acme", "19.9000"),
        ]
    );
    let reasons: Vec<String> = db
        .query(
            "SELECT reason FROM silver.quarantine WHERE source = 'prices' ORDER BY reason",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        reasons,
        [
            "duplicate",
            "missing item",
            "missing price",
            "unparsable price"
        ]
    );
    // The generated checks run (their key columns quoted) and pass; the
    // page's rows are all accounted for (silver + quarantine), and the
    // case study's own accounting check is not confused by the new source.
    let checked = run(&[
        "--env",
        "local",
        "--output",
        "json",
        "check",
        "--no-publish",
        "--select",
        "prices_one_row_per_key",
        "--select",
        "prices_rows_accounted",
        "--select",
        "snapshot_rows_accounted",
    ]);
    for name in [
        "prices_one_row_per_key",
        "prices_rows_accounted",
        "snapshot_rows_accounted",
    ] {
        assert!(checked.to_string().contains(name), "{name}: {checked}");
    }
    // A row lost between the page and silver fails the accounting check.
    let lost = db
        .execute(
            "DELETE FROM silver.prices WHERE ctid IN (SELECT ctid FROM silver.prices LIMIT 1)",
            &[],
        )
        .unwrap();
    assert_eq!(lost, 1);
    // One check run that must fail (exit 1).
    let fails = |check: &str| {
        let out = support::pricewatch_with_warehouse(
            project.path(),
            &moto,
            &pg,
            &["--env", "local", "check", "--no-publish", "--select", check],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{check}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    };
    fails("prices_rows_accounted");
    let complete: bool = db
        .query_one(
            "SELECT complete FROM silver.snapshots WHERE source = 'prices'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(complete, "the new source's snapshot is complete");
    let runs: i64 = db
        .query_one(
            "SELECT COUNT(*) FROM silver.ingest_runs WHERE source = 'prices' AND outcome = 'pushed' AND page_rows = 7",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(runs, 1, "the run's heartbeat");
    // Its snapshot is in the archive, and backfill finds the warehouse
    // already holds it whole.
    let backfill = run(&[
        "--env",
        "local",
        "--output",
        "json",
        "backfill",
        "--source",
        "prices",
        "--dry-run",
    ]);
    let sources = backfill["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{backfill}");
    assert_eq!(sources[0]["source"], "prices", "{backfill}");
    assert_eq!(sources[0]["snapshots_skipped"], 1, "{backfill}");
    assert_eq!(sources[0]["rows_skipped"], 7, "{backfill}");
    // The case study's sources are untouched by the new one.
    let products: i64 = db
        .query_one("SELECT COUNT(*) FROM silver.products", &[])
        .unwrap()
        .get(0);
    assert!(products > 0);

    // A later page whose every row is invalid: the newest snapshot has no
    // valid rows, and the arriving check says so (although an earlier
    // snapshot had some).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(
        &prices,
        "<table><tr><th>Vendor</th><th>Item</th><th>Unit Price</th></tr><tr><td>Acme</td><td>Kettle</td><td>n/a</td></tr></table>",
    )
    .unwrap();
    ingest();
    run(&["--env", "local", "refresh"]);
    fails("prices_arriving");
}

pub(crate) fn ten_more_sources_validate_and_deploy_a_stream_each() {
    let project = support::project_copy();
    let names: Vec<String> = (1..=11).map(|i| format!("source_{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    declare(project.path(), &names);
    let moto = Moto::start();
    succeeded(support::pricewatch_on(
        project.path(),
        &moto,
        &["--env", "local", "validate"],
    ));
    support::deploy_project(project.path(), &moto);
    let deployed = streams(&moto);
    for name in names.iter().copied().chain(["products", "vendors"]) {
        assert!(
            deployed.contains(&format!("pricewatch-local-{name}")),
            "{name}: {deployed:?}"
        );
    }
    assert_eq!(deployed.len(), 13, "{deployed:?}");
}
