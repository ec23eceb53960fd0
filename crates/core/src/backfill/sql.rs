//! The statements of a backfill, per dialect. PostgreSQL: inserts into the
//! stream's landing table, keyed so that loading twice adds nothing.
//! Redshift: COPY of one day's archive objects into the source's staging
//! table (`FORMAT JSON 'noshred'`: each line becomes one SUPER value), then
//! the planned snapshots into `bronze.<source>_history`, each its own
//! statement (Redshift restricts COPY in multi-statement requests, and a
//! Data API statement may be a session of its own). docs/decisions.md cites
//! the COPY rules.

use super::window::Window;
use crate::config::Dialect;
use crate::ingest::records::{Record, Source};
use crate::limits::MAX_RECORD_BYTES;
use crate::render::{json_integer, json_text};
use crate::sql_text::{literal, now_utc};

/// Landing-table rows per INSERT statement.
const ROWS_PER_STATEMENT: usize = 500;
/// Snapshot ids per COPY batch: keeps a statement far below the Data API's
/// 100 KB (a day of snapshots taken every minute is 1,440).
pub const IDS_PER_BATCH: usize = 1_000;

/// The shard id archived records get in the local landing tables: no
/// Kinesis shard is named like it, so they never meet a stream checkpoint.
const ARCHIVE_SHARD: &str = "archive";

/// A record's key in the landing table (and `sequence_number` in
/// Redshift's history): the same snapshot and row always get the same key.
pub fn archive_sequence(snapshot_id: &str, row: u64) -> String {
    format!("archive/{snapshot_id}/{row:09}")
}

/// Rows per snapshot already in the warehouse (stream or an earlier
/// backfill), for the snapshots in `window`: (snapshot_id, rows). Counted
/// as silver.snapshots judges completeness, so backfill never skips a
/// snapshot silver calls incomplete: only page rows, only row numbers
/// from 1 to the announced count, and nothing when the records disagree on
/// the count or the page hash (a hostile or mixed-up copy). Records from
/// before ingest announced the count are counted as they are.
pub fn present_rows(dialect: Dialect, source: Source, window: &Window) -> String {
    let name = source.name();
    let (lower, upper) = window.id_bounds();
    let mut bounds = vec!["snapshot_id IS NOT NULL".to_string()];
    if let Some(lower) = lower {
        bounds.push(format!("snapshot_id >= {}", literal(&lower, dialect)));
    }
    if let Some(upper) = upper {
        bounds.push(format!("snapshot_id < {}", literal(&upper, dialect)));
    }
    let payloads = match dialect {
        // As bronze reads the landing table: a record over the size limit
        // has no payload there (it is quarantined), so it is not held.
        Dialect::Postgres => format!(
            "SELECT payload FROM pricewatch_meta.kinesis_{name} WHERE OCTET_LENGTH(kinesis_data) <= {MAX_RECORD_BYTES}"
        ),
        Dialect::Redshift => format!(
            "SELECT payload FROM bronze.{name}\n        \
             UNION ALL\n        \
             SELECT payload FROM bronze.{name}_history"
        ),
    };
    let text = |key| json_text(dialect, "payload", key);
    format!(
        "WITH records AS (\n    \
         SELECT\n        \
         {snapshot_id} AS snapshot_id,\n        \
         {page_row} AS page_row,\n        \
         {size} AS snapshot_rows_raw,\n        \
         {hash} AS page_hash\n    \
         FROM (\n        {payloads}\n    ) AS r\n    \
         WHERE payload IS NOT NULL AND COALESCE({record_type}, 'row') = 'row'\n\
         ),\n\
         typed AS (\n    \
         SELECT snapshot_id, page_row, page_hash, snapshot_rows_raw,\n        \
         CASE WHEN snapshot_rows_raw ~ '^[0-9]{{1,9}}$' THEN CAST(snapshot_rows_raw AS INTEGER) END AS snapshot_rows\n    \
         FROM records\n    \
         WHERE {bounds}\n\
         )\n\
         SELECT snapshot_id,\n    \
         CASE\n        \
         WHEN COUNT(snapshot_rows_raw) = 0 THEN COUNT(DISTINCT page_row)\n        \
         WHEN COUNT(snapshot_rows) = COUNT(*) AND COUNT(DISTINCT snapshot_rows) = 1 AND COUNT(DISTINCT page_hash) <= 1\n            \
         THEN COUNT(DISTINCT CASE WHEN page_row BETWEEN 1 AND snapshot_rows THEN page_row END)\n        \
         ELSE 0\n    \
         END AS present_rows\n\
         FROM typed\n\
         GROUP BY snapshot_id",
        snapshot_id = text("snapshot_id"),
        page_row = json_integer(dialect, "payload", "row_number"),
        size = text("snapshot_rows"),
        hash = text("page_hash"),
        record_type = text("record_type"),
        bounds = bounds.join(" AND "),
    )
}

