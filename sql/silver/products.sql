{{ config(materialized="materialized_view", description="Valid product offers: one row per distinct item, vendor and price per snapshot (exact duplicates inside a snapshot collapse to one).") }}
SELECT DISTINCT
    item,
    category,
    vendor,
    sale_price,
    stock_status,
    snapshot_id,
    observed_at
FROM {{ ref(model="silver.products_validated") }}
WHERE reason IS NULL
