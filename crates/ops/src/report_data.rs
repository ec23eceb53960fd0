//! What the report shows, read from the warehouse: one query per section
//! (the SQL and the column lists are the core's `report::data`).

use pricewatch_core::checks::evaluate::format_value;
use pricewatch_core::clusters::CLUSTERS_TABLE;
use pricewatch_core::report::data::*;

use crate::warehouse::{Statements, WarehouseError};

async fn table(
    warehouse: &impl Statements,
    section: &str,
    columns: &[&str],
    sql: &str,
) -> Result<Table, WarehouseError> {
    let rows = warehouse
        .query(&format!("reading the report's {section}"), sql)
        .await?;
    Ok(Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    })
}

/// `SELECT a, b FROM model ORDER BY ...` with the column list given once.
async fn select(
    warehouse: &impl Statements,
    section: &str,
    columns: &[&str],
    from_and_order: &str,
) -> Result<Table, WarehouseError> {
    let sql = format!("SELECT {} FROM {from_and_order}", columns.join(", "));
    table(warehouse, section, columns, &sql).await
}

/// Reads every section. `now` is the report's time (unix seconds).
pub async fn gather(
    warehouse: &impl Statements,
    env: &str,
    now: u64,
) -> Result<ReportData, WarehouseError> {
    let overview = table(
        warehouse,
        "overview",
        &[
            "last_snapshot",
            "snapshots",
            "records_ingested",
            "valid_offers",
            "quarantine_ratio",
        ],
        OVERVIEW_SQL,
    )
    .await?;
    let count = |column: &str| {
        overview
            .rows
            .first()
            .map_or(0, |_| overview.number(0, column).unwrap_or(0.0) as i64)
    };
    let last_snapshot = overview
        .rows
        .first()
        .and_then(|r| r[0].clone())
        .map(|t| t.chars().take(19).collect::<String>());
    let freshness_minutes = last_snapshot
        .as_deref()
        .and_then(pricewatch_core::time::epoch_seconds)
        .map(|at| ((now as f64 - at) / 60.0).floor() as i64);
    let overview_data = Overview {
        freshness_minutes,
        snapshots: count("snapshots"),
        records_ingested: count("records_ingested"),
        valid_offers: count("valid_offers"),
        quarantine_ratio: overview
            .rows
            .first()
            .and_then(|_| overview.number(0, "quarantine_ratio")),
        last_snapshot,
    };
    let mut checks = table(warehouse, "check results", &CHECK_COLUMNS, CHECKS_SQL).await?;
    // As `pricewatch check` prints them, not with float noise.
    let observed = checks.column("observed");
    for row in &mut checks.rows {
        if let Some(value) = row[observed].as_deref().and_then(|v| v.parse::<f64>().ok()) {
            row[observed] = Some(format_value(Some(value)));
        }
    }
    let movers = table(
        warehouse,
        "price movers",
        &MOVER_COLUMNS,
        &format!("{MOVERS_SQL}{TOP_MOVERS}"),
    )
    .await?;
    let items: Vec<String> = movers
        .rows
        .iter()
        .filter_map(|r| {
            r[0].as_deref()
                .map(|item| pricewatch_core::sql_text::literal(item, warehouse.dialect()))
        })
        .collect();
    let history = if items.is_empty() {
        Table {
            columns: ["item", "vendor", "observed_at", "sale_price"]
                .map(String::from)
                .to_vec(),
            rows: Vec::new(),
        }
    } else {
        select(
            warehouse,
            "price history",
            &HISTORY_COLUMNS,
            &format!(
                "gold.price_evolution WHERE item IN ({}) ORDER BY item, vendor, observed_at",
                items.join(", ")
            ),
        )
        .await?
    };
    Ok(ReportData {
        env: env.to_string(),
        generated_at: pricewatch_core::time::utc_text(now),
        overview: overview_data,
        checks,
        movers,
        history,
        scorecard: select(
            warehouse,
            "vendor scorecard",
            &SCORECARD_COLUMNS,
            "gold.vendor_scorecard ORDER BY vendor",
        )
        .await?,
        stock: select(
            warehouse,
            "stock status",
            &STOCK_COLUMNS,
            "gold.vendor_stock_latest ORDER BY vendor, category, stock_status",
        )
        .await?,
        hourly: table(warehouse, "hourly prices", &HOURLY_COLUMNS, &hourly_sql()).await?,
        stock_history: table(
            warehouse,
            "stock history",
            &STOCK_HISTORY_COLUMNS,
            &stock_history_sql(),
        )
        .await?,
        recommendations: select(
            warehouse,
            "recommendations",
            &RECOMMENDATION_COLUMNS,
            "gold.price_recommendations ORDER BY item",
        )
        .await?,
        anomalies: select(
            warehouse,
            "anomalies",
            &ANOMALY_COLUMNS,
            &format!("gold.price_anomalies ORDER BY ABS(robust_z) DESC, item, vendor, observed_at LIMIT {ANOMALY_ROWS}"),
        )
        .await?,
        clusters: select(
            warehouse,
            "clusters",
            &CLUSTER_COLUMNS,
            &format!("{CLUSTERS_TABLE} ORDER BY cluster, item"),
        )
        .await?,
    })
}
