-- models/marts/fct_subscriptions.sql
-- Ploomes "Plano anual" deals as subscriptions, the fact the architecture
-- document's mrr metric reads: the monthly value is the annual amount over
-- 12, and a won deal is an active subscription.
{{ config(unique_key='subscription_id') }}

SELECT
    CAST(resource_id AS VARCHAR) AS subscription_id,
    CAST(json_extract(payload, '$.New.ContactId') AS VARCHAR) AS customer_id,
    CAST(CAST(json_extract(payload, '$.New.Amount') AS DECIMAL(18, 2)) / 12 AS DECIMAL(18, 2)) AS monthly_value,
    CAST(date_trunc('month', event_time) AS DATE) AS date_month,
    CASE
        WHEN CAST(json_extract(payload, '$.New.Amount') AS DOUBLE) >= 30000 THEN 'Enterprise'
        WHEN CAST(json_extract(payload, '$.New.Amount') AS DOUBLE) >= 10000 THEN 'Mid-Market'
        ELSE 'SMB'
    END AS customer_segment,
    json_extract_string(payload, '$.New.ProductCategory') AS product_category,
    CAST(json_extract(payload, '$.New.StatusId') AS INTEGER) = 2 AS is_active,
    event_time AS updated_at
FROM {{ source('ploomes', 'deals') }}
WHERE resource_id IS NOT NULL
