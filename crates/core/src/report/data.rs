//! What the report shows: its sections as tables, and the SQL that reads
//! each (plain SQL both dialects run; the operations run it). Values stay the text
//! the warehouse printed (so the site shows exactly what the gold tables
//! hold); charts parse the numbers they plot.

use serde::Serialize;

/// How many items get a price-evolution chart: the ones that moved most.
pub const TOP_MOVERS: usize = 6;
/// Anomalies listed, the largest first.
pub const ANOMALY_ROWS: usize = 200;
/// Hours of hourly prices and stock history shown, up to the latest.
pub(crate) const HOURS_SHOWN: u32 = 48;

/// The columns each section reads, in the order its table shows them.
pub const CHECK_COLUMNS: [&str; 7] = [
    "check_name",
    "model",
    "status",
    "observed",
    "warn_threshold",
    "fail_threshold",
    "checked_at",
];
pub const MOVER_COLUMNS: [&str; 5] = [
    "item",
    "first_price",
    "last_price",
    "change_pct",
    "snapshots",
];
pub const HISTORY_COLUMNS: [&str; 4] = ["item", "vendor", "observed_at", "sale_price"];
pub const SCORECARD_COLUMNS: [&str; 7] = [
    "vendor",
    "items",
    "avg_price",
    "in_stock_ratio",
    "shipping_cost",
    "review_score",
    "feedback_count",
];
pub const STOCK_COLUMNS: [&str; 4] = ["vendor", "category", "stock_status", "items"];
pub const HOURLY_COLUMNS: [&str; 9] = [
    "hour",
    "category",
    "observations",
    "avg_price",
    "min_price",
    "max_price",
    "n_in_stock",
    "n_limited_stock",
    "n_out_of_stock",
];
pub const STOCK_HISTORY_COLUMNS: [&str; 3] = ["hour", "stock_status", "items"];
pub const RECOMMENDATION_COLUMNS: [&str; 7] = [
    "item",
    "category",
    "lowest_price",
    "median_price",
    "vendors",
    "rule",
    "recommended_price",
];
pub const ANOMALY_COLUMNS: [&str; 7] = [
    "item",
    "vendor",
    "observed_at",
    "sale_price",
    "median_price",
    "move_pct",
    "robust_z",
];
pub const CLUSTER_COLUMNS: [&str; 7] = [
    "item",
    "cluster",
    "label",
    "price_level",
    "volatility",
    "availability",
    "computed_at",
];

/// A query result with its column names.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    pub fn column(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("the report's query has no column {name}"))
    }

    /// A cell as text ("" for NULL).
    pub(crate) fn text(&self, row: usize, column: &str) -> &str {
        self.rows[row][self.column(column)].as_deref().unwrap_or("")
    }

    /// A cell as a number (None for NULL or text).
    pub fn number(&self, row: usize, column: &str) -> Option<f64> {
        self.text(row, column).parse().ok()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The newest `observed_at` in silver.products (UTC).
    pub last_snapshot: Option<String>,
    /// Minutes between the newest snapshot and when the report was made.
    pub freshness_minutes: Option<i64>,
    pub snapshots: i64,
    /// Records loaded from the streams (products + vendors): one validated
    /// row each (the reader role sees no bronze).
    pub records_ingested: i64,
    pub valid_offers: i64,
    /// Share of product rows of the latest snapshot that failed validation.
    pub quarantine_ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub env: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub generated_at: String,
    pub overview: Overview,
    /// Each check's latest result (empty when none ran).
    pub checks: Table,
    /// First and last average price of the items that moved most.
    pub movers: Table,
    /// Every snapshot's price per vendor for those items.
    pub history: Table,
    pub scorecard: Table,
    /// The latest hour's stock per vendor, category and status.
    pub stock: Table,
    /// Per hour and category over the last HOURS_SHOWN hours: prices and
    /// stock counts of gold.hourly_prices.
    pub hourly: Table,
    /// Per hour and stock status over the last HOURS_SHOWN hours: items
    /// over all vendors (gold.vendor_stock_status).
    pub stock_history: Table,
    pub recommendations: Table,
    pub anomalies: Table,
    pub clusters: Table,
}

