SELECT COUNT(*) AS n FROM {{ ref('int_order_payments') }}
