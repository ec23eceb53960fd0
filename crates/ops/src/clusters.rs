//! Rewrites `gold.item_clusters` after a refresh: reads the features,
//! clusters them (the core's k-means) and replaces the table's rows.

use pricewatch_core::clusters::{
    assign, features_sql, parse_features, write_sql, ItemCluster, CLUSTERS_TABLE, FEATURES_MODEL,
};

use crate::warehouse::{Statements, WarehouseError};

/// Reads the features, clusters them and rewrites the table.
pub(crate) async fn recompute(
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
