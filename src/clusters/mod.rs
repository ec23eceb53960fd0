//! Item clusters: after a refresh pricewatch reads `gold.item_features`,
//! segments the items with k-means over the standardised features and
//! rewrites `gold.item_clusters` in one transaction, each cluster with a
//! label in plain words ("premium & stable").

pub mod kmeans;

use serde::Serialize;

use crate::config::Dialect;
use crate::sql_text::literal;
use crate::warehouse::{Statements, WarehouseError};
use kmeans::Point;

pub const FEATURES_MODEL: &str = "gold.item_features";
pub const CLUSTERS_TABLE: &str = "gold.item_clusters";
/// Rows per INSERT, well inside the Data API's statement size limit.
const ROWS_PER_INSERT: usize = 500;

/// One item's features, as `gold.item_features` gives them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemFeatures {
    pub item: String,
    /// Average price over the category's median item price (1 = median).
    pub price_level: f64,
    /// Coefficient of variation of the average price across snapshots.
    pub volatility: f64,
    /// Share of vendors with the item in stock.
    pub availability: f64,
}

impl ItemFeatures {
    fn point(&self) -> Point {
        [self.price_level, self.volatility, self.availability]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemCluster {
    #[serde(flatten)]
    pub features: ItemFeatures,
    /// 1-based, numbered from the cheapest cluster up.
    pub cluster: u32,
    pub label: String,
}

/// Clusters the items into at most `k` groups. Items are sorted by name
/// first, so the input order does not matter.
pub fn assign(items: &[ItemFeatures], k: usize) -> Vec<ItemCluster> {
    let mut items = items.to_vec();
    items.sort_by(|a, b| a.item.cmp(&b.item));
    let raw: Vec<Point> = items.iter().map(ItemFeatures::point).collect();
    let z = kmeans::standardise(&raw);
    let clustering = kmeans::kmeans(&z, k);
    let labels: Vec<String> = (0..clustering.centroids.len())
        .map(|c| {
            let members: Vec<&Point> = raw
                .iter()
                .zip(&clustering.assignments)
                .filter(|(_, &a)| a == c)
                .map(|(p, _)| p)
                .collect();
            let mut mean = [0.0; 3];
            for p in &members {
                for d in 0..3 {
                    mean[d] += p[d] / members.len() as f64;
                }
            }
            label(&clustering.centroids[c], &mean)
        })
        .collect();
    items
        .into_iter()
        .zip(&clustering.assignments)
        .map(|(features, &c)| ItemCluster {
            features,
            cluster: c as u32 + 1,
            label: labels[c].clone(),
        })
        .collect()
}

/// Plain words for a cluster: relative to the other items (the
/// standardised centroid `z`) and only when the real difference matters
/// (`raw`, the members' mean), so 0.3 % moves are never "volatile".
fn label(z: &Point, raw: &Point) -> String {
    let price = if z[0] > 0.5 && raw[0] > 1.05 {
        "premium"
    } else if z[0] < -0.5 && raw[0] < 0.95 {
        "budget"
    } else {
        "mid-priced"
    };
    let movement = if z[1] > 0.5 && raw[1] >= 0.02 {
        "volatile"
    } else {
        "stable"
    };
    let mut words = format!("{price} & {movement}");
    if z[2] < -0.5 && raw[2] < 0.75 {
        words.push_str(", often out of stock");
    }
    words
}

pub fn features_sql() -> String {
    format!(
        "SELECT item, price_level, volatility, availability FROM {FEATURES_MODEL} ORDER BY item"
    )
}

fn number(value: Option<&String>, item: &str, column: &str) -> Result<f64, WarehouseError> {
    value
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .ok_or_else(|| WarehouseError::Statement {
            context: format!("reading {FEATURES_MODEL}"),
            message: format!("item `{item}` has no numeric {column} ({value:?})"),
        })
}

/// Parses the rows of [`features_sql`].
pub fn parse_features(rows: &[Vec<Option<String>>]) -> Result<Vec<ItemFeatures>, WarehouseError> {
    rows.iter()
        .map(|row| {
            let item = row.first().cloned().flatten().unwrap_or_default();
            Ok(ItemFeatures {
                price_level: number(row.get(1).and_then(Option::as_ref), &item, "price_level")?,
                volatility: number(row.get(2).and_then(Option::as_ref), &item, "volatility")?,
                availability: number(row.get(3).and_then(Option::as_ref), &item, "availability")?,
                item,
            })
        })
        .collect()
}

/// The statements that replace the table's rows (one transaction: the
/// warehouse runs them as one batch).
pub fn write_sql(clusters: &[ItemCluster], computed_at: &str, dialect: Dialect) -> String {
    let lit = |text: &str| literal(text, dialect);
    let mut sql = format!("DELETE FROM {CLUSTERS_TABLE};");
    for chunk in clusters.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|c| {
                format!(
                    "({}, {}, {}, {:?}, {:?}, {:?}, CAST({} AS TIMESTAMP))",
                    lit(&c.features.item),
                    c.cluster,
                    lit(&c.label),
                    c.features.price_level,
                    c.features.volatility,
                    c.features.availability,
                    lit(computed_at)
                )
            })
            .collect();
        sql.push_str(&format!(
            "\nINSERT INTO {CLUSTERS_TABLE} (item, cluster, label, price_level, volatility, availability, computed_at) VALUES\n{};",
            rows.join(",\n")
        ));
    }
    sql
}

