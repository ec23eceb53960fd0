//! `pricewatch report` and `pricewatch docs` on the local env (moto +
//! PostgreSQL) after three snapshots: every page is written, the tables
//! show what the gold models hold, the clusters are stable, the site loads
//! in headless Chromium, and publishing to S3 (moto) links pages by
//! presigned URLs.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pricewatch::ingest::fixtures::PageSpec;
use pricewatch::report::{self, CATALOG_PAGE, PAGES};
use support::{LocalEnv, Postgres};

/// Every value as PostgreSQL prints it, as the report reads it.
fn text_rows(pg: &Postgres, sql: &str) -> Vec<Vec<String>> {
    pg.connect("pricewatch")
        .simple_query(sql)
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or_default().to_string())
                    .collect(),
            ),
            _ => None,
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
        .find(&format!("<caption>{caption}</caption>"))
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

/// Debian's Chromium (or Chrome, as on GitHub's runners), when installed;
/// the same list as `BROWSERS` in scripts/lib.sh.
fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Loads a page from disk in headless Chromium: the DOM it built and a
/// screenshot.
fn load_in_chromium(browser: &Path, page: &Path, screenshot: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let args = |extra: &[String]| {
        let mut command = Command::new(browser);
        command.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--hide-scrollbars",
        ]);
        command.arg(format!("--user-data-dir={}", profile.path().display()));
        command.args(extra);
        command.arg(format!("file://{}", page.display()));
        command
    };
    let shot = args(&[
        format!("--screenshot={}", screenshot.display()),
        "--window-size=1280,2400".into(),
    ])
    .output()
    .expect("run chromium");
    assert!(
        shot.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(screenshot).expect("chromium wrote the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    let dom = args(&["--dump-dom".into()]).output().expect("run chromium");
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    String::from_utf8_lossy(&dom.stdout).to_string()
}

#[test]
fn the_report_shows_the_gold_models_and_loads_in_a_browser() {
    let Some(local) = LocalEnv::start() else {
        return;
    };
    let (moto, pg) = (&local.moto, &local.pg);
    let run = |args: &[&str]| local.run(args);
    for (variant, spikes) in [(0, false), (1, false), (2, true)] {
        local.ingest(&PageSpec {
            rows: 120,
            variant,
            spikes,
            broken_ratio: 0.05,
            ..PageSpec::default()
        });
        support::succeeded(run(&["--env", "local", "refresh"]));
        // Snapshot times are whole seconds: keep them apart.
        std::thread::sleep(Duration::from_millis(1100));
    }
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

    let site = tempfile::tempdir().unwrap();
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
        text_rows(
            pg,
            "SELECT vendor, items, avg_price, in_stock_ratio, shipping_cost, review_score, feedback_count FROM gold.vendor_scorecard ORDER BY vendor"
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
        html_table(&read(&out_dir, "recommendations.html"), "Recommended prices and the rule behind each"),
        text_rows(
            pg,
            "SELECT item, category, lowest_price, median_price, vendors, rule, recommended_price FROM gold.price_recommendations ORDER BY item"
        )
    );
    let anomalies = html_table(&read(&out_dir, "anomalies.html"), "Price anomalies");
    assert!(!anomalies.is_empty(), "the spiked snapshot has anomalies");
    assert_eq!(
        anomalies,
        text_rows(
            pg,
            "SELECT item, vendor, observed_at, sale_price, median_price, robust_z FROM gold.price_anomalies ORDER BY ABS(robust_z) DESC, item, vendor, observed_at LIMIT 200"
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
    assert_eq!(
        prices.matches("<svg").count(),
        1 + report::data::TOP_MOVERS,
        "the index chart and one per item that moved most"
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

    // In a browser: the page loads from disk and shows the vendors.
    match chromium() {
        Some(browser) => {
            let screenshot = site.path().join("index.png");
            let dom = load_in_chromium(&browser, &out_dir.join("index.html"), &screenshot);
            assert!(dom.contains("pricewatch · local"), "{dom}");
            assert!(dom.matches("<svg").count() >= 4);
            if let Some(keep) = std::env::var_os("PRICEWATCH_SCREENSHOT") {
                std::fs::copy(&screenshot, keep).unwrap();
            }
        }
        None if std::env::var_os("CI").is_some() => {
            panic!("Chromium is required under CI: run scripts/test.sh to install it")
        }
        None => eprintln!("skipping the browser check: no Chromium (scripts/test.sh installs it)"),
    }

    // A second run replaces the site; a directory of someone else's is refused.
    support::succeeded(run(&[
        "--env",
        "local",
        "report",
        "--out",
        out_dir.to_str().unwrap(),
    ]));
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

#[test]
fn publishing_uploads_links_by_presigned_urls_and_removes_stale_pages() {
    let Some(local) = LocalEnv::start() else {
        return;
    };
    let (moto, pg) = (&local.moto, &local.pg);
    let mut env = support::bundle("local").env;
    env.settings.aws.endpoint_url = Some(moto.endpoint());
    let bucket = env.names().artifacts_bucket.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let published = runtime.block_on(async {
        use pricewatch::cloud::ObjectStore as _;
        let clients = pricewatch::aws::Clients::new(&env).await;
        let warehouse = pricewatch::warehouse::postgres::Postgres::connect(&pg.url())
            .await
            .unwrap();
        let data = report::data::gather(&warehouse, "local", pricewatch::ingest::now_unix())
            .await
            .unwrap();
        clients
            .objects
            .put(&bucket, "report/old.html", b"stale".to_vec(), "text/html")
            .await
            .unwrap();
        report::publish::publish(
            &clients.objects,
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
        use pricewatch::cloud::ObjectStore as _;
        let clients = pricewatch::aws::Clients::new(&env).await;
        !clients
            .objects
            .exists(&bucket, "report/old.html")
            .await
            .unwrap()
    });
    assert!(stale_gone, "the stale page is deleted");
}
