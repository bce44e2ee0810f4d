-- models/staging/stg_ploomes_leads.sql
WITH source AS (
    SELECT * FROM {{ ref('raw_ploomes_leads') }}
),

cleaned AS (
    SELECT
        lead_id,
        TRIM(LOWER(email)) AS email,
        COALESCE(phone, '') AS phone,
        DATE(created_at) AS created_date,
        CASE 
            WHEN status = 'Won' THEN 'Convertido'
            WHEN status = 'Lost' THEN 'Perdido'
            ELSE 'Em Andamento'
        END AS status_ptbr
    FROM source
    WHERE email IS NOT NULL
)

SELECT * FROM cleaned
