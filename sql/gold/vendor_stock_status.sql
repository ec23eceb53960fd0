{{ config(materialized="materialized_view", description="How many items each vendor has in each stock status in the latest products snapshot.") }}
WITH latest AS (
    SELECT MAX(snapshot_id) AS snapshot_id
    FROM {{ ref(model="silver.products") }}
)

SELECT
    p.vendor,
    p.stock_status,
    COUNT(DISTINCT p.item) AS items
FROM {{ ref(model="silver.products") }} AS p
INNER JOIN latest ON p.snapshot_id = latest.snapshot_id
GROUP BY p.vendor, p.stock_status
