{{ config(materialized="incremental", description="Every vendor row of every complete snapshot (heartbeats and unloadable records left out), typed, with the reason it is invalid (NULL when valid); a page row delivered more than once (a retried put, or a snapshot reloaded from the archive while the stream still held it) counts once. Empty review score and feedback count are allowed (a new vendor has none). A vendor listed twice in one snapshot with different figures is a conflicting duplicate (every copy); an exact copy beyond the first is a duplicate.") }}
WITH records AS (
    -- What the stream delivered and, on Redshift, what `pricewatch
    -- backfill` reloaded from the S3 archive next to it.
    SELECT sequence_number, payload, approximate_arrival_timestamp FROM {{ ref(model="bronze.vendors") }}
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
        ON s.source = 'vendors' AND e.snapshot_id = s.snapshot_id
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
        vendor_name,
        shipping_raw,
        shipping_compact,
        CASE
            WHEN shipping_raw = 'free' THEN '0'
            ELSE {{ amount_text(expr="shipping_compact") }}
        END AS shipping_text,
        -- A decimal comma in a score (4,5) is unambiguous: scores have no
        -- thousands.
        CASE WHEN review_raw ~ '^[0-9]+,[0-9]+$' THEN REPLACE(review_raw, ',', '.') ELSE review_raw END AS review_text,
        review_raw,
        feedback_raw,
        {{ count_text(expr="feedback_raw") }} AS feedback_digits,
        "raw"
    FROM (
        SELECT
            *,
            {{ regexp_replace_all(expr="shipping_raw", pattern="[$ ]", replacement="") }} AS shipping_compact
        FROM delivered
        WHERE delivery = 1 OR snapshot_id IS NULL OR page_row IS NULL
    ) AS d
),

-- Amounts as for prices: at most 99,999,999.99, in whole cents.
typed AS (
    SELECT
        sequence_number,
        snapshot_id,
        page_row,
        observed_at,
        vendor_name,
        CASE
            WHEN shipping_text ~ '^0*[0-9]{1,8}([.][0-9]{1,2}0*)?$' THEN CAST(shipping_text AS NUMERIC(12, 2))
        END AS shipping_cost,
        CASE
            WHEN review_text ~ '^([0-4]([.][0-9]+)?|5([.]0+)?)$' THEN CAST(review_text AS NUMERIC(3, 1))
        END AS review_score,
        CASE
            WHEN feedback_digits ~ '^0*[0-9]{1,9}$' THEN CAST(feedback_digits AS INTEGER)
        END AS feedback_count,
        CASE
            WHEN oversize_bytes IS NOT NULL THEN 'record too large'
            WHEN snapshot_id IS NULL OR observed_at IS NULL THEN 'missing snapshot metadata'
            -- A name ingest had to cut (over 1,000 characters) is not the
            -- page's name: it would merge offers or invent an item.
            WHEN vendor_name LIKE {{ limits.truncated_like | sql_string }} THEN 'name too long'
            WHEN vendor_name IS NULL THEN 'missing vendor name'
            WHEN shipping_raw IS NULL THEN 'missing shipping cost'
            WHEN shipping_compact ~ '^-[0-9]' THEN 'negative shipping cost'
            WHEN shipping_text IS NULL THEN 'unparsable shipping cost'
            WHEN shipping_text ~ '[.][0-9]{2}0*[1-9]' THEN 'shipping cost finer than a cent'
            WHEN NOT shipping_text ~ '^0*[0-9]{1,8}([.][0-9]+)?$' THEN 'shipping cost out of range'
            WHEN review_raw IS NOT NULL AND NOT review_text ~ '^([0-4]([.][0-9]+)?|5([.]0+)?)$' THEN 'review score not between 0 and 5'
            WHEN feedback_raw IS NOT NULL AND NOT COALESCE(feedback_digits, '') ~ '^0*[0-9]{1,9}$' THEN 'unparsable feedback count'
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
