-- Module 4: the text of every low-rated (1-2 star) review, e.g. to score with Comprehend.
SELECT review_body
FROM reviews_parquet
WHERE star_rating <= 2
