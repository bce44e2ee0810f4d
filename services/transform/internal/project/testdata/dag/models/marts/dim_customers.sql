SELECT customer_id, name FROM {{ ref('stg_customers') }}
