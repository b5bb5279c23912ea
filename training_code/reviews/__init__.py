"""Module 4 (big-data engineering): customer reviews in the Amazon Customer Reviews schema.

``schema`` says what each column is and where it comes from, ``generate`` writes the raw
tab-separated files at any scale, ``etl`` is the Spark job (local pyspark or AWS Glue 5) that
validates and types them into partitioned Parquet, and ``comprehend`` scores a sample of reviews.
"""
