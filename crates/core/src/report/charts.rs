//! The report's charts, from the gathered tables: each one an accessible
//! SVG with a caption and a text alternative listing what it plots. A
//! chart that would say nothing yet (one snapshot: nothing has changed)
//! is a sentence saying when it will.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::data::{ReportData, Table};
use super::format;
use super::svg::{self, Caption, Dot, Series};
use crate::time::epoch_seconds;

/// What a change-over-time chart shows before there is a second snapshot.
pub(crate) const ONE_SNAPSHOT: &str = "One snapshot so far: changes appear after the next.";

/// What an hourly chart shows while every snapshot falls in one hour.
pub const ONE_HOUR: &str =
    "One hour so far: the hourly chart appears once snapshots span two hours.";

/// A chart as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Chart {
    pub title: String,
    /// The `<svg>` element; None when there is nothing to draw yet and
    /// `desc` says why.
    pub svg: Option<String>,
    /// The same information in words, under the chart.
    pub(crate) desc: String,
}

fn chart(id: &str, title: &str, desc: String, draw: impl FnOnce(&Caption) -> String) -> Chart {
    let svg = draw(&Caption {
        id,
        title,
        desc: &desc,
    });
    Chart {
        title: title.to_string(),
        svg: Some(svg),
        desc,
    }
}

fn money(value: f64) -> String {
    format!("${}", format::cell("sale_price", Some(&value.to_string())))
}

/// One (time, price) series per vendor of an item, from the history table.
fn vendor_series(history: &Table, item: &str) -> Vec<Series> {
    let mut by_vendor: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in 0..history.rows.len() {
        if history.text(row, "item") != item {
            continue;
        }
        let (Some(at), Some(price)) = (
            epoch_seconds(history.text(row, "observed_at")),
            history.number(row, "sale_price"),
        ) else {
            continue;
        };
        by_vendor
            .entry(history.text(row, "vendor").to_string())
            .or_default()
            .push((at, price));
    }
    by_vendor
        .into_iter()
        .map(|(name, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series { name, points }
        })
        .collect()
}

