{#- Runs before every model: schemas, and where the streams land. -#}
{% for schema in schemas -%}
CREATE SCHEMA IF NOT EXISTS {{ schema }};
{% endfor -%}
CREATE SCHEMA IF NOT EXISTS pricewatch_meta;
CREATE TABLE IF NOT EXISTS pricewatch_meta.applied_models (
    model VARCHAR(256) NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    materialized VARCHAR(32) NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model)
);
-- Every `pricewatch check` run appends its results here.
CREATE TABLE IF NOT EXISTS pricewatch_meta.check_results (
    run_id VARCHAR(64) NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    check_name VARCHAR(64) NOT NULL,
    model VARCHAR(256) NOT NULL,
    observed DOUBLE PRECISION,
    status VARCHAR(8) NOT NULL,
    warn_threshold VARCHAR(64) NOT NULL,
    fail_threshold VARCHAR(64) NOT NULL
);
-- The k-means segments of gold.item_features; pricewatch rewrites it after
-- every refresh (a table, not a model: the clustering runs in pricewatch).
CREATE TABLE IF NOT EXISTS gold.item_clusters (
    item VARCHAR(256) NOT NULL,
    cluster INTEGER NOT NULL,
    label VARCHAR(128) NOT NULL,
    price_level DOUBLE PRECISION NOT NULL,
    volatility DOUBLE PRECISION NOT NULL,
    availability DOUBLE PRECISION NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (item)
);
{% if dialect == "redshift" -%}
CREATE EXTERNAL SCHEMA IF NOT EXISTS kinesis
FROM KINESIS
IAM_ROLE '{{ names.streaming_role_arn }}';
{%- else -%}
{#- PostgreSQL has no streaming ingestion: pricewatch reads each stream from
    its last checkpoint into these tables, the same contract as a streaming
    materialized view. `payload` is NULL when the record is not JSON. -#}
{% for source in sources -%}
CREATE TABLE IF NOT EXISTS pricewatch_meta.kinesis_{{ source.name }} (
    shard_id VARCHAR(64) NOT NULL,
    sequence_number VARCHAR(128) NOT NULL,
    partition_key VARCHAR(256) NOT NULL,
    approximate_arrival_timestamp TIMESTAMP NOT NULL,
    kinesis_data TEXT NOT NULL,
    payload JSONB,
    PRIMARY KEY (shard_id, sequence_number)
);
{% endfor -%}
CREATE TABLE IF NOT EXISTS pricewatch_meta.kinesis_checkpoints (
    stream_name VARCHAR(128) NOT NULL,
    shard_id VARCHAR(64) NOT NULL,
    sequence_number VARCHAR(128) NOT NULL,
    PRIMARY KEY (stream_name, shard_id)
);
{%- endif %}
