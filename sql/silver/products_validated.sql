{{ config(materialized="incremental", description="Every product row of every complete snapshot (heartbeats and unloadable records left out), typed, with the reason it is invalid (NULL when valid); a page row delivered more than once (a retried put, or a snapshot reloaded from the archive while the stream still held it) counts once: the row's own rules first, then duplicates within the snapshot — every copy of an offer (item and vendor) listed with different category, price or stock status is a conflicting duplicate, and an exact copy beyond the first is a duplicate. silver.products and silver.quarantine read from it, so each rule is written once and page rows = silver rows + quarantined rows.") }}
WITH records AS (
    -- What the stream delivered and, on Redshift, what `pricewatch
    -- backfill` reloaded from the S3 archive next to it.
    SELECT sequence_number, payload, approximate_arrival_timestamp FROM {{ ref(model="bronze.products") }}
    {{ archived_records(source="products") }}
),

extracted AS (
    SELECT
        sequence_number,
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_integer(column="payload", key="row_number") }} AS page_row,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="oversize_bytes") }} AS oversize_bytes,
        NULLIF(TRIM({{ json_text(column="payload", key="item") }}), '') AS item,
        NULLIF(TRIM({{ json_text(column="payload", key="category") }}), '') AS category,
        NULLIF(TRIM({{ json_text(column="payload", key="vendor") }}), '') AS vendor,
        NULLIF(TRIM({{ json_text(column="payload", key="sale_price") }}), '') AS sale_price_raw,
        LOWER(TRIM({{ json_text(column="payload", key="stock_status") }})) AS stock_status_raw,
        {{ json_to_text(column="payload") }} AS "raw"
    FROM records
    -- Page rows only (unloadable records are quarantined as such): records
    -- from before record_type existed are rows too.
    WHERE payload IS NOT NULL
        AND COALESCE({{ json_text(column="payload", key="record_type") }}, 'row') = 'row'
),

-- One record per page row: a row delivered twice (a retried put, or a
-- snapshot both in the stream and reloaded from the archive) counts once.
-- Records without a snapshot or row number cannot be matched and all stay.
delivered AS (
    SELECT
        e.*,
        ROW_NUMBER() OVER (
            PARTITION BY e.snapshot_id, e.page_row
            ORDER BY LENGTH(e.sequence_number), e.sequence_number
        ) AS delivery
    FROM extracted AS e
    -- Complete snapshots only (silver.snapshots): a run cut off mid-delivery
    -- never becomes the latest page.
    LEFT JOIN {{ ref(model="silver.snapshots") }} AS s
        ON s.source = 'products' AND e.snapshot_id = s.snapshot_id
    WHERE e.snapshot_id IS NULL OR s.complete
),

cleaned AS (
    SELECT
        sequence_number,
        snapshot_id,
        page_row,
        oversize_bytes,
        CASE
            WHEN fetched_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
                THEN CAST(REPLACE(LEFT(fetched_at, 19), 'T', ' ') AS TIMESTAMP)
        END AS observed_at,
        item,
        category,
        vendor,
        sale_price_raw,
        price_compact,
        {{ amount_text(expr="price_compact") }} AS price_text,
        CASE
            WHEN stock_status_raw IN ('in stock', 'instock', 'available') THEN 'in_stock'
            WHEN stock_status_raw IN ('out of stock', 'sold out', 'unavailable') THEN 'out_of_stock'
            WHEN stock_status_raw IN ('limited stock', 'low stock', 'few left', 'limited') THEN 'limited_stock'
        END AS stock_status,
        "raw"
    FROM (
        SELECT
            *,
            {{ regexp_replace_all(expr="sale_price_raw", pattern="[$ ]", replacement="") }} AS price_compact
        FROM delivered
        WHERE delivery = 1 OR snapshot_id IS NULL OR page_row IS NULL
    ) AS d
),

-- A price is at most 99,999,999.99 in whole cents (trailing zeros allowed):
-- every gold figure built from it fits its NUMERIC column.
typed AS (
    SELECT
        sequence_number,
        snapshot_id,
        page_row,
        observed_at,
        item,
        category,
        vendor,
        CASE
            WHEN price_text ~ '^0*[0-9]{1,8}([.][0-9]{1,2}0*)?$' THEN CAST(price_text AS NUMERIC(12, 2))
        END AS sale_price,
        stock_status,
        CASE
            WHEN oversize_bytes IS NOT NULL THEN 'record too large'
            WHEN snapshot_id IS NULL OR observed_at IS NULL THEN 'missing snapshot metadata'
            -- A name ingest had to cut (over 1,000 characters) is not the
            -- page's name: it would merge offers or invent an item.
            WHEN item LIKE {{ limits.truncated_like | sql_string }} OR vendor LIKE {{ limits.truncated_like | sql_string }} OR category LIKE {{ limits.truncated_like | sql_string }} THEN 'name too long'
            WHEN item IS NULL THEN 'missing item'
            WHEN vendor IS NULL THEN 'missing vendor'
            WHEN sale_price_raw IS NULL THEN 'missing price'
            WHEN price_compact ~ '^-[0-9]' THEN 'non-positive price'
            WHEN price_text IS NULL THEN 'unparsable price'
            WHEN price_text ~ '[.][0-9]{2}0*[1-9]' THEN 'price finer than a cent'
            WHEN NOT price_text ~ '^0*[0-9]{1,8}([.][0-9]+)?$' THEN 'price out of range'
            WHEN CAST(price_text AS NUMERIC(12, 2)) = 0 THEN 'non-positive price'
            WHEN stock_status IS NULL THEN 'unknown stock status'
{%- if settings.warehouse.allowed_categories %}
            WHEN category IS NULL OR category NOT IN ({% for c in settings.warehouse.allowed_categories %}{{ c | sql_string }}{% if not loop.last %}, {% endif %}{% endfor %}) THEN 'category not allowed'
{%- endif %}
        END AS row_reason,
        "raw"
    FROM cleaned
),

-- Valid copies of the same offer in the same snapshot, compared: NULL for
-- invalid rows, so only valid copies count.
compared AS (
    SELECT
        *,
        MIN(CASE WHEN row_reason IS NULL THEN sale_price END) OVER (PARTITION BY snapshot_id, item, vendor) AS lowest_copy,
        MAX(CASE WHEN row_reason IS NULL THEN sale_price END) OVER (PARTITION BY snapshot_id, item, vendor) AS highest_copy,
        MIN(CASE WHEN row_reason IS NULL THEN COALESCE(category, '') || '|' || stock_status END) OVER (PARTITION BY snapshot_id, item, vendor) AS first_label,
        MAX(CASE WHEN row_reason IS NULL THEN COALESCE(category, '') || '|' || stock_status END) OVER (PARTITION BY snapshot_id, item, vendor) AS last_label,
        ROW_NUMBER() OVER (
            PARTITION BY snapshot_id, item, vendor, CASE WHEN row_reason IS NULL THEN 1 ELSE 0 END
            ORDER BY page_row, LENGTH(sequence_number), sequence_number
        ) AS copy
    FROM typed
)

SELECT
    snapshot_id,
    observed_at,
    item,
    category,
    vendor,
    sale_price,
    stock_status,
    CASE
        WHEN row_reason IS NOT NULL THEN row_reason
        WHEN lowest_copy <> highest_copy OR first_label <> last_label THEN 'conflicting duplicate'
        WHEN copy > 1 THEN 'duplicate'
    END AS reason,
    "raw"
FROM compared
