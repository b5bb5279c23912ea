-- Module 4: a first look at the curated reviews (every column, a handful of rows).
SELECT *
FROM reviews_parquet
LIMIT 10
