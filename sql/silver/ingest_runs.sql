{{ config(materialized="materialized_view", full_refresh="One row per ingest run from the heartbeats, which are not page rows of a snapshot; small, but read from every record.", description="One row per ingest run and source, from the heartbeat every run sends on the source's stream whether the page changed or not (failed runs too, when the stream took their heartbeat). The freshness checks measure time since the last successful run here, so a vendor page that stays the same for hours does not look like a stopped pipeline.") }}
WITH heartbeats AS (
    SELECT
        CAST('products' AS VARCHAR(16)) AS source,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="outcome") }} AS outcome,
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_text(column="payload", key="page_hash") }} AS page_hash,
        {{ json_text(column="payload", key="page_rows") }} AS page_rows,
        {{ json_text(column="payload", key="records_pushed") }} AS records_pushed,
        {{ json_text(column="payload", key="error") }} AS error
    FROM {{ ref(model="bronze.products") }}
    WHERE {{ json_text(column="payload", key="record_type") }} = 'heartbeat'
    UNION ALL
    SELECT
        CAST('vendors' AS VARCHAR(16)) AS source,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="outcome") }} AS outcome,
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_text(column="payload", key="page_hash") }} AS page_hash,
        {{ json_text(column="payload", key="page_rows") }} AS page_rows,
        {{ json_text(column="payload", key="records_pushed") }} AS records_pushed,
        {{ json_text(column="payload", key="error") }} AS error
    FROM {{ ref(model="bronze.vendors") }}
    WHERE {{ json_text(column="payload", key="record_type") }} = 'heartbeat'
{%- for source in sources %}{% if source.generated %}
    UNION ALL
    SELECT
        CAST({{ source.name | sql_string }} AS VARCHAR(16)) AS source,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="outcome") }} AS outcome,
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_text(column="payload", key="page_hash") }} AS page_hash,
        {{ json_text(column="payload", key="page_rows") }} AS page_rows,
        {{ json_text(column="payload", key="records_pushed") }} AS records_pushed,
        {{ json_text(column="payload", key="error") }} AS error
    FROM {{ ref(model=source.bronze_model) }}
    WHERE {{ json_text(column="payload", key="record_type") }} = 'heartbeat'
{%- endif %}{% endfor %}
)

SELECT
    source,
    CASE
        WHEN fetched_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
            THEN CAST(REPLACE(LEFT(fetched_at, 19), 'T', ' ') AS TIMESTAMP)
    END AS run_at,
    outcome,
    snapshot_id,
    page_hash,
    CASE WHEN page_rows ~ '^[0-9]{1,9}$' THEN CAST(page_rows AS INTEGER) END AS page_rows,
    CASE WHEN records_pushed ~ '^[0-9]{1,9}$' THEN CAST(records_pushed AS INTEGER) END AS records_pushed,
    error
FROM heartbeats