pub const MOVERS_SQL: &str = "WITH per_snapshot AS (
    SELECT item, observed_at, AVG(CAST(sale_price AS DOUBLE PRECISION)) AS avg_price
    FROM gold.price_evolution
    GROUP BY item, observed_at
),
bounds AS (
    SELECT item, MIN(observed_at) AS first_at, MAX(observed_at) AS last_at, COUNT(*) AS snapshots
    FROM per_snapshot
    GROUP BY item
)
SELECT
    b.item,
    CAST(ROUND(CAST(f.avg_price AS NUMERIC(14, 4)), 2) AS NUMERIC(12, 2)) AS first_price,
    CAST(ROUND(CAST(l.avg_price AS NUMERIC(14, 4)), 2) AS NUMERIC(12, 2)) AS last_price,
    CAST(ROUND(CAST((l.avg_price - f.avg_price) * 100.0 / NULLIF(f.avg_price, 0) AS NUMERIC(19, 4)), 2) AS NUMERIC(15, 2)) AS change_pct,
    b.snapshots
FROM bounds AS b
INNER JOIN per_snapshot AS f ON f.item = b.item AND f.observed_at = b.first_at
INNER JOIN per_snapshot AS l ON l.item = b.item AND l.observed_at = b.last_at
ORDER BY COALESCE(ABS((l.avg_price - f.avg_price) / NULLIF(f.avg_price, 0)), 0) DESC, b.item
LIMIT ";

/// The hourly prices per category: each offer's hourly average counts once.
pub fn hourly_sql() -> String {
    format!(
        "SELECT hour, category, SUM(observations) AS observations,
    CAST(AVG(avg_price) AS NUMERIC(12, 2)) AS avg_price,
    MIN(min_price) AS min_price, MAX(max_price) AS max_price,
    SUM(n_in_stock) AS n_in_stock, SUM(n_limited_stock) AS n_limited_stock, SUM(n_out_of_stock) AS n_out_of_stock
FROM gold.hourly_prices
WHERE hour > (SELECT MAX(hour) FROM gold.hourly_prices) - INTERVAL '{HOURS_SHOWN} hours'
GROUP BY hour, category
ORDER BY hour, category"
    )
}

/// The stock history over all vendors.
pub fn stock_history_sql() -> String {
    format!(
        "SELECT hour, stock_status, SUM(items) AS items
FROM gold.vendor_stock_status
WHERE hour > (SELECT MAX(hour) FROM gold.vendor_stock_status) - INTERVAL '{HOURS_SHOWN} hours'
GROUP BY hour, stock_status
ORDER BY hour, stock_status"
    )
}

/// Each check's latest result (a run of `check --select` updates only its
/// own checks).
pub const CHECKS_SQL: &str = "SELECT r.check_name, r.model, r.status, r.observed, r.warn_threshold, r.fail_threshold, r.checked_at
FROM pricewatch_meta.check_results AS r
INNER JOIN (
    SELECT check_name, MAX(run_id) AS run_id
    FROM pricewatch_meta.check_results
    GROUP BY check_name
) AS latest ON latest.check_name = r.check_name AND latest.run_id = r.run_id
ORDER BY r.check_name";

