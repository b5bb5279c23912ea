"""The Amazon Customer Reviews schema, and how the clothing reviews are mapped into it.

Module 4 of the workshop queried the public Amazon Customer Reviews data set (tab-separated
files ``amazon_reviews_us_<Category>_v1_00.tsv.gz``, and a Parquet copy partitioned by
``product_category``). That bucket is gone; the workshop now uses real review text from the
"Women's E-Commerce Clothing Reviews" data set (23,486 reviews, vendored under ``data/reviews/``)
in the same columns. Every column below says where its values come from: copied from the source,
derived from it, or synthetic (seeded and deterministic) where the source has nothing.

One description serves the generator, the ETL job's tests, the local DuckDB views and the Glue
tables (``RAW_TABLE`` over the TSV files, ``CURATED_TABLE`` over the Parquet files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOURCE_FILE = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "reviews"
    / ("WomensClothingE-CommerceReviews.parquet.brotli")
)
SOURCE_ROWS = 23_486  # scale factor 1

RAW_TABLE = "reviews_tsv"
CURATED_TABLE = "reviews_parquet"
# Keys inside the buckets: the raw files under the raw bucket, the ETL's outputs in curated.
RAW_PREFIX = "reviews/tsv"
CURATED_PREFIX = "reviews/parquet"
QUARANTINE_PREFIX = "reviews/quarantine"
SUMMARY_KEY = "reviews/etl-summary.json"

MARKETPLACE = "US"
# Synthetic review dates are drawn uniformly from these days (the source has no dates).
FIRST_REVIEW_DATE = "2014-01-01"
LAST_REVIEW_DATE = "2017-12-31"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Glue / Athena (Hive DDL) type
    source: str  # where the values come from


RAW_COLUMNS: tuple[Column, ...] = (
    Column("marketplace", "string", f"constant '{MARKETPLACE}'"),
    Column("customer_id", "string", "synthetic: seeded 8-digit number"),
    Column(
        "review_id", "string",
        "synthetic: 'R' + 13 base-36 characters, a seeded bijection of the row number (unique)",
    ),
    Column(
        "product_id", "string",
        "Clothing ID as a 10-character ASIN-like id: 'WC' + the id zero-padded to 8 digits",
    ),
    Column(
        "product_parent", "string",
        "derived: a stable 9-digit number from Clothing ID (one parent per product)",
    ),
    Column(
        "product_title", "string",
        "derived: '<Class Name> style #<Clothing ID>' (+ ' (petite)' for the General Petite "
        "division); the most frequent class of the product",
    ),
    Column(
        "product_category", "string",
        "Department Name in the original's style (one word, see CATEGORY_BY_DEPARTMENT); "
        "'Apparel' where the source has no department",
    ),
    Column("star_rating", "int", "Rating (1-5)"),
    Column("helpful_votes", "int", "Positive Feedback Count"),
    Column(
        "total_votes", "int",
        "synthetic: helpful_votes + a seeded number of unhelpful votes (0..helpful_votes // 4 + 1)",
    ),
    Column("vine", "string", "synthetic: 'Y' for a seeded 1 % of reviews, else 'N'"),
    Column("verified_purchase", "string", "synthetic: 'Y' for a seeded 90 % of reviews, else 'N'"),
    Column(
        "review_headline", "string",
        "Title ('' where missing); tabs and line breaks replaced as in review_body",
    ),
    Column(
        "review_body", "string",
        "Review Text ('' where missing); line breaks become '<br />' as in the original data, "
        "tabs become spaces, other control characters are removed",
    ),
    Column(
        "review_date", "date",
        f"synthetic: a seeded day in {FIRST_REVIEW_DATE}..{LAST_REVIEW_DATE} (yyyy-MM-dd)",
    ),
)  # fmt: skip
"""The published TSV columns, in file order (the TSV has no ``year``)."""

PARTITION_COLUMN = Column("product_category", "string", RAW_COLUMNS[6].source)

_CURATED_TYPES = {"vine": "boolean", "verified_purchase": "boolean"}  # 'Y'/'N' → true/false
CURATED_COLUMNS: tuple[Column, ...] = (
    *(
        Column(c.name, _CURATED_TYPES.get(c.name, c.type), c.source)
        for c in RAW_COLUMNS
        if c.name != PARTITION_COLUMN.name
    ),
    Column("year", "int", "derived by the ETL: year(review_date)"),
)
"""The Parquet columns (``product_category`` is the partition, not a column of the files)."""

DROPPED_SOURCE_COLUMNS = {
    "Age": "personal data with no Amazon column",
    "Recommended IND": "no Amazon column (star_rating carries the opinion)",
    "Division Name": "only in product_title (petite)",
}

CATEGORY_BY_DEPARTMENT = {
    "Tops": "Tops",
    "Dresses": "Dresses",
    "Bottoms": "Bottoms",
    "Intimate": "Intimates",
    "Jackets": "Jackets",
    "Trend": "Trend",
}
FALLBACK_CATEGORY = "Apparel"
CATEGORIES: tuple[str, ...] = tuple(sorted({*CATEGORY_BY_DEPARTMENT.values(), FALLBACK_CATEGORY}))

TSV_HEADER = "\t".join(column.name for column in RAW_COLUMNS)


def tsv_file_name(category: str, gzip: bool = False) -> str:
    """The file name the original data set used for one category."""
    return f"amazon_reviews_us_{category}_v1_00.tsv" + (".gz" if gzip else "")


# What the Glue tables need beyond the columns (the data-lake stack builds them from these).
RAW_TABLE_STORAGE = {
    "input_format": "org.apache.hadoop.mapred.TextInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "serialization_library": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
    # No quoting and no escape character: fields never hold a tab or a line break (the
    # generator replaces them), and quotes and backslashes in review text are literal.
    "serde_parameters": {"field.delim": "\t", "serialization.format": "\t"},
    "table_parameters": {"skip.header.line.count": "1", "classification": "csv"},
}
CURATED_TABLE_STORAGE = {
    "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serialization_library": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    "serde_parameters": {"serialization.format": "1"},
    "table_parameters": {"classification": "parquet", "parquet.compression": "SNAPPY"},
}


def partition_projection(location: str) -> dict[str, str]:
    """Table parameters for Athena partition projection on ``product_category`` (no crawler,
    no MSCK REPAIR): ``location`` is the table's LOCATION, e.g. ``s3://bucket/reviews/parquet``."""
    return {
        "projection.enabled": "true",
        "projection.product_category.type": "enum",
        "projection.product_category.values": ",".join(CATEGORIES),
        "storage.location.template": (
            f"{location.rstrip('/')}/product_category=${{product_category}}"
        ),
    }
