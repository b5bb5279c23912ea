-- Module 4: the best-rated products among those with at least 20 reviews (top 10).
SELECT
    product_id,
    product_title,
    product_category,
    COUNT(*) AS reviews,
    ROUND(AVG(star_rating), 2) AS average_rating
FROM reviews_parquet
GROUP BY product_id, product_title, product_category
HAVING COUNT(*) >= 20
ORDER BY average_rating DESC, reviews DESC, product_id
LIMIT 10
