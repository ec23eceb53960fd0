{{ config(materialized="incremental", description="Stock history: per hour (warehouse.hour_bucket), vendor, category and stock status, how many items the vendor listed in that status in the hour's last products snapshot (snapshot_id, observed_at). gold.vendor_stock_latest is its latest hour.") }}
{%- if settings.warehouse.hour_bucket == "nearest" %}
{%- set hour = "DATE_TRUNC('hour', observed_at + INTERVAL '30 minutes')" %}
{%- else %}
{%- set hour = "DATE_TRUNC('hour', observed_at)" %}
{%- endif %}
{%- set since = rewritten_since(model="gold.vendor_stock_status", column="observed_at") %}
WITH snapshots AS (
    -- Reads earlier snapshots (rewritten_since): a later snapshot in the
    -- same hour replaces the hour's rows, so a refresh rewrites from the
    -- hour of the earliest change on, reading whole hours from there
    -- (everything outside a refresh).
    SELECT DISTINCT
        snapshot_id,
        observed_at
    FROM {{ ref(model="silver.products") }}
    WHERE observed_at >= {{ since }} - INTERVAL '1 hour'
        AND {{ hour }} >= {{ hour | replace(from="observed_at", to=since) }}
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
    h.snapshot_id,
    p.observed_at,
    p.vendor,
    p.category,
    p.stock_status,
    COUNT(DISTINCT p.item) AS items
FROM {{ ref(model="silver.products") }} AS p
INNER JOIN last_per_hour AS h ON p.snapshot_id = h.snapshot_id
GROUP BY h.hour, h.snapshot_id, p.observed_at, p.vendor, p.category, p.stock_status
