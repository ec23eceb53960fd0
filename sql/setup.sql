{#- Run by `sql apply` as the owner, before any model: the metadata tables,
    the refresh procedure and what each role may do with them. Every
    statement can run again. Schemas and roles come from sql/bootstrap.sql. -#}
CREATE TABLE IF NOT EXISTS pricewatch_meta.applied_models (
    model VARCHAR(256) NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    description_checksum VARCHAR(64) NOT NULL,
    materialized VARCHAR(32) NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model)
);
-- The watermark of every incremental model: each snapshot it has taken in,
-- as silver.snapshots described it then (records, arrival, completeness). Its
-- refresh procedure (sql apply creates one per model) rewrites the model's
-- rows here in the transaction that changes its data.
CREATE TABLE IF NOT EXISTS pricewatch_meta.incremental_state (
    model VARCHAR(256) NOT NULL,
    source VARCHAR(16),
    snapshot_id VARCHAR(65535),
    observed_at TIMESTAMP,
    records BIGINT,
    last_arrival TIMESTAMP,
    complete BOOLEAN
);
{% if dialect == "postgres" -%}
{#- Every refresh procedure reads its model's rows of it (Redshift has no
    indexes: it scans the table, one row per model and snapshot). -#}
CREATE INDEX IF NOT EXISTS incremental_state_model ON pricewatch_meta.incremental_state (model);
{% endif -%}
-- One row per lease: who runs `sql apply`, `refresh`, `run` or `check`
-- against this warehouse right now, and until when (see `pricewatch status`).
CREATE TABLE IF NOT EXISTS pricewatch_meta.lease (
    name VARCHAR(64) NOT NULL,
    holder VARCHAR(512) NOT NULL,
    command VARCHAR(64) NOT NULL,
    acquired_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (name)
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
    item VARCHAR({{ limits.cell_bytes }}) NOT NULL,
    cluster INTEGER NOT NULL,
    label VARCHAR(128) NOT NULL,
    price_level DOUBLE PRECISION NOT NULL,
    volatility DOUBLE PRECISION NOT NULL,
    availability DOUBLE PRECISION NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (item)
);
{% if dialect == "postgres" -%}
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
GRANT SELECT, INSERT ON pricewatch_meta.kinesis_{{ source.name }} TO {{ roles.operator }};
{% endfor -%}
CREATE TABLE IF NOT EXISTS pricewatch_meta.kinesis_checkpoints (
    stream_name VARCHAR(128) NOT NULL,
    shard_id VARCHAR(64) NOT NULL,
    sequence_number VARCHAR(128) NOT NULL,
    PRIMARY KEY (stream_name, shard_id)
);
GRANT SELECT, INSERT, UPDATE ON pricewatch_meta.kinesis_checkpoints TO {{ roles.operator }};
{% endif -%}
{% if dialect == "redshift" -%}
{#- Snapshots `pricewatch backfill` reloads from the S3 archive: COPY cannot
    write into a streaming view, so they land here and the silver models
    read them next to the stream (one row per snapshot and page row counts).
    COPY fills the staging table (one SUPER value per archived line), and
    backfill moves the snapshots it planned on from there; only backfill,
    holding the warehouse lease, uses it. PostgreSQL needs neither:
    backfill writes the landing tables above. -#}
{% for source in sources -%}
CREATE TABLE IF NOT EXISTS bronze.{{ source.name }}_history (
    snapshot_id VARCHAR(64) NOT NULL,
    page_row INTEGER NOT NULL,
    partition_key VARCHAR(256) NOT NULL,
    sequence_number VARCHAR(128) NOT NULL,
    payload SUPER NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);
GRANT SELECT, INSERT ON bronze.{{ source.name }}_history TO {{ roles.grantee }}{{ roles.operator }};
CREATE TABLE IF NOT EXISTS bronze.{{ source.name }}_archive_staging (
    record SUPER
);
GRANT SELECT, INSERT, DELETE ON bronze.{{ source.name }}_archive_staging TO {{ roles.grantee }}{{ roles.operator }};
{% endfor -%}
{% endif -%}
{#- Only a materialized view's owner may refresh it (Redshift and PostgreSQL
    alike): operators refresh through this procedure, which runs with the
    owner's rights and refreshes only models sql apply recorded. -#}
CREATE OR REPLACE PROCEDURE pricewatch_meta.refresh_model(model_name VARCHAR{% if dialect == "redshift" %}(256){% endif %})
{% if dialect == "postgres" -%}
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
{% endif -%}
AS $$
DECLARE
    kind VARCHAR(32);
BEGIN
    SELECT INTO kind materialized FROM pricewatch_meta.applied_models WHERE model = model_name;
    IF kind IS NULL OR kind NOT IN ('materialized_view', 'stream') THEN
        RAISE EXCEPTION 'pricewatch: % is not a materialized model that sql apply recorded', model_name;
    END IF;
    EXECUTE 'REFRESH MATERIALIZED VIEW ' || quote_ident(split_part(model_name, '.', 1)) || '.' || quote_ident(split_part(model_name, '.', 2));
END;
$${% if dialect == "redshift" %} LANGUAGE plpgsql
SECURITY DEFINER
SET search_path TO pricewatch_meta{% endif %};
REVOKE EXECUTE ON PROCEDURE pricewatch_meta.refresh_model(VARCHAR) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE pricewatch_meta.refresh_model(VARCHAR) TO {{ roles.grantee }}{{ roles.operator }};
GRANT SELECT ON pricewatch_meta.applied_models TO {{ roles.grantee }}{{ roles.operator }};
GRANT SELECT ON pricewatch_meta.applied_models TO {{ roles.grantee }}{{ roles.reader }};
GRANT SELECT ON pricewatch_meta.incremental_state TO {{ roles.grantee }}{{ roles.operator }};
GRANT SELECT, INSERT, UPDATE, DELETE ON pricewatch_meta.lease TO {{ roles.grantee }}{{ roles.operator }};
GRANT SELECT ON pricewatch_meta.lease TO {{ roles.grantee }}{{ roles.reader }};
GRANT SELECT, INSERT ON pricewatch_meta.check_results TO {{ roles.grantee }}{{ roles.operator }};
GRANT SELECT ON pricewatch_meta.check_results TO {{ roles.grantee }}{{ roles.reader }};
GRANT SELECT, INSERT, DELETE ON gold.item_clusters TO {{ roles.grantee }}{{ roles.operator }};
GRANT SELECT ON gold.item_clusters TO {{ roles.grantee }}{{ roles.reader }};
