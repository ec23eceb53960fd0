{{ config(materialized="materialized_view", description="Valid vendor rows: one per distinct vendor row per snapshot.") }}
SELECT DISTINCT
    vendor_name,
    shipping_cost,
    review_score,
    feedback_count,
    snapshot_id,
    observed_at
FROM {{ ref(model="silver.vendors_validated") }}
WHERE reason IS NULL