/// PostgreSQL: one snapshot's records into the landing table, in one
/// transaction; rows already there (same key) are left alone. They arrive
/// when backfill loads them, as on Redshift (`loaded_at`): silver.snapshots
/// finds new records by their arrival, and these are new to it.
pub fn postgres_load(source: Source, snapshot_id: &str, records: &[(u64, &Record)]) -> String {
    let text = |t: &str| literal(t, Dialect::Postgres);
    let arrival = now_utc(Dialect::Postgres);
    let mut sql = String::from("BEGIN;\n");
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(row, record)| {
                let data = String::from_utf8_lossy(&record.data);
                format!(
                    "({}, {}, {}, {arrival}, {}, CAST({} AS JSONB))",
                    text(ARCHIVE_SHARD),
                    text(&archive_sequence(snapshot_id, *row)),
                    text(&record.partition_key),
                    text(&data),
                    text(&data)
                )
            })
            .collect();
        sql.push_str(&format!(
            "INSERT INTO pricewatch_meta.kinesis_{} (shard_id, sequence_number, partition_key, approximate_arrival_timestamp, kinesis_data, payload) VALUES\n{}\nON CONFLICT DO NOTHING;\n",
            source.name(),
            rows.join(",\n")
        ));
    }
    sql.push_str("COMMIT;\n");
    sql
}

