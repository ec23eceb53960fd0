//! Item clusters: after a refresh pricewatch reads `gold.item_features`,
//! segments the items with k-means over the standardised features and
//! rewrites `gold.item_clusters` in one transaction, each cluster with a
//! label in plain words ("premium & stable").

pub(crate) mod kmeans;

use serde::Serialize;

use crate::cloud::WarehouseError;
use crate::config::Dialect;
use crate::sql_text::literal;
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
    pub(crate) price_level: f64,
    /// Coefficient of variation of the average price across snapshots.
    pub(crate) volatility: f64,
    /// Share of vendors with the item in stock.
    pub(crate) availability: f64,
}

impl ItemFeatures {
    fn point(&self) -> Point {
        [self.price_level, self.volatility, self.availability]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemCluster {
    #[serde(flatten)]
    pub(crate) features: ItemFeatures,
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
    let labels = distinct(labels, &clustering.centroids);
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

/// Rank words per feature (price, volatility, availability): for two
/// clusters (lower, higher) and for more (lowest, middle, highest).
const RANKS: [([&str; 2], [&str; 3]); 3] = [
    (
        ["lower prices", "higher prices"],
        ["lowest prices", "middle prices", "highest prices"],
    ),
    (
        ["steadier", "moves more"],
        ["steadiest", "middle movement", "moves most"],
    ),
    (
        ["less often in stock", "more often in stock"],
        [
            "least often in stock",
            "middling stock",
            "most often in stock",
        ],
    ),
];

/// Labels that read the same get told apart: among such clusters, the
/// feature on which their (standardised) centroids differ most names each
/// one's rank ("budget & stable, lower prices" and "..., higher prices").
fn distinct(mut labels: Vec<String>, centroids: &[Point]) -> Vec<String> {
    let mut groups: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (c, label) in labels.iter().enumerate() {
        groups.entry(label.clone()).or_default().push(c);
    }
    for (label, mut members) in groups {
        if members.len() < 2 {
            continue;
        }
        let spread = |d: usize| {
            let values = members.iter().map(|&c| centroids[c][d]);
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            hi - lo
        };
        let feature = (0..3)
            .max_by(|&a, &b| spread(a).total_cmp(&spread(b)))
            .expect("three features");
        members.sort_by(|&a, &b| centroids[a][feature].total_cmp(&centroids[b][feature]));
        let (two, more) = RANKS[feature];
        let n = members.len();
        for (rank, &c) in members.iter().enumerate() {
            let words = match (n, rank) {
                (2, r) => two[r].to_string(),
                (_, 0) => more[0].to_string(),
                (_, r) if r == n - 1 => more[2].to_string(),
                (3, _) => more[1].to_string(),
                (_, r) => format!("{} ({} of {n})", more[1], r + 1),
            };
            labels[c] = format!("{label}, {words}");
        }
    }
    labels
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
    fn clusters_that_read_the_same_are_told_apart() {
        // Two budget groups, both stable and in stock, one cheaper.
        let items = vec![
            item("a1", 0.30, 0.0, 1.0),
            item("a2", 0.31, 0.0, 1.0),
            item("b1", 0.60, 0.0, 1.0),
            item("b2", 0.61, 0.0, 1.0),
            item("c1", 2.00, 0.0, 1.0),
            item("c2", 2.10, 0.0, 1.0),
        ];
        let clusters = assign(&items, 3);
        let of = |name: &str| clusters.iter().find(|c| c.features.item == name).unwrap();
        assert_eq!(of("a1").label, "budget & stable, lower prices");
        assert_eq!(of("b1").label, "budget & stable, higher prices");
        assert_eq!(of("c1").label, "premium & stable");
    }

    #[test]
    fn many_alike_clusters_still_get_distinct_labels() {
        let centroids = vec![
            [0.0, 0.0, 0.0],
            [0.0, 0.0, 3.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 2.0],
        ];
        let labels = distinct(vec!["x".to_string(); 4], &centroids);
        assert_eq!(
            labels,
            [
                "x, least often in stock",
                "x, most often in stock",
                "x, middling stock (2 of 4)",
                "x, middling stock (3 of 4)"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn cluster_labels_are_unique(
            features in proptest::collection::vec((0.1..3.0f64, 0.0..0.3f64, 0.0..1.0f64), 1..40),
            k in 1..7usize,
        ) {
            let items: Vec<ItemFeatures> = features
                .iter()
                .enumerate()
                .map(|(i, &(p, v, a))| item(&format!("i{i}"), p, v, a))
                .collect();
            let clusters = assign(&items, k);
            let mut by_cluster = std::collections::BTreeMap::new();
            for c in &clusters {
                by_cluster.insert(c.cluster, c.label.clone());
            }
            let mut labels: Vec<&String> = by_cluster.values().collect();
            let count = labels.len();
            labels.sort();
            labels.dedup();
            proptest::prop_assert_eq!(labels.len(), count, "{:?}", by_cluster);
        }
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
