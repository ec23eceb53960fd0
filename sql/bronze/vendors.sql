{{ config(materialized="stream", description="Raw vendors records from the vendors Kinesis stream, one row per record: payload parsed from JSON, or NULL with the load_error of a record the warehouse cannot load (not parsable JSON, or over the record size limit), which silver quarantines as an unloadable record.") }}
SELECT
    approximate_arrival_timestamp,
    partition_key,
    shard_id,
    sequence_number,
    {{ stream_payload() }} AS payload,
    {{ stream_load_error() }} AS load_error
FROM {{ stream_source(source="vendors") }}
