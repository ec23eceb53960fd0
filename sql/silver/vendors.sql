{{ config(materialized="incremental", description="Valid vendor rows: one per vendor per snapshot (copies that disagree are all quarantined, exact copies beyond the first too).") }}
SELECT
    vendor_name,
    shipping_cost,
    review_score,
    feedback_count,
    snapshot_id,
    observed_at
FROM {{ ref(model="silver.vendors_validated") }}
WHERE reason IS NULL
