{{ config(materialized="view", description="gold.vendor_stock_status in its latest hour: per vendor, category and stock status, the items listed in the newest products snapshot. What the dashboard's and the report's stock-status charts show.") }}
SELECT
    s.hour,
    s.observed_at,
    s.vendor,
    s.category,
    s.stock_status,
    s.items
FROM {{ ref(model="gold.vendor_stock_status") }} AS s
WHERE s.hour = (SELECT MAX(l.hour) FROM {{ ref(model="gold.vendor_stock_status") }} AS l)