/// Reads the features, clusters them and rewrites the table.
pub async fn recompute(
    warehouse: &impl Statements,
    k: usize,
    computed_at: &str,
) -> Result<Vec<ItemCluster>, WarehouseError> {
    let rows = warehouse
        .query(&format!("reading {FEATURES_MODEL}"), &features_sql())
        .await?;
    let clusters = assign(&parse_features(&rows)?, k);
    warehouse
        .execute(
            &format!("writing {CLUSTERS_TABLE}"),
            &write_sql(&clusters, computed_at, warehouse.dialect()),
        )
        .await?;
    Ok(clusters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, price_level: f64, volatility: f64, availability: f64) -> ItemFeatures {
        ItemFeatures {
            item: name.into(),
            price_level,
            volatility,
            availability,
        }
    }

    fn catalogue() -> Vec<ItemFeatures> {
        vec![
            item("lens-pro", 1.6, 0.01, 1.0),
            item("camera-x", 1.5, 0.0, 1.0),
            item("cable", 0.5, 0.12, 0.3),
            item("charger", 0.55, 0.1, 0.25),
            item("laptop-a", 1.0, 0.0, 1.0),
            item("laptop-b", 0.98, 0.005, 0.9),
        ]
    }

    #[test]
    fn segments_and_labels_in_plain_words() {
        let clusters = assign(&catalogue(), 3);
        let of = |name: &str| clusters.iter().find(|c| c.features.item == name).unwrap();
        assert_eq!(of("cable").cluster, of("charger").cluster);
        assert_eq!(of("camera-x").cluster, of("lens-pro").cluster);
        assert_eq!(of("laptop-a").cluster, of("laptop-b").cluster);
        assert_eq!(of("cable").cluster, 1, "the cheapest cluster is 1");
        assert_eq!(of("lens-pro").cluster, 3);
        assert_eq!(of("lens-pro").label, "premium & stable");
        assert_eq!(of("cable").label, "budget & volatile, often out of stock");
        assert_eq!(of("laptop-a").label, "mid-priced & stable");
    }

    #[test]
    fn input_order_does_not_matter() {
        let mut reversed = catalogue();
        reversed.reverse();
        assert_eq!(assign(&catalogue(), 3), assign(&reversed, 3));
    }

    #[test]
    fn rows_parse_and_bad_numbers_are_named() {
        let rows = vec![vec![
            Some("tv".to_string()),
            Some("1.2".into()),
            Some("0".into()),
            Some("0.5".into()),
        ]];
        assert_eq!(
            parse_features(&rows).unwrap(),
            vec![item("tv", 1.2, 0.0, 0.5)]
        );
        let bad = vec![vec![
            Some("tv".to_string()),
            None,
            Some("0".into()),
            Some("1".into()),
        ]];
        let error = parse_features(&bad).unwrap_err().to_string();
        assert!(error.contains("`tv` has no numeric price_level"), "{error}");
    }

    #[test]
    fn write_replaces_every_row_in_one_batch() {
        let clusters = assign(&[item("o'brien", 1.0, 0.0, 1.0)], 3);
        let sql = write_sql(&clusters, "2026-11-25 01:02:03", Dialect::Postgres);
        assert!(sql.starts_with("DELETE FROM gold.item_clusters;"));
        assert!(sql.contains("('o''brien', 1, 'mid-priced & stable', 1.0, 0.0, 1.0, CAST('2026-11-25 01:02:03' AS TIMESTAMP))"), "{sql}");
        let many: Vec<ItemFeatures> = (0..1200)
            .map(|i| item(&format!("i{i}"), 1.0, 0.0, 1.0))
            .collect();
        assert_eq!(
            write_sql(&assign(&many, 2), "t", Dialect::Postgres)
                .matches("INSERT INTO")
                .count(),
            3
        );
    }
}
