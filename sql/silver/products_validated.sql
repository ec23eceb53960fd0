{{ config(materialized="materialized_view", description="Every product record, typed, with the reason it is invalid (NULL when valid). silver.products and silver.quarantine read from it, so each rule is written once.") }}
WITH extracted AS (
    SELECT
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="oversize_bytes") }} AS oversize_bytes,
        NULLIF(TRIM({{ json_text(column="payload", key="item") }}), '') AS item,
        NULLIF(TRIM({{ json_text(column="payload", key="category") }}), '') AS category,
        NULLIF(TRIM({{ json_text(column="payload", key="vendor") }}), '') AS vendor,
        NULLIF(TRIM({{ json_text(column="payload", key="sale_price") }}), '') AS sale_price_raw,
        LOWER(TRIM({{ json_text(column="payload", key="stock_status") }})) AS stock_status_raw,
        {{ json_to_text(column="payload") }} AS "raw"
    FROM {{ ref(model="bronze.products") }}
),

cleaned AS (
    SELECT
        snapshot_id,
        oversize_bytes,
        CASE
            WHEN fetched_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
                THEN CAST(REPLACE(LEFT(fetched_at, 19), 'T', ' ') AS TIMESTAMP)
        END AS observed_at,
        item,
        category,
        vendor,
        sale_price_raw,
        {{ regexp_replace_all(expr="sale_price_raw", pattern="[$, ]", replacement="") }} AS price_digits,
        CASE
            WHEN stock_status_raw IN ('in stock', 'instock', 'available') THEN 'in_stock'
            WHEN stock_status_raw IN ('out of stock', 'sold out', 'unavailable') THEN 'out_of_stock'
            WHEN stock_status_raw IN ('limited stock', 'low stock', 'few left', 'limited') THEN 'limited_stock'
        END AS stock_status,
        "raw"
    FROM extracted
)

SELECT
    snapshot_id,
    observed_at,
    item,
    category,
    vendor,
    CASE
        WHEN price_digits ~ '^[0-9]{1,10}([.][0-9]+)?$' THEN CAST(price_digits AS NUMERIC(12, 2))
    END AS sale_price,
    stock_status,
    CASE
        WHEN oversize_bytes IS NOT NULL THEN 'record too large'
        WHEN snapshot_id IS NULL OR observed_at IS NULL THEN 'missing snapshot metadata'
        WHEN item IS NULL THEN 'missing item'
        WHEN vendor IS NULL THEN 'missing vendor'
        WHEN sale_price_raw IS NULL THEN 'missing price'
        WHEN price_digits ~ '^-[0-9]+([.][0-9]+)?$' THEN 'negative price'
        WHEN NOT price_digits ~ '^[0-9]{1,10}([.][0-9]+)?$' THEN 'unparsable price'
        WHEN stock_status IS NULL THEN 'unknown stock status'
{%- if settings.warehouse.allowed_categories %}
        WHEN category IS NULL OR category NOT IN ({% for c in settings.warehouse.allowed_categories %}{{ c | sql_string }}{% if not loop.last %}, {% endif %}{% endfor %}) THEN 'category not allowed'
{%- endif %}
    END AS reason,
    "raw"
FROM cleaned
