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
pub(crate) enum LoadError {
    #[error("reading stream {stream}: {source}")]
    Stream {
        stream: String,
        source: pricewatch_core::cloud::AwsError,
    },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// The record's JSON when PostgreSQL can store it as JSONB: valid UTF-8,
/// valid JSON, and no NUL character anywhere (JSONB rejects `\u0000`,
/// which would fail the whole load and stop the stream there for good).
/// None makes the payload NULL: bronze then carries the record with a
/// `load_error` and silver quarantines it as an unloadable record.
fn loadable_json(data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(data).ok()?;
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    (!has_nul(&value)).then_some(text)
}

fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Text PostgreSQL can store: NUL dropped (never valid in a TEXT value).
fn storable(text: &str) -> String {
    text.replace('\0', "")
}

/// One landing-table row; the payload is NULL when the record cannot be
/// loaded as JSON.
fn values(record: &StreamRecord) -> String {
    let payload = match loadable_json(&record.data) {
        Some(json) => format!("CAST({} AS JSONB)", sql_string(json)),
        None => "NULL".into(),
    };
    format!(
        "({}, {}, {}, CAST({} AS TIMESTAMP), {}, {payload})",
        sql_string(&storable(&record.shard_id)),
        sql_string(&storable(&record.sequence_number)),
        sql_string(&storable(&record.partition_key)),
        sql_string(&record.arrival),
        sql_string(&storable(&String::from_utf8_lossy(&record.data)))
    )
}

/// The statements that load one shard's records and move its checkpoint.
pub(crate) fn load_statements(
    stream: &str,
    table: &str,
    records: &[StreamRecord],
) -> Option<String> {
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
pub(crate) async fn load(
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

    #[test]
    fn a_record_postgresql_cannot_store_is_loaded_without_payload() {
        let nul_escape = br#"{"item":"Ket\u0000tle"}"#;
        let nul_key = br#"{"a\u0000":1}"#;
        let raw_nul = b"{\"item\":\"a\0b\"}";
        for data in [&nul_escape[..], nul_key, raw_nul, b"\xff\xfe{}", b"[1, 2"] {
            let sql = load_statements("s", "t", &[record("1", data)]).unwrap();
            assert!(sql.contains(", NULL)\nON CONFLICT"), "{sql}");
            assert!(!sql.contains('\0'), "no NUL reaches PostgreSQL");
        }
        // A NUL in the partition key is dropped too.
        let mut keyed = record("2", br#"{"a":"b"}"#);
        keyed.partition_key = "k\0ey".into();
        let sql = load_statements("s", "t", &[keyed]).unwrap();
        assert!(
            sql.contains("'key'") && sql.contains(r#"CAST('{"a":"b"}' AS JSONB)"#),
            "{sql}"
        );
    }
}
