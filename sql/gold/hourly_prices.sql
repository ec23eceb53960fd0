{{ config(materialized="materialized_view", full_refresh="Keyed by hour, not by snapshot: a snapshot's rows are averaged with the other snapshots of its hour.", description="Per hour (warehouse.hour_bucket: floor or nearest), item, category and vendor: average, lowest and highest price, the valid rows behind them (observations) and how many of those were in stock, in limited stock and out of stock.") }}
{%- if settings.warehouse.hour_bucket == "nearest" %}
{%- set hour = "DATE_TRUNC('hour', observed_at + INTERVAL '30 minutes')" %}
{%- else %}
{%- set hour = "DATE_TRUNC('hour', observed_at)" %}
{%- endif %}
SELECT
    {{ hour }} AS hour,
    item,
    category,
    vendor,
    CAST(AVG(sale_price) AS NUMERIC(12, 2)) AS avg_price,
    MIN(sale_price) AS min_price,
    MAX(sale_price) AS max_price,
    COUNT(*) AS observations,
    SUM(CASE WHEN stock_status = 'in_stock' THEN 1 ELSE 0 END) AS n_in_stock,
    SUM(CASE WHEN stock_status = 'limited_stock' THEN 1 ELSE 0 END) AS n_limited_stock,
    SUM(CASE WHEN stock_status = 'out_of_stock' THEN 1 ELSE 0 END) AS n_out_of_stock
FROM {{ ref(model="silver.products") }}
GROUP BY {{ hour }}, item, category, vendor
