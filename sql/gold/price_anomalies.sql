{{ config(materialized="materialized_view", full_refresh="Scores every snapshot against the median and spread of its item and vendor's whole history: one new snapshot can move every score.", description="Prices far from their own history: for each item and vendor, every snapshot's price against the median of all its snapshots. robust_z = (price − median) / spread, where spread is the larger of MAD / 0.6745 (1.2533 × mean absolute deviation when MAD is 0) and pricing.anomaly_min_spread_pct % of the median, so a history that barely moved does not turn an ordinary move into an outlier. Listed when |robust_z| is above pricing.anomaly_threshold and the price is at least pricing.anomaly_min_move_pct % away from the median (move_pct); both are held within ±9,999,999.") }}
WITH history AS (
    SELECT
        item,
        vendor,
        observed_at,
        sale_price
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
        CAST(h.sale_price AS DOUBLE PRECISION) - m.median_price AS deviation
    FROM history AS h
    INNER JOIN medians AS m ON h.item = m.item AND h.vendor = m.vendor
),

spread AS (
    SELECT
        item,
        vendor,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY ABS(deviation)) AS mad,
        AVG(ABS(deviation)) AS mean_deviation
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
        d.deviation / NULLIF(GREATEST(
            CASE WHEN s.mad > 0 THEN s.mad / 0.6745 ELSE 1.2533 * s.mean_deviation END,
            {{ settings.pricing.anomaly_min_spread_pct }} / 100.0 * ABS(d.median_price)
        ), 0) AS robust_z,
        100.0 * d.deviation / NULLIF(d.median_price, 0) AS move_pct
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
    -- Held within ±9,999,999 so a freak price (a cent against thousands)
    -- cannot overflow the column and fail the refresh.
    CAST(ROUND(CAST(LEAST(GREATEST(robust_z, -9999999), 9999999) AS NUMERIC(14, 4)), 2) AS NUMERIC(10, 2)) AS robust_z,
    CAST(ROUND(CAST(LEAST(GREATEST(move_pct, -9999999), 9999999) AS NUMERIC(14, 4)), 2) AS NUMERIC(9, 2)) AS move_pct
FROM scored
WHERE
    ABS(robust_z) > {{ settings.pricing.anomaly_threshold }}
    AND ABS(move_pct) >= {{ settings.pricing.anomaly_min_move_pct }}
