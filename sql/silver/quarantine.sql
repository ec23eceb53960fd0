{{ config(materialized="materialized_view", description="Every page row of both sources that did not reach silver, with a readable reason and the raw payload (extra copies of an exact duplicate among them, as duplicate). Nothing is dropped silently: for every snapshot, page rows = silver rows + quarantined rows.") }}
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
