SELECT order_id, customer_id, created_at FROM {{ source('shop', 'orders') }}
