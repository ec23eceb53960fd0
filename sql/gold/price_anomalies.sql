{{ config(materialized="materialized_view", description="Prices far from their own history: for each item and vendor, the robust z-score of every snapshot's price against the median of all its snapshots (0.6745 × deviation / MAD; when MAD is 0, deviation / (1.2533 × mean absolute deviation)). Only prices with |robust_z| above pricing.anomaly_threshold are listed.") }}
WITH history AS (
    SELECT item, vendor, observed_at, sale_price
    FROM {{ ref(model="gold.price_evolution") }}
),

medians AS (
    SELECT
        item,
        vendor,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY sale_price) AS median_price,
        COUNT(*) AS snapshots
    FROM history
    GROUP BY item, vendor
),

deviations AS (
    SELECT
        h.item,
        h.vendor,
        h.observed_at,
        h.sale_price,
        m.median_price,
        m.snapshots,
        ABS(CAST(h.sale_price AS DOUBLE PRECISION) - m.median_price) AS deviation
    FROM history AS h
    INNER JOIN medians AS m ON h.item = m.item AND h.vendor = m.vendor
),

spread AS (
    SELECT
        item,
        vendor,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY deviation) AS mad,
        AVG(deviation) AS mean_deviation
    FROM deviations
    GROUP BY item, vendor
),

scored AS (
    SELECT
        d.item,
        d.vendor,
        d.observed_at,
        d.sale_price,
        d.median_price,
        d.snapshots,
        CASE
            WHEN s.mad > 0 THEN 0.6745 * (d.sale_price - d.median_price) / s.mad
            WHEN s.mean_deviation > 0 THEN (d.sale_price - d.median_price) / (1.2533 * s.mean_deviation)
            ELSE 0
        END AS robust_z
    FROM deviations AS d
    INNER JOIN spread AS s ON d.item = s.item AND d.vendor = s.vendor
)

SELECT
    item,
    vendor,
    observed_at,
    sale_price,
    CAST(ROUND(CAST(median_price AS NUMERIC(14, 4)), 2) AS NUMERIC(12, 2)) AS median_price,
    snapshots,
    CAST(ROUND(CAST(robust_z AS NUMERIC(14, 4)), 2) AS NUMERIC(10, 2)) AS robust_z
FROM scored
WHERE ABS(robust_z) > {{ settings.pricing.anomaly_threshold }}
