{{ config(materialized="incremental", description="Valid product offers: one row per item and vendor per snapshot. Copies of an offer that disagree are all quarantined ('conflicting duplicate'); of exact copies the first is kept and the rest are quarantined ('duplicate').") }}
SELECT
    item,
    category,
    vendor,
    sale_price,
    stock_status,
    snapshot_id,
    observed_at
FROM {{ ref(model="silver.products_validated") }}
WHERE reason IS NULL
