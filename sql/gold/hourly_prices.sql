{{ config(materialized="incremental", description="Per hour (warehouse.hour_bucket: floor or nearest), item, category and vendor: average, lowest and highest price, the valid rows behind them (observations) and how many of those were in stock, in limited stock and out of stock; snapshot_id is the hour's latest products snapshot.") }}
{%- if settings.warehouse.hour_bucket == "nearest" %}
{%- set hour = "DATE_TRUNC('hour', observed_at + INTERVAL '30 minutes')" %}
{%- else %}
{%- set hour = "DATE_TRUNC('hour', observed_at)" %}
{%- endif %}
{%- set since = rewritten_since(model="gold.hourly_prices", column="observed_at") %}
WITH products AS (
    -- Reads earlier snapshots (rewritten_since): an hour's rows average all
    -- its snapshots, so a refresh rewrites from the hour of the earliest
    -- change on, reading whole hours from there (everything outside a
    -- refresh). A row is keyed by its hour's latest snapshot.
    SELECT
        {{ hour }} AS hour,
        item,
        category,
        vendor,
        sale_price,
        stock_status,
        snapshot_id
    FROM {{ ref(model="silver.products") }}
    WHERE observed_at >= {{ since }} - INTERVAL '1 hour'
        AND {{ hour }} >= {{ hour | replace(from="observed_at", to=since) }}
),

last_per_hour AS (
    SELECT
        hour,
        MAX(snapshot_id) AS snapshot_id
    FROM products
    GROUP BY hour
)

SELECT
    p.hour,
    p.item,
    p.category,
    p.vendor,
    h.snapshot_id,
    CAST(AVG(p.sale_price) AS NUMERIC(12, 2)) AS avg_price,
    MIN(p.sale_price) AS min_price,
    MAX(p.sale_price) AS max_price,
    COUNT(*) AS observations,
    SUM(CASE WHEN p.stock_status = 'in_stock' THEN 1 ELSE 0 END) AS n_in_stock,
    SUM(CASE WHEN p.stock_status = 'limited_stock' THEN 1 ELSE 0 END) AS n_limited_stock,
    SUM(CASE WHEN p.stock_status = 'out_of_stock' THEN 1 ELSE 0 END) AS n_out_of_stock
FROM products AS p
INNER JOIN last_per_hour AS h ON p.hour = h.hour
GROUP BY p.hour, p.item, p.category, p.vendor, h.snapshot_id
