{{ config(materialized='incremental', unique_key='order_id') }}
WITH op AS (
    SELECT * FROM {{ ref('int_order_payments') }}
)
SELECT op.*, c.name FROM op JOIN {{ ref('stg_customers') }} c USING (customer_id)
