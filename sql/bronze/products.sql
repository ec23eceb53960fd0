{{ config(materialized="stream", description="Raw products records from the products Kinesis stream, one row per record, payload parsed from JSON. Records that are not JSON are kept out (and counted by the ingest metrics).") }}
SELECT
    approximate_arrival_timestamp,
    partition_key,
    shard_id,
    sequence_number,
    {{ stream_payload() }} AS payload
FROM {{ stream_source(source="products") }}
WHERE {{ stream_record_is_loadable() }}
