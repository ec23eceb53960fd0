{{ config(materialized="materialized_view", description="Every invalid record of both sources with a readable reason and the raw payload. Nothing is dropped silently: page rows = silver rows + duplicates + quarantine rows.") }}
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
