{{ config(materialized="incremental", description="Each item across its vendors in every products snapshot: how many vendors list it, how many have it in stock, and the lowest, average and highest price. The case study MVP's per-item price evolution.") }}
SELECT
    item,
    MIN(category) AS category,
    snapshot_id,
    MIN(observed_at) AS observed_at,
    COUNT(*) AS vendors,
    SUM(CASE WHEN stock_status = 'in_stock' THEN 1 ELSE 0 END) AS vendors_in_stock,
    MIN(sale_price) AS min_price,
    CAST(AVG(sale_price) AS NUMERIC(12, 2)) AS avg_price,
    MAX(sale_price) AS max_price
FROM {{ ref(model="silver.products") }}
GROUP BY item, snapshot_id