/// How many snapshots the price history spans.
fn snapshots(history: &Table) -> usize {
    (0..history.rows.len())
        .map(|r| history.text(r, "observed_at"))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Every vendor's price over time, one chart per item that moved most;
/// none before a second snapshot (the price index says so).
pub(crate) fn price_evolution(data: &ReportData) -> Vec<Chart> {
    if snapshots(&data.history) < 2 {
        return Vec::new();
    }
    let movers = &data.movers;
    (0..movers.rows.len())
        .map(|row| {
            let item = movers.text(row, "item");
            let series = vendor_series(&data.history, item);
            let desc = format!(
                "{item}: average price across vendors {} in the first snapshot, {} in the latest ({}), over {} snapshots; {} vendor(s) plotted: {}.",
                money(movers.number(row, "first_price").unwrap_or(0.0)),
                money(movers.number(row, "last_price").unwrap_or(0.0)),
                format::cell("change_pct", movers.rows[row][movers.column("change_pct")].as_deref()),
                movers.text(row, "snapshots"),
                series.len(),
                series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            );
            chart(
                &format!("price-{row}"),
                &format!("{item}: price per vendor"),
                desc,
                |c| svg::time_chart(c, "sale price ($)", &series, money),
            )
        })
        .collect()
}

/// The movers' average price as an index (first snapshot = 100), so items
/// of very different prices share one axis.
pub(crate) fn price_index(data: &ReportData) -> Chart {
    const TITLE: &str = "Items that moved most: price index";
    let movers = &data.movers;
    if movers.rows.is_empty() || snapshots(&data.history) < 2 {
        return Chart {
            title: TITLE.to_string(),
            svg: None,
            desc: if movers.rows.is_empty() {
                "No prices yet: run `pricewatch ingest` and `pricewatch refresh`.".to_string()
            } else {
                ONE_SNAPSHOT.to_string()
            },
        };
    }
    let mut series = Vec::new();
    for row in 0..movers.rows.len() {
        let item = movers.text(row, "item");
        let mut per_time: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
        for s in vendor_series(&data.history, item) {
            for (at, price) in s.points {
                let entry = per_time.entry(at as i64).or_default();
                entry.0 += price;
                entry.1 += 1;
            }
        }
        let averages: Vec<(f64, f64)> = per_time
            .into_iter()
            .map(|(at, (sum, n))| (at as f64, sum / n as f64))
            .collect();
        let Some(&(_, first)) = averages.first().filter(|(_, p)| *p > 0.0) else {
            continue;
        };
        series.push(Series {
            name: item.to_string(),
            points: averages
                .iter()
                .map(|&(at, p)| (at, p / first * 100.0))
                .collect(),
        });
    }
    let moves: Vec<String> = (0..movers.rows.len())
        .map(|r| {
            format!(
                "{} {}",
                movers.text(r, "item"),
                format::cell(
                    "change_pct",
                    movers.rows[r][movers.column("change_pct")].as_deref()
                )
            )
        })
        .collect();
    let desc = format!(
        "Average price across vendors, first snapshot = 100. Change from the first to the latest snapshot: {}.",
        moves.join(", ")
    );
    chart("price-index", TITLE, desc, |c| {
        svg::time_chart(c, "price index (first = 100)", &series, |v| {
            format!("{v:.1}")
        })
    })
}

/// One bar per vendor of a scorecard column.
pub(crate) fn scorecard_bars(data: &ReportData, column: &str, title: &str) -> Chart {
    let card = &data.scorecard;
    let bars: Vec<(String, f64)> = (0..card.rows.len())
        .filter_map(|r| Some((card.text(r, "vendor").to_string(), card.number(r, column)?)))
        .collect();
    let shown = |v: f64| {
        let text = format::cell(column, Some(&v.to_string()));
        if format::column(column).1 == format::Kind::Money {
            format!("${text}")
        } else {
            text
        }
    };
    let desc = if bars.is_empty() {
        "No vendor data yet.".to_string()
    } else {
        let listed: Vec<String> = bars
            .iter()
            .map(|(v, x)| format!("{v} {}", shown(*x)))
            .collect();
        format!("{title}: {}.", listed.join(", "))
    };
    chart(&format!("vendor-{column}"), title, desc, |c| {
        svg::bar_chart(c, &format::header(column), &bars, shown)
    })
}

/// Items per stock status, one stacked bar per vendor.
pub(crate) fn stock_status(data: &ReportData) -> Chart {
    let stock = &data.stock;
    let mut parts: Vec<String> = (0..stock.rows.len())
        .map(|r| stock.text(r, "stock_status").to_string())
        .collect();
    parts.sort();
    parts.dedup();
    let mut rows: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in 0..stock.rows.len() {
        let values = rows
            .entry(stock.text(r, "vendor").to_string())
            .or_insert_with(|| vec![0.0; parts.len()]);
        let part = parts
            .iter()
            .position(|p| p == stock.text(r, "stock_status"))
            .expect("every status is a part");
        values[part] += stock.number(r, "items").unwrap_or(0.0);
    }
    let rows: Vec<(String, Vec<f64>)> = rows.into_iter().collect();
    let parts: Vec<String> = parts.iter().map(|p| p.replace('_', " ")).collect();
    let desc = if rows.is_empty() {
        "No stock data yet.".to_string()
    } else {
        let listed: Vec<String> = rows
            .iter()
            .map(|(vendor, values)| {
                let counts: Vec<String> = parts
                    .iter()
                    .zip(values)
                    .map(|(p, v)| format!("{v} {p}"))
                    .collect();
                format!("{vendor}: {}", counts.join(", "))
            })
            .collect();
        format!(
            "Items per stock status in the latest snapshot, all categories. {}.",
            listed.join("; ")
        )
    };
    chart("stock-status", "Stock status by vendor", desc, |c| {
        svg::stacked_bar_chart(c, "items in the latest snapshot", &parts, &rows)
    })
}

/// One (hour, value) series per distinct `key` of an hourly table, and how
/// many hours it spans.
fn hourly_series(table: &Table, key: &str, value: &str) -> (Vec<Series>, usize) {
    let mut by_key: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut hours = BTreeSet::new();
    for r in 0..table.rows.len() {
        let (Some(at), Some(y)) = (epoch_seconds(table.text(r, "hour")), table.number(r, value))
        else {
            continue;
        };
        hours.insert(table.text(r, "hour"));
        by_key
            .entry(table.text(r, key).replace('_', " "))
            .or_default()
            .push((at, y));
    }
    let series = by_key
        .into_iter()
        .map(|(name, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series { name, points }
        })
        .collect();
    (series, hours.len())
}

/// A line per series of its first and last value, for a chart's words.
fn first_to_last(series: &[Series], shown: impl Fn(f64) -> String) -> String {
    series
        .iter()
        .filter_map(|s| {
            let (first, last) = (s.points.first()?, s.points.last()?);
            Some(format!("{} {} → {}", s.name, shown(first.1), shown(last.1)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A chart that has nothing to draw yet, and says why.
fn sentence(title: &str, desc: &str) -> Chart {
    Chart {
        title: title.to_string(),
        svg: None,
        desc: desc.to_string(),
    }
}

/// The average hourly price per category (gold.hourly_prices).
pub(crate) fn hourly_prices(data: &ReportData) -> Chart {
    const TITLE: &str = "Average hourly price per category";
    let (series, hours) = hourly_series(&data.hourly, "category", "avg_price");
    match hours {
        0 => sentence(TITLE, "No hourly prices yet."),
        1 => sentence(TITLE, ONE_HOUR),
        _ => {
            let desc = format!(
                "Average of every offer's hourly average price, per category, over {hours} hours (first to latest hour): {}.",
                first_to_last(&series, money)
            );
            chart("hourly-prices", TITLE, desc, |c| {
                svg::time_chart(c, "average price ($)", &series, money)
            })
        }
    }
}

/// Items in each stock status per hour, over all vendors
/// (gold.vendor_stock_status: each hour's last snapshot).
pub(crate) fn stock_history(data: &ReportData) -> Chart {
    const TITLE: &str = "Stock status per hour, all vendors";
    let (series, hours) = hourly_series(&data.stock_history, "stock_status", "items");
    let count = |v: f64| format::cell("items", Some(&v.to_string()));
    match hours {
        0 => sentence(TITLE, "No stock history yet."),
        1 => sentence(TITLE, ONE_HOUR),
        _ => {
            let desc = format!(
                "Items listed in each stock status in the last snapshot of each hour, all vendors together, over {hours} hours (first to latest hour): {}.",
                first_to_last(&series, count)
            );
            chart("stock-history", TITLE, desc, |c| {
                svg::time_chart(c, "items", &series, count)
            })
        }
    }
}

/// Items by price level and volatility (both as percentages), one colour
/// and marker per cluster.
pub(crate) fn clusters(data: &ReportData) -> Chart {
    let table = &data.clusters;
    let mut groups: BTreeMap<(i64, String), Vec<Dot>> = BTreeMap::new();
    for r in 0..table.rows.len() {
        let (Some(cluster), Some(x), Some(y)) = (
            table.number(r, "cluster"),
            table.number(r, "price_level"),
            table.number(r, "volatility"),
        ) else {
            continue;
        };
        groups
            .entry((cluster as i64, table.text(r, "label").to_string()))
            .or_default()
            .push(Dot {
                name: table.text(r, "item").to_string(),
                x: x * 100.0,
                y: y * 100.0,
            });
    }
    let groups: Vec<(String, Vec<Dot>)> = groups
        .into_iter()
        .map(|((n, label), dots)| (format!("cluster {n}: {label}"), dots))
        .collect();
    let desc = if groups.is_empty() {
        "No clusters yet: run `pricewatch refresh`.".to_string()
    } else {
        let listed: Vec<String> = groups
            .iter()
            .map(|(name, dots)| format!("{name} ({} item(s))", dots.len()))
            .collect();
        let single = if data.overview.snapshots < 2 {
            " With one snapshot so far every volatility is 0 %: it shows after the next."
        } else {
            ""
        };
        format!(
            "Each item by its average price as a percentage of its category's median item price, and its price volatility across snapshots (coefficient of variation). {}.{single}",
            listed.join(", ")
        )
    };
    let percent = |v: f64| format!("{} %", format::percent(v));
    chart("clusters", "Item clusters", desc, |c| {
        svg::scatter_chart(
            c,
            ("price, % of category median", "volatility (%)"),
            &groups,
            (percent, percent),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::tests::sample;
    use crate::report::svg::tests::assert_inside;

    #[test]
    fn every_chart_names_its_data_in_words() {
        let data = sample();
        let prices = price_evolution(&data);
        assert_eq!(prices.len(), 1);
        assert!(
            prices[0].desc.contains("$100.00") && prices[0].desc.contains("$110.00"),
            "{}",
            prices[0].desc
        );
        assert!(
            prices[0].desc.contains("2 vendor(s) plotted: Acme, Bolt"),
            "{}",
            prices[0].desc
        );
        let svg = prices[0].svg.as_deref().unwrap();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_inside(svg);

        let index = price_index(&data);
        assert!(index.desc.contains("tv +10 %"), "{}", index.desc);
        let svg = index.svg.as_deref().unwrap();
        assert!(svg.contains(">100<") && svg.contains(">110<"), "{svg}");
        assert_inside(svg);

        let scores = scorecard_bars(&data, "review_score", "Review score");
        assert!(
            scores.desc.contains("Acme 4.5") && scores.desc.contains("Bolt 3"),
            "{}",
            scores.desc
        );
        let shipping = scorecard_bars(&data, "shipping_cost", "Shipping");
        assert!(shipping.desc.contains("Acme $4.99"), "{}", shipping.desc);

        let stock = stock_status(&data);
        assert!(
            stock.desc.contains("Acme: 2 in stock, 0 out of stock"),
            "{}",
            stock.desc
        );
        assert!(
            stock.desc.contains("Bolt: 0 in stock, 1 out of stock"),
            "{}",
            stock.desc
        );

        let clusters = clusters(&data);
        assert!(
            clusters
                .desc
                .contains("cluster 1: budget & stable (1 item(s))"),
            "{}",
            clusters.desc
        );
        let svg = clusters.svg.as_deref().unwrap();
        assert!(svg.contains("tv (cluster 2: premium &amp; stable): price, % of category median 150 %, volatility (%) 5.0 %"), "{svg}");
        assert_inside(svg);
    }

    /// The lines (one per series) and the marks (one per point) of a chart.
    fn lines_and_marks(svg: &str) -> (usize, usize) {
        (
            svg.matches("<polyline class=\"series\"").count(),
            svg.matches("<path class=\"mark\"").count(),
        )
    }

    #[test]
    fn hourly_charts_draw_each_series_inside_their_frames() {
        let data = sample();
        let prices = hourly_prices(&data);
        let svg = prices.svg.as_deref().expect("two hours: a chart");
        // One category over two hours: one line with a mark per hour.
        assert_eq!(lines_and_marks(svg), (1, 2), "{svg}");
        assert_eq!(assert_inside(svg), 4, "two vertices and two marks");
        assert!(
            prices.desc.contains("over 2 hours") && prices.desc.contains("TVs $100.00 → $110.00"),
            "{}",
            prices.desc
        );

        let stock = stock_history(&data);
        let svg = stock.svg.as_deref().expect("two hours: a chart");
        // In stock in both hours, out of stock only in the first.
        assert_eq!(lines_and_marks(svg), (2, 3), "{svg}");
        assert_eq!(assert_inside(svg), 6, "three vertices and three marks");
        assert!(
            stock.desc.contains("in stock 1 → 2") && stock.desc.contains("out of stock 1 → 1"),
            "{}",
            stock.desc
        );
    }

    #[test]
    fn hourly_charts_over_a_day_stay_inside_their_frames() {
        // 30 hours across midnight, two categories and three stock
        // statuses, prices from cents to thousands.
        let start = 1_795_575_600; // 2026-11-25 03:00:00 UTC
        let mut data = sample();
        data.hourly.rows.clear();
        data.stock_history.rows.clear();
        for h in 0..30u64 {
            let hour = crate::time::utc_text(start + 3600 * h);
            for (category, price) in [
                ("TVs", 999.0 + h as f64 * 40.0),
                ("Cables", 0.05 * h as f64),
            ] {
                let price = format!("{price:.2}");
                let row = [
                    hour.as_str(),
                    category,
                    "2",
                    &price,
                    &price,
                    &price,
                    "1",
                    "0",
                    "1",
                ];
                data.hourly
                    .rows
                    .push(row.iter().map(|v| Some(v.to_string())).collect());
            }
            for (status, items) in [
                ("in_stock", 40 + h),
                ("limited_stock", h % 3),
                ("out_of_stock", 5),
            ] {
                let row = [hour.clone(), status.to_string(), items.to_string()];
                data.stock_history
                    .rows
                    .push(row.into_iter().map(Some).collect());
            }
        }
        let prices = hourly_prices(&data);
        let svg = prices.svg.as_deref().expect("30 hours: a chart");
        assert_eq!(lines_and_marks(svg), (2, 60), "{svg}");
        assert_eq!(assert_inside(svg), 120);
        assert!(prices.desc.contains("over 30 hours"), "{}", prices.desc);

        let stock = stock_history(&data);
        let svg = stock.svg.as_deref().expect("30 hours: a chart");
        assert_eq!(lines_and_marks(svg), (3, 90), "{svg}");
        assert_eq!(assert_inside(svg), 180);
        assert!(stock.desc.contains("limited stock 0 → 2"), "{}", stock.desc);
    }

    #[test]
    fn one_snapshot_says_when_changes_will_show() {
        let mut data = sample();
        data.history
            .rows
            .retain(|r| r[2].as_deref() == Some("2026-11-25 03:00:00"));
        data.overview.snapshots = 1;
        assert!(price_evolution(&data).is_empty());
        let index = price_index(&data);
        assert_eq!(index.svg, None);
        assert_eq!(index.desc, ONE_SNAPSHOT);
        assert!(clusters(&data).desc.contains("every volatility is 0 %"));
    }

    #[test]
    fn empty_warehouse_still_draws_every_chart() {
        let data = crate::report::data::tests::empty();
        assert!(price_evolution(&data).is_empty());
        assert!(price_index(&data).desc.contains("No prices yet"));
        for chart in [
            scorecard_bars(&data, "review_score", "Review score"),
            stock_status(&data),
            clusters(&data),
        ] {
            let svg = chart.svg.unwrap();
            assert!(svg.ends_with("</svg>") && !svg.contains("NaN"));
            assert!(!chart.desc.is_empty());
        }
    }
}
