{{ config(materialized="incremental", description="One row per page snapshot of every source, as far as it arrived: the rows its records announce (snapshot_rows), the distinct rows that arrived, and whether it is complete. Silver accepts a snapshot only when complete: every row in 1..snapshot_rows arrived and every record names the same row count and page hash. A run cut off mid-delivery (a crash, a Lambda timeout) leaves an incomplete snapshot, kept out of silver and gold and reported by the snapshots_complete check; records from before ingest sent snapshot_rows count as complete.") }}
WITH page_rows AS (
    -- The stream's records and, on Redshift, those `pricewatch backfill`
    -- reloaded from the S3 archive: a snapshot both hold is complete once.
    -- An incremental refresh reads those that arrived since the bound its
    -- procedure sets (all of them outside it).
    SELECT
        CAST('products' AS VARCHAR(16)) AS source,
        approximate_arrival_timestamp,
        payload
    FROM (
        SELECT sequence_number, payload, approximate_arrival_timestamp FROM {{ ref(model="bronze.products") }}
        {{ archived_records(source="products") }}
    ) AS r
    WHERE {{ arrived_since(source="products", column="r.approximate_arrival_timestamp") }}
    UNION ALL
    SELECT
        CAST('vendors' AS VARCHAR(16)) AS source,
        approximate_arrival_timestamp,
        payload
    FROM (
        SELECT sequence_number, payload, approximate_arrival_timestamp FROM {{ ref(model="bronze.vendors") }}
        {{ archived_records(source="vendors") }}
    ) AS r
    WHERE {{ arrived_since(source="vendors", column="r.approximate_arrival_timestamp") }}
{%- for source in sources %}{% if source.generated %}
    UNION ALL
    SELECT
        CAST({{ source.name | sql_string }} AS VARCHAR(16)) AS source,
        approximate_arrival_timestamp,
        payload
    FROM (
        SELECT sequence_number, payload, approximate_arrival_timestamp FROM {{ ref(model=source.bronze_model) }}
        {{ archived_records(source=source.name) }}
    ) AS r
    WHERE {{ arrived_since(source=source.name, column="r.approximate_arrival_timestamp") }}
{%- endif %}{% endfor %}
),

extracted AS (
    SELECT
        source,
        approximate_arrival_timestamp,
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="snapshot_rows") }} AS snapshot_rows_raw,
        {{ json_text(column="payload", key="page_hash") }} AS page_hash,
        {{ json_integer(column="payload", key="row_number") }} AS row_no
    FROM page_rows
    WHERE payload IS NOT NULL
        AND COALESCE({{ json_text(column="payload", key="record_type") }}, 'row') = 'row'
),

typed AS (
    SELECT
        source,
        approximate_arrival_timestamp,
        snapshot_id,
        fetched_at,
        CASE WHEN snapshot_rows_raw ~ '^[0-9]{1,9}$' THEN CAST(snapshot_rows_raw AS INTEGER) END AS snapshot_rows,
        -- Records that say nothing about their snapshot's size (sent before
        -- snapshot_rows existed) cannot be checked; a malformed size can.
        CASE WHEN snapshot_rows_raw IS NULL THEN 0 ELSE 1 END AS announces,
        page_hash,
        row_no
    FROM extracted
    WHERE snapshot_id IS NOT NULL
),

per_snapshot AS (
    SELECT
        source,
        snapshot_id,
        MIN(fetched_at) AS fetched_at,
        MAX(snapshot_rows) AS snapshot_rows,
        COUNT(*) AS records,
        COUNT(DISTINCT CASE WHEN row_no BETWEEN 1 AND snapshot_rows THEN row_no END) AS rows_arrived,
        SUM(announces) AS announcing,
        COUNT(snapshot_rows) AS sized,
        COUNT(DISTINCT snapshot_rows) AS sizes,
        COUNT(DISTINCT page_hash) AS hashes,
        MAX(page_hash) AS page_hash,
        MIN(approximate_arrival_timestamp) AS first_arrival,
        MAX(approximate_arrival_timestamp) AS last_arrival
    FROM typed
    GROUP BY source, snapshot_id
)

SELECT
    source,
    snapshot_id,
    CASE
        WHEN fetched_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
            THEN CAST(REPLACE(LEFT(fetched_at, 19), 'T', ' ') AS TIMESTAMP)
    END AS observed_at,
    snapshot_rows,
    rows_arrived,
    records,
    page_hash,
    first_arrival,
    last_arrival,
    CASE
        WHEN announcing = 0 THEN TRUE
        WHEN sized = records AND sizes = 1 AND hashes <= 1 AND rows_arrived = snapshot_rows THEN TRUE
        ELSE FALSE
    END AS complete
FROM per_snapshot
