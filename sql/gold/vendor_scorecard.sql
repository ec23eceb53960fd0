{{ config(materialized="materialized_view", full_refresh="Built from the latest products and vendors snapshots only.", description="Per vendor: items listed, average price and share in stock from the latest products snapshot, joined with shipping cost, review score and feedback count from the latest vendors snapshot.") }}
WITH latest_products AS (
    SELECT p.vendor, p.item, p.sale_price, p.stock_status
    FROM {{ ref(model="silver.products") }} AS p
    INNER JOIN (SELECT MAX(snapshot_id) AS snapshot_id FROM {{ ref(model="silver.products") }}) AS l
        ON p.snapshot_id = l.snapshot_id
),

latest_vendors AS (
    SELECT v.vendor_name, v.shipping_cost, v.review_score, v.feedback_count
    FROM {{ ref(model="silver.vendors") }} AS v
    INNER JOIN (SELECT MAX(snapshot_id) AS snapshot_id FROM {{ ref(model="silver.vendors") }}) AS l
        ON v.snapshot_id = l.snapshot_id
),

per_vendor AS (
    SELECT
        vendor,
        COUNT(DISTINCT item) AS items,
        CAST(AVG(sale_price) AS NUMERIC(12, 2)) AS avg_price,
        CAST(SUM(CASE WHEN stock_status = 'in_stock' THEN 1 ELSE 0 END) AS NUMERIC(12, 4)) / COUNT(*) AS in_stock_ratio
    FROM latest_products
    GROUP BY vendor
)

SELECT
    COALESCE(p.vendor, v.vendor_name) AS vendor,
    COALESCE(p.items, 0) AS items,
    p.avg_price,
    CAST(p.in_stock_ratio AS NUMERIC(5, 4)) AS in_stock_ratio,
    v.shipping_cost,
    v.review_score,
    v.feedback_count
FROM per_vendor AS p
FULL OUTER JOIN latest_vendors AS v ON p.vendor = v.vendor_name
