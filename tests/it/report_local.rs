//! `pricewatch report` and `pricewatch docs` on the local env (moto +
//! PostgreSQL). After two snapshots of held-out pages and a check run, the
//! site and the catalog are judged by third-party validators as a reader's
//! browser sees them: html-validate (recommended, document and a11y
//! presets), axe-core (`@axe-core/cli`, WCAG 2.0/2.1 A and AA) and
//! `scripts/site-check.mjs` (links, chart geometry, text size, non-empty
//! renders, axe at a phone width), all in Debian's Chromium. After a third
//! snapshot: every page is written, the tables show what the gold models
//! hold, the clusters are stable, and publishing to S3 (moto) links pages
//! by presigned URLs.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{LocalEnv, Postgres};
use pricewatch_core::ingest::fixtures::PageSpec;
use pricewatch_core::report::{self, CATALOG_PAGE, PAGES};

/// Every value as PostgreSQL prints it, as the report reads it (NULL as "").
fn text_rows(pg: &Postgres, sql: &str) -> Vec<Vec<String>> {
    nullable_rows(pg, sql)
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

fn nullable_rows(pg: &Postgres, sql: &str) -> Vec<Vec<Option<String>>> {
    pg.connect("pricewatch")
        .simple_query(sql)
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// The rows of `SELECT columns FROM rest`, each value in the form the
/// report's table shows its column (format::cell is unit-tested on its own).
fn shown_rows(pg: &Postgres, columns: &[&str], rest: &str) -> Vec<Vec<String>> {
    nullable_rows(pg, &format!("SELECT {} FROM {rest}", columns.join(", ")))
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .zip(row)
                .map(|(c, v)| report::format::cell(c, v.as_deref()))
                .collect()
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// The body rows of the table with this caption, each cell's text.
fn html_table(page: &str, caption: &str) -> Vec<Vec<String>> {
    let start = page
        .find(&format!("\">{caption}</caption>"))
        .unwrap_or_else(|| panic!("no table `{caption}`"));
    let body = &page[start..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let text = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                    // Drop inner tags (the status badge).
                    let mut plain = String::new();
                    let mut in_tag = false;
                    for c in text.chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => plain.push(c),
                            _ => {}
                        }
                    }
                    unescape(&plain)
                })
                .collect()
        })
        .collect()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn clusters(pg: &Postgres) -> Vec<Vec<String>> {
    text_rows(
        pg,
        "SELECT item, cluster, label, price_level, volatility, availability FROM gold.item_clusters ORDER BY item",
    )
}

/// The site's judges (see [`support::site_tools`]).
struct Validators {
    bin: PathBuf,
    browser: PathBuf,
    chromedriver: PathBuf,
}

impl Validators {
    fn find() -> Validators {
        let tools =
            support::site_tools().expect("the site tools are installed (probed by Need::Browser)");
        Validators {
            bin: tools.bin,
            browser: tools.browser,
            chromedriver: tools.chromedriver,
        }
    }

