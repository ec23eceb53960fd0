//! The local warehouse's streaming ingestion: PostgreSQL cannot read
//! Kinesis, so `refresh` reads each stream from the last sequence number
//! stored per shard and inserts the records into the stream's landing table
//! — records and checkpoint in one transaction, so a record is loaded once.

use std::collections::BTreeMap;

use super::{Statements, WarehouseError};
use pricewatch_core::cloud::{RecordSource, StreamRecord};
use pricewatch_core::config::Dialect;

const CHECKPOINTS: &str = "pricewatch_meta.kinesis_checkpoints";
const ROWS_PER_STATEMENT: usize = 500;

/// A literal for the landing tables, which exist on PostgreSQL only.
fn sql_string(text: &str) -> String {
    pricewatch_core::sql_text::literal(text, Dialect::Postgres)
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading stream {stream}: {source}")]
    Stream {
        stream: String,
        source: pricewatch_core::cloud::AwsError,
    },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// One landing-table row; the payload is NULL when the record is not JSON.
fn values(record: &StreamRecord) -> String {
    let text = String::from_utf8_lossy(&record.data).replace('\0', "");
    let payload = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(_) => format!("CAST({} AS JSONB)", sql_string(&text)),
        Err(_) => "NULL".into(),
    };
    format!(
        "({}, {}, {}, CAST({} AS TIMESTAMP), {}, {payload})",
        sql_string(&record.shard_id),
        sql_string(&record.sequence_number),
        sql_string(&record.partition_key),
        sql_string(&record.arrival),
        sql_string(&text)
    )
}

/// The statements that load one shard's records and move its checkpoint.
pub fn load_statements(stream: &str, table: &str, records: &[StreamRecord]) -> Option<String> {
    let last = records.last()?;
    let mut sql = String::from("BEGIN;\n");
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = chunk.iter().map(values).collect();
        sql.push_str(&format!(
            "INSERT INTO {table} (shard_id, sequence_number, partition_key, approximate_arrival_timestamp, kinesis_data, payload) VALUES\n{}\nON CONFLICT DO NOTHING;\n",
            rows.join(",\n")
        ));
    }
    sql.push_str(&format!(
        "INSERT INTO {CHECKPOINTS} (stream_name, shard_id, sequence_number) VALUES ({}, {}, {})\nON CONFLICT (stream_name, shard_id) DO UPDATE SET sequence_number = EXCLUDED.sequence_number;\nCOMMIT;\n",
        sql_string(stream),
        sql_string(&last.shard_id),
        sql_string(&last.sequence_number)
    ));
    Some(sql)
}

/// Loads what arrived in `stream` since the last load; returns how many records.
pub async fn load(
    source: &impl RecordSource,
    warehouse: &impl Statements,
    stream: &str,
    table: &str,
) -> Result<usize, LoadError> {
    let stream_error = |source| LoadError::Stream {
        stream: stream.to_string(),
        source,
    };
    let rows = warehouse
        .query(
            "reading stream checkpoints",
            &format!(
                "SELECT shard_id, sequence_number FROM {CHECKPOINTS} WHERE stream_name = {}",
                sql_string(stream)
            ),
        )
        .await?;
    let checkpoints: BTreeMap<String, String> = rows
        .into_iter()
        .filter_map(|row| {
            let mut values = row.into_iter();
            Some((values.next()??, values.next()??))
        })
        .collect();
    let mut loaded = 0;
    for shard in source.shards(stream).await.map_err(stream_error)? {
        let records = source
            .read(stream, &shard, checkpoints.get(&shard).map(String::as_str))
            .await
            .map_err(stream_error)?;
        if let Some(sql) = load_statements(stream, table, &records) {
            warehouse
                .execute(
                    &format!("loading {stream} shard {shard} into {table}"),
                    &sql,
                )
                .await?;
            loaded += records.len();
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: &str, data: &[u8]) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-0".into(),
            sequence_number: seq.into(),
            partition_key: "O'Brien|Acme".into(),
            arrival: "2026-11-25 01:00:00".into(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn records_and_checkpoint_go_in_one_transaction() {
        let sql = load_statements(
            "s",
            "pricewatch_meta.kinesis_products",
            &[record("1", br#"{"a":"it's"}"#), record("2", b"not json")],
        )
        .unwrap();
        assert!(sql.starts_with("BEGIN;") && sql.trim_end().ends_with("COMMIT;"));
        assert!(sql.contains("'O''Brien|Acme'"), "{sql}");
        assert!(sql.contains(r#"CAST('{"a":"it''s"}' AS JSONB)"#), "{sql}");
        assert!(sql.contains("'not json', NULL)"), "{sql}");
        assert!(
            sql.contains("VALUES ('s', 'shardId-0', '2')"),
            "the checkpoint is the last record: {sql}"
        );
        assert_eq!(load_statements("s", "t", &[]), None);
    }
}
