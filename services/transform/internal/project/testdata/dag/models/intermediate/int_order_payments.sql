{{ config(materialized='ephemeral') }}
SELECT o.order_id, o.customer_id, SUM(p.amount) AS paid
FROM {{ ref('stg_orders') }} o
JOIN {{ ref('stg_payments') }} p USING (order_id)
GROUP BY 1, 2
