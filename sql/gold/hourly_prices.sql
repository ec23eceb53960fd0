{{ config(materialized="materialized_view", description="Average, lowest and highest price per item and vendor per hour.") }}
SELECT
    DATE_TRUNC('hour', observed_at) AS hour,
    item,
    vendor,
    CAST(AVG(sale_price) AS NUMERIC(12, 2)) AS avg_price,
    MIN(sale_price) AS min_price,
    MAX(sale_price) AS max_price,
    COUNT(*) AS observations
FROM {{ ref(model="silver.products") }}
GROUP BY DATE_TRUNC('hour', observed_at), item, vendor
