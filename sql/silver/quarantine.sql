{{ config(materialized="incremental", description="Every page row of every source that did not reach silver, with a readable reason and the raw payload (extra copies of an exact duplicate among them, as duplicate), and every record the warehouse could not load (reason unloadable record; raw says why and where it is in the stream). Nothing is dropped silently: for every snapshot, page rows = silver rows + quarantined rows.") }}
SELECT
    CAST('products' AS VARCHAR(16)) AS source,
    reason,
    "raw",
    snapshot_id,
    observed_at
FROM {{ ref(model="silver.products_validated") }}
WHERE reason IS NOT NULL
UNION ALL
SELECT
    CAST('vendors' AS VARCHAR(16)) AS source,
    reason,
    "raw",
    snapshot_id,
    observed_at
FROM {{ ref(model="silver.vendors_validated") }}
WHERE reason IS NOT NULL
UNION ALL
SELECT
    CAST('products' AS VARCHAR(16)) AS source,
    CAST('unloadable record' AS VARCHAR(64)) AS reason,
    load_error || ': shard ' || shard_id || ', sequence number ' || sequence_number AS "raw",
    CAST(NULL AS VARCHAR(4000)) AS snapshot_id,
    approximate_arrival_timestamp AS observed_at
FROM {{ ref(model="bronze.products") }}
WHERE load_error IS NOT NULL
UNION ALL
SELECT
    CAST('vendors' AS VARCHAR(16)) AS source,
    CAST('unloadable record' AS VARCHAR(64)) AS reason,
    load_error || ': shard ' || shard_id || ', sequence number ' || sequence_number AS "raw",
    CAST(NULL AS VARCHAR(4000)) AS snapshot_id,
    approximate_arrival_timestamp AS observed_at
FROM {{ ref(model="bronze.vendors") }}
WHERE load_error IS NOT NULL
{%- for source in sources %}{% if source.generated %}
UNION ALL
SELECT
    CAST({{ source.name | sql_string }} AS VARCHAR(16)) AS source,
    reason,
    "raw",
    snapshot_id,
    observed_at
FROM {{ ref(model=source.validated_model) }}
WHERE reason IS NOT NULL
UNION ALL
SELECT
    CAST({{ source.name | sql_string }} AS VARCHAR(16)) AS source,
    CAST('unloadable record' AS VARCHAR(64)) AS reason,
    load_error || ': shard ' || shard_id || ', sequence number ' || sequence_number AS "raw",
    CAST(NULL AS VARCHAR(4000)) AS snapshot_id,
    approximate_arrival_timestamp AS observed_at
FROM {{ ref(model=source.bronze_model) }}
WHERE load_error IS NOT NULL
{%- endif %}{% endfor %}