    /// Runs a validator; its whole output when it fails.
    fn run(&self, what: &str, command: &mut Command) -> String {
        let out = command
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            // Selenium never fetches a browser or driver: both are given.
            .env("SE_OFFLINE", "true")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{what} failed ({}):\n{text}",
            out.status
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Every page must pass all three: 0 html-validate messages, 0 axe
    /// violations, 0 site-check problems.
    fn judge(&self, pages: &[PathBuf], shots: Option<&Path>) {
        let project = support::project_dir();
        self.run(
            "html-validate",
            Command::new(self.bin.join("html-validate"))
                .arg("--config")
                .arg(project.join("scripts/htmlvalidate.json"))
                .args(["--formatter", "text", "--max-warnings", "0"])
                .args(pages),
        );
        let urls: Vec<String> = pages
            .iter()
            .map(|p| format!("file://{}", p.display()))
            .collect();
        let axe = self.run(
            "axe-core",
            Command::new(self.bin.join("axe"))
                .args(&urls)
                .arg("--chromedriver-path")
                .arg(&self.chromedriver)
                .arg("--chrome-path")
                .arg(&self.browser)
                .arg("--chrome-options=no-sandbox,disable-gpu,disable-dev-shm-usage,no-first-run,disable-background-networking,disable-component-update,disable-sync")
                .args(["--tags", "wcag2a,wcag2aa,wcag21a,wcag21aa", "--exit"]),
        );
        assert_eq!(
            axe.matches("0 violations found!").count(),
            pages.len(),
            "axe judged every page and found nothing:\n{axe}"
        );
        let mut check = Command::new("node");
        check
            .arg(project.join("scripts/site-check.mjs"))
            .arg("--chrome")
            .arg(&self.browser)
            .arg("--chromedriver")
            .arg(&self.chromedriver);
        if let Some(dir) = shots {
            check.arg("--shots").arg(dir);
        }
        let summary = self.run("scripts/site-check.mjs", check.args(pages));
        let summary: serde_json::Value = serde_json::from_str(summary.trim())
            .unwrap_or_else(|e| panic!("site-check printed no summary ({e}): {summary}"));
        for width in summary["widths"].as_array().unwrap() {
            assert!(width["charts"].as_u64().unwrap() >= 10, "{summary}");
            assert!(width["marks"].as_u64().unwrap() > 100, "{summary}");
            assert!(width["links"].as_u64().unwrap() > 50, "{summary}");
            assert!(width["minFontPx"].as_f64().unwrap() >= 12.0, "{summary}");
        }
    }
}

/// Pages of held-out data: a seed no other test or the demo uses.
fn held_out(variant: u32, spikes: bool) -> PageSpec {
    PageSpec {
        rows: 120,
        seed: 2323,
        variant,
        spikes,
        broken_ratio: 0.05,
        ..PageSpec::default()
    }
}

pub(crate) fn the_report_shows_the_gold_models_and_loads_in_a_browser() {
    let local = LocalEnv::start();
    let (moto, pg) = (&local.moto, &local.pg);
    let run = |args: &[&str]| local.run(args);
    let snapshot = |variant, spikes| {
        local.ingest(&held_out(variant, spikes));
        support::succeeded(run(&["--env", "local", "refresh"]));
        // Snapshot times are whole seconds: keep them apart.
        std::thread::sleep(Duration::from_millis(1100));
    };
    let site = tempfile::tempdir().unwrap();

    // Two snapshots three hours apart (the first backdated once loaded, then
    // every model rebuilt) and a check run: the site and the catalog as the
    // validators judge them, the hourly and stock-history charts drawn over
    // hours.
    snapshot(0, false);
    pg.backdate(3);
    support::succeeded(run(&["--env", "local", "refresh", "--full"]));
    snapshot(1, true);
    let _ = run(&["--env", "local", "check"]);
    let judged = site.path().join("judged");
    for (command, dir) in [("report", "report"), ("docs", "docs")] {
        let out = judged.join(dir);
        support::succeeded(run(&[
            "--env",
            "local",
            command,
            "--out",
            out.to_str().unwrap(),
        ]));
    }
    let mut pages: Vec<PathBuf> = PAGES
        .iter()
        .map(|p| p.0)
        .chain([CATALOG_PAGE])
        .map(|file| judged.join("report").join(file))
        .collect();
    pages.push(judged.join("docs/catalog.html"));
    // PRICEWATCH_SITE_OUT keeps the judged site (even when judged wrong)
    // and screenshots of every page at both widths (docs/report.md's
    // picture comes from there).
    let keep = std::env::var_os("PRICEWATCH_SITE_OUT").map(PathBuf::from);
    if let Some(keep) = &keep {
        for page in &pages {
            let to = keep.join(page.strip_prefix(&judged).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(page, to).unwrap();
        }
    }
    Validators::find().judge(&pages, keep.map(|k| k.join("shots")).as_deref());

    snapshot(2, true);
    // Check results go to the history the report reads (a failing check is
    // fine here); a later run of one check leaves the others' results shown.
    let _ = run(&["--env", "local", "check"]);
    let _ = run(&["--env", "local", "check", "--select", "products_fresh"]);

    // Clusters: one row per item, the same after refreshing the same data.
    let first = clusters(pg);
    let items = text_rows(
        pg,
        "SELECT DISTINCT item FROM gold.item_features ORDER BY item",
    );
    assert_eq!(
        first.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        items.concat(),
        "one row per item"
    );
    support::succeeded(run(&["--env", "local", "refresh"]));
    assert_eq!(clusters(pg), first, "same data, same clusters");

    let out_dir = site.path().join("report");
    let written = support::succeeded(run(&[
        "--env",
        "local",
        "--output",
        "json",
        "report",
        "--out",
        out_dir.to_str().unwrap(),
    ]));
    let files: Vec<&str> = PAGES.iter().map(|p| p.0).chain([CATALOG_PAGE]).collect();
    assert_eq!(written["pages"], serde_json::json!(files));
    for file in &files {
        assert!(out_dir.join(file).exists(), "{file} written");
    }

    let index = read(&out_dir, "index.html");
    let vendors = text_rows(
        pg,
        "SELECT vendor FROM gold.vendor_scorecard ORDER BY vendor",
    );
    assert!(vendors.len() >= 3);
    for vendor in vendors.concat() {
        assert!(
            unescape(&index).contains(&vendor),
            "index names vendor {vendor}"
        );
    }
    assert!(
        index.matches("<svg").count() >= 4,
        "at least 4 charts on the index"
    );
    assert_eq!(
        html_table(&index, "Vendor scorecard (latest snapshots)"),
        shown_rows(
            pg,
            &report::data::SCORECARD_COLUMNS,
            "gold.vendor_scorecard ORDER BY vendor"
        )
    );
    let checks = html_table(&index, "Latest check results");
    let recorded = text_rows(
        pg,
        "SELECT DISTINCT ON (check_name) check_name, status FROM pricewatch_meta.check_results ORDER BY check_name, run_id DESC",
    );
    assert_eq!(recorded.len(), support::bundle("local").checks.len());
    assert_eq!(
        checks
            .iter()
            .map(|r| vec![r[0].clone(), r[2].clone()])
            .collect::<Vec<_>>(),
        recorded
    );

    assert_eq!(
        html_table(
            &read(&out_dir, "recommendations.html"),
            "Recommended prices and the rule behind each"
        ),
        shown_rows(
            pg,
            &report::data::RECOMMENDATION_COLUMNS,
            "gold.price_recommendations ORDER BY item"
        )
    );
    let anomalies = html_table(&read(&out_dir, "anomalies.html"), "Price anomalies");
    assert!(!anomalies.is_empty(), "the spiked snapshots have anomalies");
    assert_eq!(
        anomalies,
        shown_rows(
            pg,
            &report::data::ANOMALY_COLUMNS,
            "gold.price_anomalies ORDER BY ABS(robust_z) DESC, item, vendor, observed_at LIMIT 200"
        )
    );
    let shown_clusters = html_table(&read(&out_dir, "clusters.html"), "Item clusters");
    assert_eq!(shown_clusters.len(), first.len());
    for row in &shown_clusters {
        let stored = first.iter().find(|r| r[0] == row[0]).unwrap();
        assert_eq!(
            (&row[1], &row[2]),
            (&stored[1], &stored[2]),
            "cluster and label of {}",
            row[0]
        );
    }
    let prices = read(&out_dir, "prices.html");
    // The first snapshot is three hours before the others: the hourly
    // chart is drawn (and was judged by the validators above).
    let hours: usize = text_rows(pg, "SELECT COUNT(DISTINCT hour) FROM gold.hourly_prices")[0][0]
        .parse()
        .unwrap();
    assert!(hours >= 2, "{hours} hour(s)");
    assert_eq!(
        prices.matches("<svg").count(),
        1 + report::data::TOP_MOVERS + 1,
        "the index chart, one per item that moved most, the hourly prices"
    );
    assert!(!prices.contains(report::charts::ONE_HOUR));
    // The hourly tables and the latest stock, as the gold models hold them
    // (the per-category sums written here apart from the report's query).
    assert_eq!(
        html_table(&prices, "Hourly prices and stock per category"),
        shown_rows(
            pg,
            &report::data::HOURLY_COLUMNS,
            "(SELECT h.hour, h.category, SUM(h.observations) AS observations, \
             CAST(AVG(h.avg_price) AS NUMERIC(12, 2)) AS avg_price, MIN(h.min_price) AS min_price, \
             MAX(h.max_price) AS max_price, SUM(h.n_in_stock) AS n_in_stock, \
             SUM(h.n_limited_stock) AS n_limited_stock, SUM(h.n_out_of_stock) AS n_out_of_stock \
             FROM gold.hourly_prices AS h GROUP BY h.hour, h.category) AS per_category \
             ORDER BY hour, category"
        )
    );
    let vendors_page = read(&out_dir, "vendors.html");
    assert!(
        !vendors_page.contains(report::charts::ONE_HOUR),
        "the stock history is drawn over the hours"
    );
    assert_eq!(
        html_table(&vendors_page, "Items per stock status (latest snapshot)"),
        shown_rows(
            pg,
            &report::data::STOCK_COLUMNS,
            "gold.vendor_stock_status WHERE observed_at = (SELECT MAX(observed_at) FROM silver.products) \
             ORDER BY vendor, category, stock_status"
        )
    );
    assert_eq!(
        html_table(
            &vendors_page,
            "Items per stock status per hour, all vendors"
        ),
        shown_rows(
            pg,
            &report::data::STOCK_HISTORY_COLUMNS,
            "(SELECT hour, stock_status, SUM(items) AS items FROM gold.vendor_stock_status \
             GROUP BY hour, stock_status) AS per_status ORDER BY hour, stock_status"
        )
    );
    let catalog = read(&out_dir, CATALOG_PAGE);
    for model in support::bundle("local").models {
        assert!(
            catalog.contains(&format!("<h3>{}</h3>", model.name)),
            "{}",
            model.name
        );
    }
    assert!(
        index.contains("href=\"catalog.html\""),
        "the overview links the catalog"
    );

    // A second run replaces the site's own files and keeps the user's; a
    // directory of someone else's is refused.
    std::fs::write(out_dir.join("notes.txt"), "not the report's").unwrap();
    support::succeeded(run(&[
        "--env",
        "local",
        "report",
        "--out",
        out_dir.to_str().unwrap(),
    ]));
    assert_eq!(read(&out_dir, "notes.txt"), "not the report's");
    let foreign = site.path().join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep me").unwrap();
    let refused = run(&[
        "--env",
        "local",
        "report",
        "--out",
        foreign.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not empty"));
    assert_eq!(read(&foreign, "notes.txt"), "keep me");

    // --publish on local writes the directory only and says so.
    moto.start_recording();
    let out = run(&[
        "--env",
        "local",
        "report",
        "--publish",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not published"));
    assert!(
        !moto.recorded_actions().iter().any(|a| a.starts_with("PUT")),
        "nothing uploaded"
    );

    // The catalog command: every model in the Mermaid lineage, types from PostgreSQL.
    let docs_dir = site.path().join("docs");
    let docs = support::succeeded(run(&[
        "--env",
        "local",
        "--output",
        "json",
        "docs",
        "--out",
        docs_dir.to_str().unwrap(),
    ]));
    assert_eq!(docs["from_warehouse"], true);
    let markdown = read(&docs_dir, "catalog.md");
    let mermaid =
        &markdown[markdown.find("```mermaid").unwrap()..markdown.find("## Models").unwrap()];
    for model in support::bundle("local").models {
        let id = model.name.replace('.', "_");
        assert!(
            mermaid.contains(&format!("    {id}[")),
            "{} in the lineage",
            model.name
        );
        for input in &model.depends_on {
            assert!(mermaid.contains(&format!("{} --> {id}", input.replace('.', "_"))));
        }
    }
    assert!(markdown.contains("| observations | bigint |"), "{markdown}");
    assert!(
        !markdown.contains("| not run |"),
        "every check has a result"
    );
    assert!(read(&docs_dir, "catalog.html").contains("<svg"));
}

pub(crate) fn publishing_uploads_links_by_presigned_urls_and_removes_stale_pages() {
    let local = LocalEnv::start();
    let (moto, pg) = (&local.moto, &local.pg);
    let mut env = support::bundle("local").env;
    env.settings.aws.endpoint_url = Some(moto.endpoint());
    let bucket = env.names().artifacts_bucket.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let published = runtime.block_on(async {
        use pricewatch_core::cloud::ObjectStore as _;
        let aws = pricewatch_aws::Context::for_env(&env).await;
        let objects = aws.objects().await.unwrap();
        let warehouse = pricewatch_ops::warehouse::postgres::Postgres::connect(
            &pg.url(),
            &env.settings.timeouts,
        )
        .await
        .unwrap();
        let data = pricewatch_ops::report_data::gather(
            &warehouse,
            "local",
            pricewatch_core::time::now_unix(),
        )
        .await
        .unwrap();
        objects
            .put(&bucket, "report/old.html", b"stale".to_vec(), "text/html")
            .await
            .unwrap();
        pricewatch_ops::report_publish::publish(
            objects,
            &bucket,
            &data,
            Some("<h2>Data catalog</h2>"),
            Duration::from_secs(3600),
        )
        .await
        .unwrap()
    });
    assert_eq!(published.uploaded.len(), PAGES.len() + 1);
    assert_eq!(published.removed, vec!["report/old.html"]);
    assert!(
        published.url.contains("X-Amz-Signature="),
        "{}",
        published.url
    );
    assert!(
        published.url.contains("X-Amz-Expires=3600"),
        "{}",
        published.url
    );

    // The presigned URL serves the index, which links its pages the same way.
    let mut response = ureq::get(&published.url)
        .call()
        .expect("GET the presigned index");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(content_type, "text/html; charset=utf-8");
    let index = response.body_mut().read_to_string().unwrap();
    assert!(
        index.contains("/report/vendors.html?"),
        "presigned page links"
    );
    assert!(index.contains("X-Amz-Signature="));
    let stale_gone = runtime.block_on(async {
        use pricewatch_core::cloud::ObjectStore as _;
        let aws = pricewatch_aws::Context::for_env(&env).await;
        !aws.objects()
            .await
            .unwrap()
            .exists(&bucket, "report/old.html")
            .await
            .unwrap()
    });
    assert!(stale_gone, "the stale page is deleted");
}
