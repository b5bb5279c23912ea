-- Module 2: the daily shape of demand (commute peaks at 8:00 and 17:00-18:00).
SELECT
    hr AS hour_of_day,
    COUNT(*) AS hours_observed,
    ROUND(AVG(cnt), 1) AS mean_rentals,
    MIN(cnt) AS min_rentals,
    MAX(cnt) AS max_rentals
FROM bike_sharing_hourly
GROUP BY hr
ORDER BY hr
