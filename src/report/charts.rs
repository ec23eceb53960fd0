//! The report's charts, from the gathered tables: each one an accessible
//! SVG with a caption and a text alternative listing what it plots.

use std::collections::BTreeMap;

use serde::Serialize;

use super::data::{ReportData, Table};
use super::svg::{self, Caption, Dot, Series};
use crate::ingest::records::epoch_seconds;

/// A chart as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub title: String,
    /// The `<svg>` element.
    pub svg: String,
    /// The same information in words, under the chart.
    pub desc: String,
}

fn chart(id: &str, title: &str, desc: String, draw: impl FnOnce(&Caption) -> String) -> Chart {
    let svg = draw(&Caption {
        id,
        title,
        desc: &desc,
    });
    Chart {
        title: title.to_string(),
        svg,
        desc,
    }
}

/// `11-25 03:47` for a UTC timestamp in seconds.
fn short_time(seconds: f64) -> String {
    let (iso, _) = crate::ingest::records::utc_timestamps(seconds.max(0.0) as u64);
    // 2026-11-25T03:47:53Z → 11-25 03:47
    format!("{} {}", &iso[5..10], &iso[11..16])
}

fn money(value: f64) -> String {
    format!("${value:.2}")
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

/// Every vendor's price over time, one chart per item that moved most.
pub fn price_evolution(data: &ReportData) -> Vec<Chart> {
    let movers = &data.movers;
    (0..movers.rows.len())
        .map(|row| {
            let item = movers.text(row, "item");
            let series = vendor_series(&data.history, item);
            let desc = format!(
                "{item}: average price {} in the first snapshot, {} in the latest ({}%), over {} snapshot(s); {} vendor(s) plotted: {}.",
                money(movers.number(row, "first_price").unwrap_or(0.0)),
                money(movers.number(row, "last_price").unwrap_or(0.0)),
                movers.text(row, "change_pct"),
                movers.text(row, "snapshots"),
                series.len(),
                series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            );
            chart(
                &format!("price-{row}"),
                &format!("{item}: price per vendor"),
                desc,
                |c| svg::line_chart(c, "snapshot (UTC)", "sale price ($)", &series, short_time),
            )
        })
        .collect()
}

/// The movers' average price as an index (first snapshot = 100), so items
/// of very different prices share one axis.
pub fn price_index(data: &ReportData) -> Chart {
    let movers = &data.movers;
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
    let desc = if movers.rows.is_empty() {
        "No prices yet.".to_string()
    } else {
        let moves: Vec<String> = (0..movers.rows.len())
            .map(|r| {
                format!(
                    "{} {}%",
                    movers.text(r, "item"),
                    movers.text(r, "change_pct")
                )
            })
            .collect();
        format!(
            "Average price across vendors, first snapshot = 100. Change from the first to the latest snapshot: {}.",
            moves.join(", ")
        )
    };
    chart(
        "price-index",
        "Items that moved most: price index",
        desc,
        |c| {
            svg::line_chart(
                c,
                "snapshot (UTC)",
                "price index (first = 100)",
                &series,
                short_time,
            )
        },
    )
}

/// One bar per vendor of a scorecard column.
pub fn scorecard_bars(data: &ReportData, column: &str, title: &str, unit: &str) -> Chart {
    let card = &data.scorecard;
    let bars: Vec<(String, f64)> = (0..card.rows.len())
        .filter_map(|r| Some((card.text(r, "vendor").to_string(), card.number(r, column)?)))
        .collect();
    let format = |v: f64| {
        if unit == "$" {
            money(v)
        } else {
            format!("{v:.2}")
        }
    };
    let desc = if bars.is_empty() {
        "No vendor data yet.".to_string()
    } else {
        let listed: Vec<String> = bars
            .iter()
            .map(|(v, x)| format!("{v} {}", format(*x)))
            .collect();
        format!("{title}: {}.", listed.join(", "))
    };
    chart(&format!("vendor-{column}"), title, desc, |c| {
        svg::bar_chart(c, column, &bars, format)
    })
}

/// Items per stock status, one stacked bar per vendor.
pub fn stock_status(data: &ReportData) -> Chart {
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
            "Items per stock status in the latest snapshot. {}.",
            listed.join("; ")
        )
    };
    chart("stock-status", "Stock status by vendor", desc, |c| {
        svg::stacked_bar_chart(c, "items", &parts, &rows)
    })
}

/// Items by price level and volatility, one colour per cluster.
pub fn clusters(data: &ReportData) -> Chart {
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
                x,
                y,
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
        format!(
            "Each item by its price level (1 = its category's median) and price volatility across snapshots. {}.",
            listed.join(", ")
        )
    };
    chart("clusters", "Item clusters", desc, |c| {
        svg::scatter_chart(
            c,
            "price level (category median = 1)",
            "volatility",
            &groups,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::tests::sample;

    #[test]
    fn every_chart_names_its_data_in_words() {
        let data = sample();
        let prices = price_evolution(&data);
        assert_eq!(prices.len(), 1);
        assert!(prices[0].desc.contains("$100.00") && prices[0].desc.contains("$110.00"));
        assert!(
            prices[0].desc.contains("2 vendor(s) plotted: Acme, Bolt"),
            "{}",
            prices[0].desc
        );
        assert_eq!(prices[0].svg.matches("<polyline").count(), 2);

        let index = price_index(&data);
        assert!(index.desc.contains("tv 10.00%"), "{}", index.desc);
        assert!(
            index.svg.contains(">100<") || index.svg.contains(">110<"),
            "{}",
            index.svg
        );

        let scores = scorecard_bars(&data, "review_score", "Review score", "");
        assert!(
            scores.desc.contains("Acme 4.50") && scores.desc.contains("Bolt 3.00"),
            "{}",
            scores.desc
        );

        let stock = stock_status(&data);
        assert!(
            stock.desc.contains("Acme: 2 in_stock, 0 out_of_stock"),
            "{}",
            stock.desc
        );
        assert!(
            stock.desc.contains("Bolt: 0 in_stock, 1 out_of_stock"),
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
        assert!(
            clusters
                .svg
                .contains("tv (cluster 2: premium &amp; stable)"),
            "{}",
            clusters.svg
        );
    }

    #[test]
    fn empty_warehouse_still_draws_every_chart() {
        let data = crate::report::data::tests::empty();
        assert!(price_evolution(&data).is_empty());
        for chart in [
            price_index(&data),
            scorecard_bars(&data, "review_score", "Review score", ""),
            stock_status(&data),
            clusters(&data),
        ] {
            assert!(chart.svg.ends_with("</svg>") && !chart.svg.contains("NaN"));
            assert!(!chart.desc.is_empty());
        }
    }

    #[test]
    fn times_are_short_and_utc() {
        assert_eq!(short_time(1_795_578_473.0), "11-25 03:47");
    }
}
