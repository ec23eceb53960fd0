//! Checks as SQL: every selected check becomes one row of a single UNION ALL
//! statement `(check_name, observed)`, so a whole run is one warehouse round
//! trip; `explain-check` also gets the query listing a check's bad rows.

use super::{Check, Kind};
use crate::config::names::quoted_identifier;
use crate::config::Dialect;
use crate::sql_text::literal;

fn number(value: f64) -> String {
    // Debug formatting keeps a decimal point and never uses exponents for
    // the magnitudes thresholds have.
    format!("{value:?}")
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

// Every checked column is a quoted identifier: a declared source's column
// may be named like a keyword (`order`), and one check that does not parse
// would stop the whole run's single statement. Check columns are validated
// against the model's columns (plain lowercase names), so quoting keeps
// their meaning in both dialects.
fn identifiers(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quoted_identifier(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows a check looks at, as conditions (its `where`, and the latest
/// snapshot for a quarantine ratio).
fn scope(check: &Check) -> Vec<String> {
    let mut conditions: Vec<String> = check.filter.iter().map(|f| format!("({f})")).collect();
    if check.kind == Kind::QuarantineRatio {
        conditions.push(format!(
            "snapshot_id = (SELECT MAX(snapshot_id) FROM {})",
            check.model
        ));
    }
    conditions
}

/// The condition a bad row meets, for checks that count rows.
fn violation(kind: &Kind, dialect: Dialect) -> Option<String> {
    match kind {
        Kind::NotNull { columns } => Some(format!(
            "({})",
            columns
                .iter()
                .map(|c| format!("{} IS NULL", quoted_identifier(c)))
                .collect::<Vec<_>>()
                .join(" OR ")
        )),
        Kind::AcceptedValues { column, values } => Some(format!(
            "{column} IS NOT NULL AND {column} NOT IN ({})",
            values
                .iter()
                .map(|v| literal(v, dialect))
                .collect::<Vec<_>>()
                .join(", "),
            column = quoted_identifier(column)
        )),
        Kind::Range { column, min, max } => {
            let column = quoted_identifier(column);
            let mut outside = Vec::new();
            if let Some(min) = min {
                outside.push(format!("{column} < {}", number(*min)));
            }
            if let Some(max) = max {
                outside.push(format!("{column} > {}", number(*max)));
            }
            Some(format!("({})", outside.join(" OR ")))
        }
        Kind::QuarantineRatio => Some("reason IS NOT NULL".into()),
        _ => None,
    }
}

/// `SELECT '<name>' AS check_name, <observed> AS observed ...` for one check.
pub fn observed_sql(check: &Check, dialect: Dialect) -> String {
    let name = literal(&check.name, dialect);
    let as_double = |expr: String| format!("CAST({expr} AS DOUBLE PRECISION)");
    let model = &check.model;
    let mut conditions = scope(check);
    let (value, from) = match &check.kind {
        Kind::RowCount => (as_double("COUNT(*)".into()), model.clone()),
        Kind::Freshness { column } => {
            let column = quoted_identifier(column);
            let minutes = match dialect {
                Dialect::Postgres => format!(
                    "EXTRACT(EPOCH FROM (CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP) - MAX({column}))) / 60.0"
                ),
                Dialect::Redshift => format!("DATEDIFF(second, MAX({column}), GETDATE()) / 60.0"),
            };
            (as_double(minutes), model.clone())
        }
        Kind::Unique { columns } => {
            let columns = identifiers(columns);
            let grouped = format!(
                "(SELECT COUNT(*) AS copies FROM {model}{} GROUP BY {columns} HAVING COUNT(*) > 1) AS duplicates",
                where_clause(&conditions)
            );
            conditions.clear();
            (as_double("COALESCE(SUM(copies - 1), 0)".into()), grouped)
        }
        Kind::QuarantineRatio => (
            as_double(format!(
                "COALESCE(CAST(SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / NULLIF(COUNT(*), 0), 0)",
                violation(&check.kind, dialect).expect("a ratio has a violation")
            )),
            model.clone(),
        ),
        Kind::CustomSql { sql } => {
            return format!("SELECT {name} AS check_name, {} AS observed", as_double(format!("({sql})")));
        }
        kind => {
            conditions.push(violation(kind, dialect).expect("row checks have a violation"));
            (as_double("COUNT(*)".into()), model.clone())
        }
    };
    format!(
        "SELECT {name} AS check_name, {value} AS observed FROM {from}{}",
        where_clause(&conditions)
    )
}

/// One statement returning one row per check.
pub fn batch_sql(checks: &[Check], dialect: Dialect) -> String {
    checks
        .iter()
        .map(|c| observed_sql(c, dialect))
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n")
}

/// The query listing a check's bad rows (at most `limit`) and its column
/// names: the model's rows for row checks, the duplicated keys for
/// uniqueness, a sample for a row count. None for freshness and custom SQL,
/// which measure the model as a whole.
pub fn violations_sql(
    check: &Check,
    model_columns: &[String],
    limit: u32,
    dialect: Dialect,
) -> Option<(String, Vec<String>)> {
    let mut conditions = scope(check);
    match &check.kind {
        Kind::Unique { columns } => {
            let listed = identifiers(columns);
            let mut headers = columns.clone();
            headers.push("copies".into());
            Some((
                format!(
                    "SELECT {listed}, COUNT(*) AS copies FROM {}{} GROUP BY {listed} HAVING COUNT(*) > 1 ORDER BY copies DESC LIMIT {limit}",
                    check.model,
                    where_clause(&conditions)
                ),
                headers,
            ))
        }
        Kind::Freshness { .. } | Kind::CustomSql { .. } => None,
        kind => {
            conditions.extend(violation(kind, dialect));
            Some((
                format!(
                    "SELECT * FROM {}{} LIMIT {limit}",
                    check.model,
                    where_clause(&conditions)
                ),
                model_columns.to_vec(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Bounds;

    fn check(kind: Kind) -> Check {
        Check {
            name: "c".into(),
            description: String::new(),
            owner: String::new(),
            runbook: String::new(),
            model: "silver.products".into(),
            kind,
            filter: None,
            warn: Bounds::default(),
            fail: Bounds {
                min: None,
                max: Some(0.0),
            },
        }
    }

    #[test]
    fn each_kind_compiles_to_one_row() {
        let not_null = check(Kind::NotNull {
            columns: vec!["item".into(), "vendor".into()],
        });
        assert_eq!(
            observed_sql(&not_null, Dialect::Postgres),
            "SELECT 'c' AS check_name, CAST(COUNT(*) AS DOUBLE PRECISION) AS observed FROM silver.products WHERE (\"item\" IS NULL OR \"vendor\" IS NULL)"
        );
        let mut values = check(Kind::AcceptedValues {
            column: "stock_status".into(),
            values: vec!["in_stock".into(), "it's".into()],
        });
        values.filter = Some("vendor <> 'x'".into());
        assert_eq!(
            observed_sql(&values, Dialect::Redshift),
            "SELECT 'c' AS check_name, CAST(COUNT(*) AS DOUBLE PRECISION) AS observed FROM silver.products WHERE (vendor <> 'x') AND \"stock_status\" IS NOT NULL AND \"stock_status\" NOT IN ('in_stock', 'it''s')"
        );
        let unique = check(Kind::Unique {
            columns: vec!["item".into(), "snapshot_id".into()],
        });
        assert_eq!(
            observed_sql(&unique, Dialect::Postgres),
            "SELECT 'c' AS check_name, CAST(COALESCE(SUM(copies - 1), 0) AS DOUBLE PRECISION) AS observed FROM (SELECT COUNT(*) AS copies FROM silver.products GROUP BY \"item\", \"snapshot_id\" HAVING COUNT(*) > 1) AS duplicates"
        );
        let range = check(Kind::Range {
            column: "sale_price".into(),
            min: Some(0.01),
            max: None,
        });
        assert!(observed_sql(&range, Dialect::Postgres).ends_with("WHERE (\"sale_price\" < 0.01)"));
    }

    #[test]
    fn freshness_is_minutes_in_each_dialect() {
        let fresh = check(Kind::Freshness {
            column: "observed_at".into(),
        });
        assert!(observed_sql(&fresh, Dialect::Postgres).contains("EXTRACT(EPOCH FROM (CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP) - MAX(\"observed_at\"))) / 60.0"));
        assert!(observed_sql(&fresh, Dialect::Redshift)
            .contains("DATEDIFF(second, MAX(\"observed_at\"), GETDATE()) / 60.0"));
    }

    #[test]
    fn a_run_is_one_statement_and_ratios_look_at_the_latest_snapshot() {
        let mut ratio = check(Kind::QuarantineRatio);
        ratio.model = "silver.products_validated".into();
        let batch = batch_sql(&[ratio.clone(), check(Kind::RowCount)], Dialect::Postgres);
        assert_eq!(batch.matches("UNION ALL").count(), 1);
        assert!(!batch.contains(';'));
        assert!(batch.contains(
            "WHERE snapshot_id = (SELECT MAX(snapshot_id) FROM silver.products_validated)"
        ));
        let columns = vec!["reason".to_string()];
        assert_eq!(
            violations_sql(&ratio, &columns, 5, Dialect::Postgres).unwrap(),
            (
                "SELECT * FROM silver.products_validated WHERE snapshot_id = (SELECT MAX(snapshot_id) FROM silver.products_validated) AND reason IS NOT NULL LIMIT 5".to_string(),
                columns.clone()
            )
        );
        let fresh = check(Kind::Freshness {
            column: "observed_at".into(),
        });
        assert_eq!(violations_sql(&fresh, &columns, 5, Dialect::Postgres), None);
        let custom = check(Kind::CustomSql {
            sql: "SELECT COUNT(*) FROM gold.x WHERE y < 0".into(),
        });
        assert_eq!(
            observed_sql(&custom, Dialect::Postgres),
            "SELECT 'c' AS check_name, CAST((SELECT COUNT(*) FROM gold.x WHERE y < 0) AS DOUBLE PRECISION) AS observed"
        );
    }
}
