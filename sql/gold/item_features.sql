{{ config(materialized="view", description="The three features k-means segments items on, one row per item of the latest products snapshot: price_level (the item's average price across vendors over its category's median item price), volatility (coefficient of variation of the item's average price across all snapshots; 0 with one snapshot) and availability (share of its vendors with it in stock). pricewatch reads this after each refresh and writes gold.item_clusters.") }}
WITH latest AS (
    SELECT MAX(snapshot_id) AS snapshot_id
    FROM {{ ref(model="silver.products") }}
),

latest_items AS (
    SELECT
        p.item,
        MIN(p.category) AS category,
        AVG(CAST(p.sale_price AS DOUBLE PRECISION)) AS avg_price,
        CAST(COUNT(DISTINCT CASE WHEN p.stock_status = 'in_stock' THEN p.vendor END) AS DOUBLE PRECISION)
        / COUNT(DISTINCT p.vendor) AS availability
    FROM {{ ref(model="silver.products") }} AS p
    INNER JOIN latest ON p.snapshot_id = latest.snapshot_id
    GROUP BY p.item
),

category_medians AS (
    SELECT
        category,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY avg_price) AS median_price
    FROM latest_items
    GROUP BY category
),

per_snapshot AS (
    SELECT
        item,
        snapshot_id,
        AVG(CAST(sale_price AS DOUBLE PRECISION)) AS avg_price
    FROM {{ ref(model="silver.products") }}
    GROUP BY item, snapshot_id
),

history AS (
    SELECT
        item,
        COUNT(*) AS snapshots,
        COALESCE(STDDEV_POP(avg_price) / NULLIF(AVG(avg_price), 0), 0) AS volatility
    FROM per_snapshot
    GROUP BY item
)

SELECT
    i.item,
    i.category,
    CAST(ROUND(CAST(i.avg_price AS NUMERIC(14, 4)), 2) AS NUMERIC(12, 2)) AS avg_price,
    COALESCE(i.avg_price / NULLIF(m.median_price, 0), 1) AS price_level,
    h.volatility,
    i.availability,
    h.snapshots
FROM latest_items AS i
INNER JOIN category_medians AS m ON i.category = m.category
INNER JOIN history AS h ON i.item = h.item
