-- Module 5: how the label (y = subscribed to a term deposit) varies by job; the base rate is 11 %.
SELECT
    job,
    COUNT(*) AS contacts,
    SUM(CASE WHEN y = 'yes' THEN 1 ELSE 0 END) AS subscriptions,
    ROUND(AVG(CASE WHEN y = 'yes' THEN 1.0 ELSE 0.0 END), 4) AS subscription_rate
FROM bank_marketing
GROUP BY job
ORDER BY subscription_rate DESC, job
