{{ config(materialized="incremental", description="Rolling price change per item: at every products snapshot, the item's average price across vendors against its average at the earliest snapshot inside the trailing pricing.trend_window_hours window, with the window's average.") }}
WITH per_snapshot AS (
    -- Reads earlier snapshots (rewritten_since): a late snapshot changes
    -- every window it falls in, so a refresh rewrites the earliest changed
    -- snapshot and every later one, reading one window before the
    -- earliest (everything outside a refresh). A row is keyed by the
    -- latest snapshot observed at its time.
    SELECT
        item,
        MAX(snapshot_id) AS snapshot_id,
        observed_at,
        CAST(AVG(sale_price) AS NUMERIC(12, 2)) AS avg_price,
        COUNT(*) AS vendors
    FROM {{ ref(model="gold.price_evolution") }}
    WHERE observed_at >= {{ rewritten_since(model="gold.price_trends", column="observed_at") }} - INTERVAL '{{ settings.pricing.trend_window_hours }} hours'
    GROUP BY item, observed_at
),

windowed AS (
    SELECT
        cur.item,
        cur.snapshot_id,
        cur.observed_at,
        cur.avg_price,
        cur.vendors,
        MIN(prev.observed_at) AS window_start,
        COUNT(*) AS snapshots_in_window,
        CAST(AVG(prev.avg_price) AS NUMERIC(12, 2)) AS window_avg_price
    FROM per_snapshot AS cur
    INNER JOIN per_snapshot AS prev
        ON cur.item = prev.item
        AND prev.observed_at <= cur.observed_at
        AND prev.observed_at >= cur.observed_at - INTERVAL '{{ settings.pricing.trend_window_hours }} hours'
    GROUP BY cur.item, cur.snapshot_id, cur.observed_at, cur.avg_price, cur.vendors
)

SELECT
    w.item,
    w.snapshot_id,
    w.observed_at,
    w.avg_price,
    w.vendors,
    w.window_start,
    w.snapshots_in_window,
    w.window_avg_price,
    s.avg_price AS window_start_price,
    w.avg_price - s.avg_price AS price_change,
    CASE
        WHEN s.avg_price > 0
            THEN CAST(ROUND((w.avg_price - s.avg_price) * 100.0 / s.avg_price, 2) AS NUMERIC(15, 2))
    END AS price_change_pct
FROM windowed AS w
INNER JOIN per_snapshot AS s
    ON w.item = s.item
    AND w.window_start = s.observed_at
