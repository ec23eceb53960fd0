{{ config(materialized="incremental", description="Each item and vendor's price in every products snapshot next to its price in the previous snapshot (NULL when it was not listed there).") }}
WITH bounds AS (
    -- Reads earlier snapshots (rewritten_since): a late or backfilled
    -- snapshot changes its successor's rows, so a refresh rewrites the
    -- earliest changed snapshot and every later one, reading from the
    -- snapshot before it (everything outside a refresh).
    SELECT COALESCE(MAX(snapshot_id), {{ rewritten_since(model="gold.price_evolution", column="snapshot_id") }}) AS first_read
    FROM {{ ref(model="silver.products") }}
    WHERE snapshot_id < {{ rewritten_since(model="gold.price_evolution", column="snapshot_id") }}
),

products AS (
    SELECT
        item,
        vendor,
        snapshot_id,
        observed_at,
        sale_price
    FROM {{ ref(model="silver.products") }}
    WHERE snapshot_id >= (SELECT first_read FROM bounds)
),

snapshots AS (
    SELECT
        snapshot_id,
        DENSE_RANK() OVER (ORDER BY snapshot_id) AS seq
    FROM (SELECT DISTINCT snapshot_id FROM products) AS s
),

prices AS (
    SELECT
        p.item,
        p.vendor,
        s.snapshot_id,
        s.seq,
        MIN(p.observed_at) AS observed_at,
        MIN(p.sale_price) AS sale_price
    FROM products AS p
    INNER JOIN snapshots AS s ON p.snapshot_id = s.snapshot_id
    GROUP BY p.item, p.vendor, s.snapshot_id, s.seq
)

SELECT
    cur.item,
    cur.vendor,
    cur.snapshot_id,
    cur.observed_at,
    cur.sale_price,
    prev.sale_price AS previous_price,
    cur.sale_price - prev.sale_price AS price_change,
    CASE
        WHEN prev.sale_price > 0
            THEN CAST(ROUND((cur.sale_price - prev.sale_price) * 100.0 / prev.sale_price, 2) AS NUMERIC(15, 2))
    END AS price_change_pct
FROM prices AS cur
LEFT JOIN prices AS prev
    ON cur.item = prev.item
    AND cur.vendor = prev.vendor
    AND prev.seq = cur.seq - 1
