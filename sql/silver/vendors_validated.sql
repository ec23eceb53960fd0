{{ config(materialized="materialized_view", description="Every vendor record, typed, with the reason it is invalid (NULL when valid). Empty review score and feedback count are allowed (a new vendor has none).") }}
WITH extracted AS (
    SELECT
        {{ json_text(column="payload", key="snapshot_id") }} AS snapshot_id,
        {{ json_text(column="payload", key="fetched_at") }} AS fetched_at,
        {{ json_text(column="payload", key="oversize_bytes") }} AS oversize_bytes,
        NULLIF(TRIM({{ json_text(column="payload", key="vendor_name") }}), '') AS vendor_name,
        LOWER(NULLIF(TRIM({{ json_text(column="payload", key="shipping_cost") }}), '')) AS shipping_raw,
        NULLIF(TRIM({{ json_text(column="payload", key="review_score") }}), '') AS review_raw,
        NULLIF(TRIM({{ json_text(column="payload", key="feedback_count") }}), '') AS feedback_raw,
        {{ json_to_text(column="payload") }} AS "raw"
    FROM {{ ref(model="bronze.vendors") }}
),

cleaned AS (
    SELECT
        snapshot_id,
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
    FROM extracted
)

SELECT
    snapshot_id,
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
    END AS reason,
    "raw"
FROM cleaned