pub const OVERVIEW_SQL: &str = "SELECT
    (SELECT MAX(observed_at) FROM silver.products) AS last_snapshot,
    (SELECT COUNT(DISTINCT snapshot_id) FROM silver.products) AS snapshots,
    (SELECT COUNT(*) FROM silver.products_validated) + (SELECT COUNT(*) FROM silver.vendors_validated) AS records_ingested,
    (SELECT COUNT(*) FROM silver.products) AS valid_offers,
    (SELECT CAST(SUM(CASE WHEN reason IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / NULLIF(COUNT(*), 0)
     FROM silver.products_validated
     WHERE snapshot_id = (SELECT MAX(snapshot_id) FROM silver.products_validated)) AS quarantine_ratio";

/// Sample data for tests (of this crate, and with the `testing` feature of others).
#[cfg(any(test, feature = "testing"))]
pub mod tests {
    use super::*;

    pub(crate) fn table(columns: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|v| Some(v.to_string())).collect())
                .collect(),
        }
    }

    /// Two vendors, one item that rose 10 %, two clusters, one check run.
    pub fn sample() -> ReportData {
        ReportData {
            env: "local".into(),
            generated_at: "2026-11-25 05:00:00".into(),
            overview: Overview {
                last_snapshot: Some("2026-11-25 04:00:00".into()),
                freshness_minutes: Some(60),
                snapshots: 2,
                records_ingested: 8,
                valid_offers: 4,
                quarantine_ratio: Some(0.25),
            },
            checks: table(
                &CHECK_COLUMNS,
                &[
                    &[
                        "fresh",
                        "silver.products",
                        "pass",
                        "3",
                        "> 90",
                        "> 180",
                        "2026-11-25 04:30:00",
                    ],
                    &[
                        "prices_positive",
                        "silver.products",
                        "fail",
                        "1",
                        "> 0",
                        "> 0",
                        "2026-11-25 04:30:00",
                    ],
                ],
            ),
            movers: table(&MOVER_COLUMNS, &[&["tv", "100.00", "110.00", "10.00", "2"]]),
            history: table(
                &HISTORY_COLUMNS,
                &[
                    &["tv", "Acme", "2026-11-25 03:00:00", "100.00"],
                    &["tv", "Acme", "2026-11-25 04:00:00", "110.00"],
                    &["tv", "Bolt", "2026-11-25 03:00:00", "100.00"],
                    &["tv", "Bolt", "2026-11-25 04:00:00", "110.00"],
                ],
            ),
            scorecard: table(
                &SCORECARD_COLUMNS,
                &[
                    &["Acme", "2", "60.00", "1.00", "4.99", "4.5", "120"],
                    &["Bolt", "1", "110.00", "0.00", "0.00", "3.0", "8"],
                ],
            ),
            stock: table(
                &STOCK_COLUMNS,
                &[
                    &["Acme", "TVs", "in_stock", "2"],
                    &["Bolt", "TVs", "out_of_stock", "1"],
                ],
            ),
            hourly: table(
                &HOURLY_COLUMNS,
                &[
                    &[
                        "2026-11-25 03:00:00",
                        "TVs",
                        "2",
                        "100.00",
                        "100.00",
                        "100.00",
                        "1",
                        "0",
                        "1",
                    ],
                    &[
                        "2026-11-25 04:00:00",
                        "TVs",
                        "2",
                        "110.00",
                        "110.00",
                        "110.00",
                        "2",
                        "0",
                        "0",
                    ],
                ],
            ),
            stock_history: table(
                &STOCK_HISTORY_COLUMNS,
                &[
                    &["2026-11-25 03:00:00", "in_stock", "1"],
                    &["2026-11-25 03:00:00", "out_of_stock", "1"],
                    &["2026-11-25 04:00:00", "in_stock", "2"],
                ],
            ),
            recommendations: table(
                &RECOMMENDATION_COLUMNS,
                &[&["tv", "TVs", "110.00", "110.00", "2", "undercut", "108.90"]],
            ),
            anomalies: table(
                &ANOMALY_COLUMNS,
                &[&[
                    "tv",
                    "Bolt",
                    "2026-11-25 04:00:00",
                    "110.00",
                    "100.00",
                    "10.00",
                    "4.2",
                ]],
            ),
            clusters: table(
                &CLUSTER_COLUMNS,
                &[
                    &[
                        "cable",
                        "1",
                        "budget & stable",
                        "0.5",
                        "0",
                        "1",
                        "2026-11-25 04:30:00",
                    ],
                    &[
                        "tv",
                        "2",
                        "premium & stable",
                        "1.5",
                        "0.05",
                        "0.5",
                        "2026-11-25 04:30:00",
                    ],
                ],
            ),
        }
    }

    /// A warehouse with the models but no rows.
    #[cfg(test)]
    pub(crate) fn empty() -> ReportData {
        let mut data = sample();
        for t in [
            &mut data.checks,
            &mut data.movers,
            &mut data.history,
            &mut data.scorecard,
            &mut data.stock,
            &mut data.hourly,
            &mut data.stock_history,
            &mut data.recommendations,
            &mut data.anomalies,
            &mut data.clusters,
        ] {
            t.rows.clear();
        }
        data.overview = Overview {
            last_snapshot: None,
            freshness_minutes: None,
            snapshots: 0,
            records_ingested: 0,
            valid_offers: 0,
            quarantine_ratio: None,
        };
        data
    }
}
