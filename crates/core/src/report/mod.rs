//! `pricewatch report`: a static website of the gold results. [`data`]
//! reads the warehouse, [`charts`] and [`svg`] draw, this module lays the
//! pages out with Tera (templates compiled into the binary, so the site
//! needs nothing but a browser), and [`publish`] puts it in S3.
//!
//! Pages link to each other through a function the caller gives: relative
//! file names on disk, presigned URLs once published (a private bucket
//! serves nothing without a signature).

pub mod charts;
pub mod data;
pub mod format;
pub(crate) mod scale;
pub(crate) mod svg;

use serde::Serialize;
use tera::{Context, Tera};

use charts::Chart;
use data::{ReportData, Table};

/// Every page of the site: file name and the label in the navigation.
pub const PAGES: [(&str, &str); 6] = [
    ("index.html", "Overview"),
    ("prices.html", "Prices"),
    ("vendors.html", "Vendors"),
    ("recommendations.html", "Recommendations"),
    ("anomalies.html", "Anomalies"),
    ("clusters.html", "Clusters"),
];
/// The data catalog's page, when the site includes one.
pub const CATALOG_PAGE: &str = "catalog.html";

/// A file of the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub file: String,
    pub html: String,
}

/// The page files of a site, in navigation order.
pub fn page_files(with_catalog: bool) -> Vec<&'static str> {
    let mut files: Vec<&str> = PAGES.iter().map(|p| p.0).collect();
    if with_catalog {
        files.push(CATALOG_PAGE);
    }
    files
}

fn templates() -> Tera {
    let mut tera = Tera::default();
    tera.add_raw_templates([
        ("base.html", include_str!("templates/base.html")),
        ("table.html", include_str!("templates/table.html")),
        ("chart.html", include_str!("templates/chart.html")),
        ("index.html", include_str!("templates/index.html")),
        ("section.html", include_str!("templates/section.html")),
        ("page.html", include_str!("templates/page.html")),
    ])
    .expect("the report templates compile (tested)");
    tera
}

#[derive(Serialize)]
struct Link {
    /// Already escaped for an attribute (Tera's escaping would also turn
    /// every `/` into an entity).
    href: String,
    label: &'static str,
}

/// A column as the page heads it.
#[derive(Serialize)]
struct Heading {
    name: String,
    header: String,
    numeric: bool,
}

/// A table as the page prints it: numbers in their columns' forms (see
/// [`format`]), NULL as a dash.
#[derive(Serialize)]
struct Shown {
    columns: Vec<Heading>,
    rows: Vec<Vec<String>>,
}

