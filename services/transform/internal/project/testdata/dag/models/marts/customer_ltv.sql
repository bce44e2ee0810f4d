SELECT c.customer_id, SUM(f.paid) AS ltv
FROM {{ ref('dim_customers') }} c
JOIN {{ ref('fct_orders') }} f USING (customer_id)
GROUP BY 1
