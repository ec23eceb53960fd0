//! What only the warehouse knows for the catalog: column types from its
//! catalog and each check's latest result.

use pricewatch_core::catalog::{Facts, LastResult};
use pricewatch_core::checks::evaluate::format_value;

use crate::warehouse::{Statements, WarehouseError};

const TYPES_SQL: &str =
    "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute AS a
INNER JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
INNER JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname IN ('bronze', 'silver', 'gold') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY n.nspname, c.relname, a.attnum";

const RESULTS_SQL: &str = "SELECT r.check_name, r.status, CAST(r.observed AS VARCHAR(64)), CAST(r.checked_at AS VARCHAR(32))
FROM pricewatch_meta.check_results AS r
INNER JOIN (
    SELECT check_name, MAX(run_id) AS run_id
    FROM pricewatch_meta.check_results
    GROUP BY check_name
) AS latest ON latest.check_name = r.check_name AND latest.run_id = r.run_id";

/// Column types from the warehouse's catalog and each check's latest result.
pub async fn facts(warehouse: &impl Statements) -> Result<Facts, WarehouseError> {
    let mut facts = Facts::default();
    let cell = |row: &[Option<String>], i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    for row in warehouse
        .query("reading the column types", TYPES_SQL)
        .await?
    {
        facts
            .types
            .entry(format!("{}.{}", cell(&row, 0), cell(&row, 1)))
            .or_default()
            .push((cell(&row, 2), cell(&row, 3)));
    }
    for row in warehouse
        .query("reading the latest check results", RESULTS_SQL)
        .await?
    {
        facts.results.insert(
            cell(&row, 0),
            LastResult {
                status: cell(&row, 1),
                observed: row
                    .get(2)
                    .cloned()
                    .flatten()
                    .map(|v| v.parse::<f64>().map_or(v, |n| format_value(Some(n)))),
                checked_at: cell(&row, 3).chars().take(19).collect(),
            },
        );
    }
    Ok(facts)
}
