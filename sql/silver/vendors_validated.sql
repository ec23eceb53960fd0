{{ config(materialized="materialized_view", description="Every vendor row of every snapshot (heartbeats left out), typed, with the reason it is invalid (NULL when valid); a page row delivered more than once (a retried put, or a snapshot reloaded from the archive while the stream still held it) counts once. Empty review score and feedback count are allowed (a new vendor has none). A vendor listed twice in one snapshot with different figures is a conflicting duplicate (every copy); an exact copy beyond the first is a duplicate.") }}
WITH records AS (
    -- What the stream delivered and, on Redshift, what `pricewatch
    -- backfill` reloaded from the S3 archive next to it.
    SELECT sequence_number, payload FROM {{ ref(model="bronze.vendors") }}
    {{ archived_records(source="vendors") }}
),

extracted AS (
    SELECT
        sequence_number,
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_integer(column="payload", key="row_number") }} AS page_row,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="oversize_bytes") }} AS oversize_bytes,
        NULLIF(TRIM({{ json_text(column="payload", key="vendor_name") }}), '') AS vendor_name,
        LOWER(NULLIF(TRIM({{ json_text(column="payload", key="shipping_cost") }}), '')) AS shipping_raw,
        NULLIF(TRIM({{ json_text(column="payload", key="review_score") }}), '') AS review_raw,
        NULLIF(TRIM({{ json_text(column="payload", key="feedback_count") }}), '') AS feedback_raw,
        {{ json_to_text(column="payload") }} AS "raw"
    FROM records
    -- Page rows only: records from before record_type existed are rows too.
    WHERE COALESCE({{ json_text(column="payload", key="record_type") }}, 'row') = 'row'
),

-- One record per page row: a row delivered twice (a retried put, or a
-- snapshot both in the stream and reloaded from the archive) counts once.
-- Records without a snapshot or row number cannot be matched and all stay.
delivered AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY snapshot_id, page_row
            ORDER BY LENGTH(sequence_number), sequence_number
        ) AS delivery
    FROM extracted
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
        vendor_name,
        shipping_raw,
        CASE
            WHEN shipping_raw = 'free' THEN '0'
            ELSE {{ regexp_replace_all(expr="shipping_raw", pattern="[$, ]", replacement="") }}
        END AS shipping_digits,
        review_raw,
        feedback_raw,
        {{ regexp_replace_all(expr="feedback_raw", pattern="[, ]", replacement="") }} AS feedback_digits,
        "raw"
    FROM delivered
    WHERE delivery = 1 OR snapshot_id IS NULL OR page_row IS NULL
),

typed AS (
    SELECT
        sequence_number,
        snapshot_id,
        page_row,
        observed_at,
        vendor_name,
        CASE
            WHEN shipping_digits ~ '^[0-9]{1,10}([.][0-9]+)?$' THEN CAST(shipping_digits AS NUMERIC(12, 2))
        END AS shipping_cost,
        CASE
            WHEN review_raw ~ '^([0-4]([.][0-9]+)?|5([.]0+)?)$' THEN CAST(review_raw AS NUMERIC(3, 1))
        END AS review_score,
        CASE
            WHEN feedback_digits ~ '^[0-9]{1,9}$' THEN CAST(feedback_digits AS INTEGER)
        END AS feedback_count,
        CASE
            WHEN oversize_bytes IS NOT NULL THEN 'record too large'
            WHEN snapshot_id IS NULL OR observed_at IS NULL THEN 'missing snapshot metadata'
            WHEN vendor_name IS NULL THEN 'missing vendor name'
            WHEN shipping_raw IS NULL THEN 'missing shipping cost'
            WHEN shipping_digits ~ '^-[0-9]+([.][0-9]+)?$' THEN 'negative shipping cost'
            WHEN NOT shipping_digits ~ '^[0-9]{1,10}([.][0-9]+)?$' THEN 'unparsable shipping cost'
            WHEN review_raw IS NOT NULL AND NOT review_raw ~ '^([0-4]([.][0-9]+)?|5([.]0+)?)$' THEN 'review score not between 0 and 5'
            WHEN feedback_raw IS NOT NULL AND NOT feedback_digits ~ '^[0-9]{1,9}$' THEN 'unparsable feedback count'
        END AS row_reason,
        "raw"
    FROM cleaned
),

-- Valid copies of the same vendor in the same snapshot, compared (as text,
-- empty figures included): NULL for invalid rows, so only valid copies count.
compared AS (
    SELECT
        *,
        MIN(CASE WHEN row_reason IS NULL THEN CAST(shipping_cost AS VARCHAR(32)) || '|' || COALESCE(CAST(review_score AS VARCHAR(32)), '') || '|' || COALESCE(CAST(feedback_count AS VARCHAR(32)), '') END)
            OVER (PARTITION BY snapshot_id, vendor_name) AS first_figures,
        MAX(CASE WHEN row_reason IS NULL THEN CAST(shipping_cost AS VARCHAR(32)) || '|' || COALESCE(CAST(review_score AS VARCHAR(32)), '') || '|' || COALESCE(CAST(feedback_count AS VARCHAR(32)), '') END)
            OVER (PARTITION BY snapshot_id, vendor_name) AS last_figures,
        ROW_NUMBER() OVER (
            PARTITION BY snapshot_id, vendor_name, CASE WHEN row_reason IS NULL THEN 1 ELSE 0 END
            ORDER BY page_row, LENGTH(sequence_number), sequence_number
        ) AS copy
    FROM typed
)

SELECT
    snapshot_id,
    observed_at,
    vendor_name,
    shipping_cost,
    review_score,
    feedback_count,
    CASE
        WHEN row_reason IS NOT NULL THEN row_reason
        WHEN first_figures <> last_figures THEN 'conflicting duplicate'
        WHEN copy > 1 THEN 'duplicate'
    END AS reason,
    "raw"
FROM compared