fn shown(table: &Table) -> Shown {
    Shown {
        columns: table
            .columns
            .iter()
            .map(|c| Heading {
                name: c.clone(),
                header: format::header(c),
                numeric: format::numeric(c),
            })
            .collect(),
        rows: table
            .rows
            .iter()
            .map(|r| {
                table
                    .columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| format::cell(c, v.as_deref()))
                    .collect()
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct Captioned {
    /// Unique in the page: labels the table's scrolling region.
    id: &'static str,
    caption: &'static str,
    data: Shown,
}

/// `45 min`, `3 h 5 min`, `2 d 4 h`.
pub(crate) fn age(minutes: i64) -> String {
    match minutes {
        m if m < 0 => "in the future (check the clocks)".into(),
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d {} h", m / (24 * 60), m % (24 * 60) / 60),
    }
}

fn vendors(data: &ReportData) -> Vec<String> {
    let mut names: Vec<String> = (0..data.scorecard.rows.len())
        .map(|r| data.scorecard.text(r, "vendor").to_string())
        .chain((0..data.stock.rows.len()).map(|r| data.stock.text(r, "vendor").to_string()))
        .collect();
    names.sort();
    names.dedup();
    names
}

struct Section {
    file: &'static str,
    intro: String,
    charts: Vec<Chart>,
    tables: Vec<Captioned>,
}

/// The charts the overview shares with other pages, drawn once.
struct SharedCharts {
    price_index: Chart,
    review_score: Chart,
    stock_status: Chart,
    clusters: Chart,
}

impl SharedCharts {
    fn draw(data: &ReportData) -> SharedCharts {
        SharedCharts {
            price_index: charts::price_index(data),
            review_score: charts::scorecard_bars(
                data,
                "review_score",
                "Customer review score by vendor",
            ),
            stock_status: charts::stock_status(data),
            clusters: charts::clusters(data),
        }
    }
}

fn sections(data: &ReportData, shared: &SharedCharts) -> Vec<Section> {
    let anomalies = data.anomalies.rows.len();
    vec![
        Section {
            file: "prices.html",
            intro: format!(
                "The {} item(s) whose average price moved most between their first and latest snapshot, and every vendor's price for them over time; then each category's hourly prices and stock counts over the last {} hours (gold.hourly_prices).",
                data.movers.rows.len(),
                data::HOURS_SHOWN
            ),
            charts: std::iter::once(shared.price_index.clone())
                .chain(charts::price_evolution(data))
                .chain([charts::hourly_prices(data)])
                .collect(),
            tables: vec![
                Captioned {
                    id: "movers",
                    caption: "Items that moved most",
                    data: shown(&data.movers),
                },
                Captioned {
                    id: "hourly",
                    caption: "Hourly prices and stock per category",
                    data: shown(&data.hourly),
                },
            ],
        },
        Section {
            file: "vendors.html",
            intro: format!(
                "{} vendor(s): items, average price and share in stock from the latest products snapshot, shipping cost and reviews from the latest vendors snapshot, what each has in stock, and the stock history hour by hour (each hour's last snapshot, last {} hours).",
                vendors(data).len(),
                data::HOURS_SHOWN
            ),
            charts: vec![
                shared.review_score.clone(),
                charts::scorecard_bars(data, "shipping_cost", "Shipping cost by vendor"),
                shared.stock_status.clone(),
                charts::stock_history(data),
            ],
            tables: vec![
                Captioned {
                    id: "scorecard",
                    caption: "Vendor scorecard",
                    data: shown(&data.scorecard),
                },
                Captioned {
                    id: "stock",
                    caption: "Items per stock status (latest snapshot)",
                    data: shown(&data.stock),
                },
                Captioned {
                    id: "stock-history",
                    caption: "Items per stock status per hour, all vendors",
                    data: shown(&data.stock_history),
                },
            ],
        },
        Section {
            file: "recommendations.html",
            intro: "ElectroWorld's price for each item of the latest products snapshot from its own pricing rules (pricing.rules in the env's configuration): each vendor's best offer gives the lowest and median competitor price, the first rule whose category matches the item sets the price, rounded to cents and held between that rule's floor and ceiling.".into(),
            charts: Vec::new(),
            tables: vec![Captioned {
                id: "recommendations",
                caption: "Recommended prices and the rule behind each",
                data: shown(&data.recommendations),
            }],
        },
        Section {
            file: "anomalies.html",
            intro: format!(
                "{anomalies} price observation(s) far from their own history: each item and vendor's price in a snapshot against the median of that vendor's prices for the item over all snapshots — a robust z-score beyond the env's threshold (its spread never below a share of the median, so a history that barely moved does not make an ordinary move an outlier) and at least the env's minimum move away from the median — largest first.{}",
                if anomalies == data::ANOMALY_ROWS { " At most that many are listed." } else { "" }
            ),
            charts: Vec::new(),
            tables: vec![Captioned {
                id: "anomalies",
                caption: "Price anomalies",
                data: shown(&data.anomalies),
            }],
        },
        Section {
            file: "clusters.html",
            intro: "Items segmented by k-means over price level (against the category median), price volatility across snapshots and the share of vendors with the item in stock; each cluster is named in plain words. Recomputed after every refresh.".into(),
            charts: vec![shared.clusters.clone()],
            tables: vec![Captioned {
                id: "clusters",
                caption: "Item clusters",
                data: shown(&data.clusters),
            }],
        },
    ]
}

/// Renders every page. `href` turns a page file into the link other pages
/// use; `catalog` is the data catalog's HTML fragment, a page of its own
/// when given.
pub fn build(
    data: &ReportData,
    catalog: Option<&str>,
    href: &dyn Fn(&str) -> String,
) -> Result<Vec<Page>, tera::Error> {
    let tera = templates();
    let href = |file: &str| crate::escape::xml(&href(file));
    let mut nav: Vec<Link> = PAGES
        .iter()
        .map(|(file, label)| Link {
            href: href(file),
            label,
        })
        .collect();
    if catalog.is_some() {
        nav.push(Link {
            href: href(CATALOG_PAGE),
            label: "Data catalog",
        });
    }
    let base = |file: &str, title: &str| {
        let mut context = Context::new();
        context.insert("env", &data.env);
        context.insert("generated_at", &data.generated_at);
        context.insert("last_snapshot", &data.overview.last_snapshot);
        context.insert("nav", &nav);
        context.insert("current", &href(file));
        context.insert("page_title", title);
        context.insert("command", &format!("pricewatch report --env {}", data.env));
        context
    };
    let mut pages = Vec::new();

    let mut index = base("index.html", "Overview");
    let count = |s: &str| {
        (0..data.checks.rows.len())
            .filter(|&r| data.checks.text(r, "status") == s)
            .count()
    };
    index.insert("overview", &data.overview);
    index.insert(
        "freshness",
        &data.overview.freshness_minutes.map_or("—".into(), age),
    );
    index.insert(
        "quarantine",
        &data
            .overview
            .quarantine_ratio
            .map_or("—".into(), |r| format!("{:.1} %", r * 100.0)),
    );
    index.insert(
        "check_counts",
        &serde_json::json!({"pass": count("pass"), "warn": count("warn"), "fail": count("fail")}),
    );
    index.insert("checks", &shown(&data.checks));
    let shared = SharedCharts::draw(data);
    index.insert(
        "charts",
        &[
            &shared.price_index,
            &shared.review_score,
            &shared.stock_status,
            &shared.clusters,
        ],
    );
    index.insert("vendors", &vendors(data));
    index.insert("scorecard", &shown(&data.scorecard));
    index.insert("catalog", &catalog.map(|_| href(CATALOG_PAGE)));
    pages.push(Page {
        file: "index.html".into(),
        html: tera.render("index.html", &index)?,
    });

    for section in sections(data, &shared) {
        let label = PAGES
            .iter()
            .find(|p| p.0 == section.file)
            .expect("every section is a page")
            .1;
        let mut context = base(section.file, label);
        context.insert("intro", &section.intro);
        context.insert("charts", &section.charts);
        context.insert("tables", &section.tables);
        pages.push(Page {
            file: section.file.into(),
            html: tera.render("section.html", &context)?,
        });
    }
    if let Some(body) = catalog {
        let mut context = base(CATALOG_PAGE, "Data catalog");
        context.insert("body", body);
        pages.push(Page {
            file: CATALOG_PAGE.into(),
            html: tera.render("page.html", &context)?,
        });
    }
    Ok(pages)
}

/// A page of its own (no navigation) in the report's look, for
/// `pricewatch docs`.
pub fn standalone(
    env: &str,
    generated_at: &str,
    title: &str,
    body: &str,
) -> Result<String, tera::Error> {
    let mut context = Context::new();
    context.insert("env", env);
    context.insert("generated_at", generated_at);
    context.insert("last_snapshot", &None::<String>);
    context.insert("nav", &Vec::<Link>::new());
    context.insert("current", "");
    context.insert("page_title", title);
    context.insert("body", body);
    context.insert("command", &format!("pricewatch docs --env {env}"));
    templates().render("page.html", &context)
}

/// Marks a directory as written by `pricewatch report` and lists the files
/// it wrote: a later run removes only those; any other non-empty
/// directory is left alone.
pub const MARKER: &str = ".pricewatch-report";

#[cfg(test)]
mod tests {
    use super::*;
    use data::tests::{empty, sample};

    fn page<'a>(pages: &'a [Page], file: &str) -> &'a str {
        &pages.iter().find(|p| p.file == file).unwrap().html
    }

    #[test]
    fn every_page_is_written_and_linked() {
        let pages = build(&sample(), None, &|f| f.to_string()).unwrap();
        let files: Vec<&str> = pages.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, page_files(false));
        for p in &pages {
            assert!(p.html.starts_with("<!DOCTYPE html>"), "{}", p.file);
            for (file, _) in PAGES {
                assert!(
                    p.html.contains(&format!("href=\"{file}\"")),
                    "{} links {file}",
                    p.file
                );
            }
            assert!(p
                .html
                .contains(&format!("<a href=\"{}\" aria-current=\"page\">", p.file)));
            assert!(!p.html.contains("<script"), "no scripts");
            assert!(
                !p.html.contains("http://")
                    || p.html.matches("http://").count()
                        == p.html.matches("http://www.w3.org/2000/svg").count(),
                "no external requests in {}",
                p.file
            );
        }
    }

    #[test]
    fn the_overview_names_vendors_checks_and_has_four_charts() {
        let pages = build(&sample(), None, &|f| f.to_string()).unwrap();
        let index = page(&pages, "index.html");
        assert!(index.contains("Acme, Bolt"), "every vendor named");
        assert!(index.matches("<svg").count() >= 4);
        assert!(index.contains("1 passed, 0 warned, 1 failed"));
        assert!(index.contains("status-fail"));
        assert!(index.contains("1 h 0 min") && index.contains("25.0 %"));
        assert!(page(&pages, "recommendations.html").contains("108.90"));
        assert!(page(&pages, "recommendations.html").contains("undercut"));
        assert!(page(&pages, "anomalies.html").contains("4.2"));
        assert!(page(&pages, "clusters.html").contains("premium &amp; stable"));
        // The index, the one item that moved, the hourly prices.
        assert_eq!(page(&pages, "prices.html").matches("<svg").count(), 3);
        assert!(page(&pages, "vendors.html").contains("id=\"stock-history\""));
    }

    #[test]
    fn links_come_from_the_caller_and_the_catalog_joins_the_nav() {
        let signed =
            |f: &str| format!("https://bucket.example/report/{f}?X-Amz-Signature=abc&amp=1");
        let pages = build(&sample(), Some("<h2>Data catalog</h2>"), &signed).unwrap();
        assert_eq!(pages.last().unwrap().file, CATALOG_PAGE);
        assert!(page(&pages, CATALOG_PAGE).contains("<h2>Data catalog</h2>"));
        assert!(page(&pages, CATALOG_PAGE).contains("aria-current=\"page\">Data catalog"));
        let index = page(&pages, "index.html");
        assert!(
            index.contains(
                "href=\"https://bucket.example/report/prices.html?X-Amz-Signature=abc&amp;amp=1\""
            ),
            "links are escaped"
        );
        assert!(index.contains("report/catalog.html"));
    }

    #[test]
    fn an_empty_warehouse_says_what_to_run() {
        let pages = build(&empty(), None, &|f| f.to_string()).unwrap();
        let index = page(&pages, "index.html");
        assert!(index.contains("pricewatch check --env local"));
        assert!(index.contains("none yet"));
        assert!(page(&pages, "anomalies.html").contains("No rows."));
    }

    #[test]
    fn one_snapshot_shows_a_sentence_not_a_lone_dot() {
        let mut data = sample();
        data.history
            .rows
            .retain(|r| r[2].as_deref() == Some("2026-11-25 03:00:00"));
        data.overview.snapshots = 1;
        let pages = build(&data, None, &|f| f.to_string()).unwrap();
        data.hourly.rows.truncate(1);
        for file in ["index.html", "prices.html"] {
            assert!(page(&pages, file).contains(charts::ONE_SNAPSHOT), "{file}");
        }
        assert_eq!(page(&pages, "prices.html").matches("<svg").count(), 1);
        let pages = build(&data, None, &|f| f.to_string()).unwrap();
        assert!(page(&pages, "prices.html").contains(charts::ONE_HOUR));
        assert_eq!(page(&pages, "prices.html").matches("<svg").count(), 0);
    }

    #[test]
    fn tables_show_numbers_for_people() {
        let pages = build(&sample(), None, &|f| f.to_string()).unwrap();
        let index = page(&pages, "index.html");
        assert!(index.contains("<th scope=\"col\" class=\"num\">in stock</th>"));
        assert!(
            index.contains("<td class=\"num\">100 %</td>"),
            "in_stock_ratio 1.00"
        );
        let clusters = page(&pages, "clusters.html");
        assert!(
            clusters.contains("<td class=\"num\">150 %</td>"),
            "price_level 1.5"
        );
        assert!(page(&pages, "vendors.html").contains("<td>out of stock</td>"));
        // Every table scrolls inside a region a keyboard can reach, named by
        // its caption.
        for p in &pages {
            assert_eq!(
                p.html
                    .matches("<section class=\"table-wrap\" tabindex=\"0\" aria-labelledby=")
                    .count(),
                p.html.matches("<table>").count(),
                "{}",
                p.file
            );
        }
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(5), "5 min");
        assert_eq!(age(185), "3 h 5 min");
        assert_eq!(age(2 * 24 * 60 + 240), "2 d 4 h");
    }
}
