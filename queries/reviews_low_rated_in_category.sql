-- Module 4: low-rated (1-2 star) reviews in one category (Intimates, the median-sized one);
-- on the partitioned table the category filter reads that partition's files only.
SELECT
    marketplace,
    product_title,
    review_body,
    year,
    product_category
FROM reviews_parquet
WHERE star_rating <= 2
    AND product_category = 'Intimates'
