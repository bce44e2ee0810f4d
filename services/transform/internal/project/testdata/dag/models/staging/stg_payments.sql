SELECT order_id, amount, '{{ var("currency") }}' AS currency
FROM {{ source('shop', 'payments') }}
WHERE amount >= {{ var('min_amount') }}