/// Redshift: the statements, run one after another, that COPY a day's
/// archive objects (`day_prefix`, e.g. `archive/products/2026/11/25/`) into
/// the staging table and move the planned snapshots of that day into the
/// history table. The staging table is emptied first (a run that stopped
/// half-way leaves rows behind) and after. COPY reads S3 with `role_arn`, a
/// role of the namespace; the objects are gzip NDJSON, one JSON document
/// per line. The move is one INSERT: a snapshot lands whole or not at all,
/// and rows the history table already holds (an earlier backfill of a
/// snapshot whose stream copy disagrees, so it is loaded on every run)
/// are not added again.
pub fn redshift_load(
    source: Source,
    bucket: &str,
    day_prefix: &str,
    role_arn: &str,
    snapshot_ids: &[&str],
) -> Vec<String> {
    let text = |t: &str| literal(t, Dialect::Redshift);
    let ids: Vec<String> = snapshot_ids.iter().map(|id| text(id)).collect();
    let staging = format!("bronze.{}_archive_staging", source.name());
    vec![
        format!("DELETE FROM {staging};"),
        format!(
            "COPY {staging}\nFROM {}\nIAM_ROLE {}\nFORMAT JSON 'noshred'\nGZIP;",
            text(&format!("s3://{bucket}/{day_prefix}")),
            text(role_arn)
        ),
        format!(
            "INSERT INTO bronze.{name}_history (snapshot_id, page_row, partition_key, sequence_number, payload, loaded_at)\n\
             SELECT snapshot_id, page_row, partition_key, 'archive/' || snapshot_id || '/' || LPAD(CAST(page_row AS VARCHAR(9)), 9, '0'), payload, {now}\n\
             FROM (\n    \
             SELECT\n        \
             CAST(record.\"data\".\"snapshot_id\" AS VARCHAR(64)) AS snapshot_id,\n        \
             CAST(record.\"data\".\"row_number\" AS INTEGER) AS page_row,\n        \
             CAST(record.\"partition_key\" AS VARCHAR(256)) AS partition_key,\n        \
             record.\"data\" AS payload\n    \
             FROM {staging}\n\
             ) AS archived\n\
             WHERE snapshot_id IN ({})\n\
             AND NOT EXISTS (SELECT 1 FROM bronze.{name}_history AS h WHERE h.snapshot_id = archived.snapshot_id AND h.page_row = archived.page_row);",
            ids.join(", "),
            name = source.name(),
            now = now_utc(Dialect::Redshift),
        ),
        format!("DELETE FROM {staging};"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql_text::split_statements;

    fn record(key: &str, data: &str) -> Record {
        Record {
            partition_key: key.into(),
            data: data.as_bytes().to_vec(),
        }
    }

    #[test]
    fn archive_keys_sort_by_row_and_never_collide_with_kinesis_ones() {
        assert_eq!(
            archive_sequence("20261125T010203Z-ab12cd34", 7),
            "archive/20261125T010203Z-ab12cd34/000000007"
        );
        assert!(archive_sequence("s", 9) < archive_sequence("s", 10));
    }

    #[test]
    fn postgres_loads_a_snapshot_in_one_transaction_and_twice_is_once() {
        let a = record("O'Brien|Acme", r#"{"item":"O'Brien","row_number":1}"#);
        let b = record("k", r#"{"row_number":2}"#);
        let sql = postgres_load(
            Source::products(),
            "20261125T010203Z-ab12cd34",
            &[(1, &a), (2, &b)],
        );
        assert!(sql.starts_with("BEGIN;\nINSERT INTO pricewatch_meta.kinesis_products (shard_id, sequence_number, partition_key, approximate_arrival_timestamp, kinesis_data, payload) VALUES\n"));
        assert!(sql.contains("('archive', 'archive/20261125T010203Z-ab12cd34/000000001', 'O''Brien|Acme', CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP), '{\"item\":\"O''Brien\",\"row_number\":1}', CAST('{\"item\":\"O''Brien\",\"row_number\":1}' AS JSONB))"), "{sql}");
        assert!(sql.trim_end().ends_with("ON CONFLICT DO NOTHING;\nCOMMIT;"));
        let many: Vec<Record> = (0..1200)
            .map(|i| record("k", &format!("{{\"row_number\":{i}}}")))
            .collect();
        let rows: Vec<(u64, &Record)> = many
            .iter()
            .enumerate()
            .map(|(i, r)| (i as u64 + 1, r))
            .collect();
        let sql = postgres_load(Source::vendors(), "s", &rows);
        assert_eq!(
            sql.matches("INSERT INTO pricewatch_meta.kinesis_vendors")
                .count(),
            3
        );
    }

    #[test]
    fn redshift_copies_a_day_and_keeps_only_the_planned_snapshots() {
        let sqls = redshift_load(
            Source::vendors(),
            "pricewatch-prod-archive-333333333333",
            "archive/vendors/2026/11/25/",
            "arn:aws:iam::333333333333:role/pricewatch-prod-redshift-archive",
            &["20261125T010203Z-ab12cd34", "20261125T020203Z-00ff00ff"],
        );
        assert_eq!(
            sqls.len(),
            4,
            "empty the staging table, COPY, move, empty it"
        );
        assert_eq!(sqls[0], "DELETE FROM bronze.vendors_archive_staging;");
        assert_eq!(
            sqls[1],
            "COPY bronze.vendors_archive_staging\nFROM 's3://pricewatch-prod-archive-333333333333/archive/vendors/2026/11/25/'\nIAM_ROLE 'arn:aws:iam::333333333333:role/pricewatch-prod-redshift-archive'\nFORMAT JSON 'noshred'\nGZIP;"
        );
        let insert = &sqls[2];
        assert!(insert.starts_with("INSERT INTO bronze.vendors_history (snapshot_id, page_row, partition_key, sequence_number, payload, loaded_at)\nSELECT"), "{insert}");
        assert!(
            insert.contains("CAST(record.\"data\".\"row_number\" AS INTEGER) AS page_row"),
            "{insert}"
        );
        assert!(insert.contains("record.\"data\" AS payload"), "{insert}");
        assert!(
            insert.contains(
                "WHERE snapshot_id IN ('20261125T010203Z-ab12cd34', '20261125T020203Z-00ff00ff')\n"
            ),
            "{insert}"
        );
        // Loading a snapshot again adds nothing to the history.
        assert!(
            insert.ends_with("AND NOT EXISTS (SELECT 1 FROM bronze.vendors_history AS h WHERE h.snapshot_id = archived.snapshot_id AND h.page_row = archived.page_row);"),
            "{insert}"
        );
        assert!(
            insert.contains("FROM bronze.vendors_archive_staging\n"),
            "{insert}"
        );
        assert_eq!(sqls[3], sqls[0]);
        for sql in &sqls {
            assert_eq!(split_statements(sql, Dialect::Redshift).len(), 1, "{sql}");
        }
    }

    #[test]
    fn presence_counts_rows_of_the_window_in_stream_and_history() {
        let window = Window::new(Some(1_795_564_800), Some(1_795_651_200)).unwrap();
        let redshift = present_rows(Dialect::Redshift, Source::products(), &window);
        assert!(
            redshift.contains(
                "SELECT payload FROM bronze.products\n        UNION ALL\n        SELECT payload FROM bronze.products_history"
            ),
            "{redshift}"
        );
        assert!(redshift.contains("WHERE snapshot_id IS NOT NULL AND snapshot_id >= '20261125T000000Z' AND snapshot_id < '20261126T000000Z'"), "{redshift}");
        assert!(
            redshift.contains(r#"IS_INTEGER(payload."row_number")"#),
            "{redshift}"
        );
        assert_eq!(split_statements(&redshift, Dialect::Redshift).len(), 1);
        let postgres = present_rows(Dialect::Postgres, Source::products(), &Window::default());
        assert!(
            postgres.contains(
                "SELECT payload FROM pricewatch_meta.kinesis_products WHERE OCTET_LENGTH(kinesis_data) <= 60000\n"
            ),
            "{postgres}"
        );
        assert!(
            postgres.contains("WHERE snapshot_id IS NOT NULL\n"),
            "{postgres}"
        );
    }

    /// The rules silver.snapshots applies: rows outside 1..count, and copies
    /// that disagree on the count or the hash, do not make a snapshot whole.
    #[test]
    fn presence_counts_as_silver_judges_completeness() {
        let sql = present_rows(Dialect::Postgres, Source::products(), &Window::default());
        assert!(
            sql.contains("THEN COUNT(DISTINCT CASE WHEN page_row BETWEEN 1 AND snapshot_rows THEN page_row END)"),
            "{sql}"
        );
        assert!(
            sql.contains("COUNT(DISTINCT snapshot_rows) = 1 AND COUNT(DISTINCT page_hash) <= 1"),
            "{sql}"
        );
        assert!(
            sql.contains("COALESCE(LEFT(payload ->> 'record_type', 1000), 'row') = 'row'"),
            "{sql}"
        );
    }
}
