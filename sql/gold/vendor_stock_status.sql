{{ config(materialized="materialized_view", full_refresh="Keyed by hour: a later snapshot in the same hour replaces the hour's rows.", description="Stock history: per hour (warehouse.hour_bucket), vendor, category and stock status, how many items the vendor listed in that status in the hour's last products snapshot (observed_at). gold.vendor_stock_latest is its latest hour.") }}
{%- if settings.warehouse.hour_bucket == "nearest" %}
{%- set hour = "DATE_TRUNC('hour', observed_at + INTERVAL '30 minutes')" %}
{%- else %}
{%- set hour = "DATE_TRUNC('hour', observed_at)" %}
{%- endif %}
WITH snapshots AS (
    SELECT DISTINCT
        snapshot_id,
        observed_at
    FROM {{ ref(model="silver.products") }}
),

last_per_hour AS (
    SELECT
        {{ hour }} AS hour,
        MAX(snapshot_id) AS snapshot_id
    FROM snapshots
    GROUP BY {{ hour }}
)

SELECT
    h.hour,
    p.observed_at,
    p.vendor,
    p.category,
    p.stock_status,
    COUNT(DISTINCT p.item) AS items
FROM {{ ref(model="silver.products") }} AS p
INNER JOIN last_per_hour AS h ON p.snapshot_id = h.snapshot_id
GROUP BY h.hour, p.observed_at, p.vendor, p.category, p.stock_status
