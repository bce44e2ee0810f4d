-- models/raw/raw_ploomes_leads.sql
-- Flattens Ploomes deal notifications into the lead columns the staging
-- model reads (the demo's deals carry the contact's e-mail and phone).
{{ config(unique_key='lead_id') }}

SELECT
    resource_id AS lead_id,
    json_extract_string(payload, '$.New.ContactEmail') AS email,
    json_extract_string(payload, '$.New.ContactPhone') AS phone,
    event_time AS created_at,
    CASE CAST(json_extract(payload, '$.New.StatusId') AS INTEGER)
        WHEN 2 THEN 'Won'
        WHEN 3 THEN 'Lost'
        ELSE 'Open'
    END AS status
FROM {{ source('ploomes', 'deals') }}
WHERE resource_id IS NOT NULL
