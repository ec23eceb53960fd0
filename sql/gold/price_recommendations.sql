{{ config(materialized="materialized_view", full_refresh="Built from the latest products snapshot only.", description="ElectroWorld's recommended price per item from the latest products snapshot: each vendor's best offer gives the lowest and median competitor price, and the first pricing rule of the env whose category matches sets the price (rounded to cents, then held between the rule's floor and ceiling).") }}
{%- set rules = settings.pricing.rules %}
WITH latest_offers AS (
    SELECT
        p.item,
        MIN(p.category) AS category,
        p.vendor,
        MIN(p.sale_price) AS sale_price
    FROM {{ ref(model="silver.products") }} AS p
    INNER JOIN (SELECT MAX(snapshot_id) AS snapshot_id FROM {{ ref(model="silver.products") }}) AS l
        ON p.snapshot_id = l.snapshot_id
    GROUP BY p.item, p.vendor
),

per_item AS (
    SELECT
        item,
        MIN(category) AS category,
        MIN(sale_price) AS lowest_price,
        COUNT(*) AS vendors
    FROM latest_offers
    GROUP BY item
),

medians AS (
    SELECT
        item,
        CAST(ROUND(CAST(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY sale_price) AS NUMERIC(14, 4)), 2) AS NUMERIC(12, 2)) AS median_price
    FROM latest_offers
    GROUP BY item
),

ruled AS (
    SELECT
        i.item,
        i.category,
        i.lowest_price,
        m.median_price,
        i.vendors,
{%- if rules %}
        CASE
{%- for rule in rules %}
            WHEN {% if rule.category %}i.category = {{ rule.category | sql_string }}{% else %}TRUE{% endif %} THEN {{ rule.name | sql_string }}
{%- endfor %}
        END AS rule
{%- else %}
        CAST(NULL AS VARCHAR(64)) AS rule
{%- endif %}
    FROM per_item AS i
    INNER JOIN medians AS m ON i.item = m.item
)

SELECT
    item,
    category,
    lowest_price,
    median_price,
    vendors,
    rule,
{%- if rules %}
    CAST(CASE
{%- for rule in rules %}
{%- if rule.strategy == "undercut_lowest" %}{% set base = "lowest_price * (100 - " ~ rule.percent ~ ") / 100" %}
{%- elif rule.strategy == "premium_over_median" %}{% set base = "median_price * (100 + " ~ rule.percent ~ ") / 100" %}
{%- else %}{% set base = "median_price" %}{% endif %}
{%- set price = "ROUND(" ~ base ~ ", 2)" %}
{%- if rule.floor %}{% set price = "GREATEST(" ~ price ~ ", " ~ rule.floor ~ ")" %}{% endif %}
{%- if rule.ceiling %}{% set price = "LEAST(" ~ price ~ ", " ~ rule.ceiling ~ ")" %}{% endif %}
        WHEN rule = {{ rule.name | sql_string }} THEN {{ price }}
{%- endfor %}
    END AS NUMERIC(12, 2)) AS recommended_price
{%- else %}
    CAST(NULL AS NUMERIC(12, 2)) AS recommended_price
{%- endif %}
FROM ruled
