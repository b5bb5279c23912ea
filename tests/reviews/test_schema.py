"""The reviews schema: the Amazon Customer Reviews columns, the mapping, the Glue table facts."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.reviews.conftest import needs_pyspark
from training_code.reviews import schema

# The header of the published amazon_reviews_us_*_v1_00.tsv files.
AMAZON_TSV_HEADER = [
    "marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title",
    "product_category", "star_rating", "helpful_votes", "total_votes", "vine",
    "verified_purchase", "review_headline", "review_body", "review_date",
]  # fmt: skip


def test_raw_columns_are_the_published_tsv_columns_in_order():
    assert [c.name for c in schema.RAW_COLUMNS] == AMAZON_TSV_HEADER
    assert schema.TSV_HEADER.split("\t") == AMAZON_TSV_HEADER


def test_curated_columns_are_typed_and_add_year_without_the_partition():
    curated = {c.name: c.type for c in schema.CURATED_COLUMNS}
    assert list(curated) == [*(n for n in AMAZON_TSV_HEADER if n != "product_category"), "year"]
    assert curated["star_rating"] == curated["helpful_votes"] == curated["year"] == "int"
    assert curated["vine"] == curated["verified_purchase"] == "boolean"
    assert curated["review_date"] == "date"
    assert schema.PARTITION_COLUMN.name == "product_category"


def test_every_column_says_where_its_values_come_from():
    for column in (*schema.RAW_COLUMNS, *schema.CURATED_COLUMNS):
        assert len(column.source) > 10, column.name


@needs_pyspark
def test_the_glue_script_declares_the_same_columns():
    from training_code.reviews import etl

    declared = {"raw": etl.RAW_FIELDS, "curated": etl.CURATED_FIELDS}
    assert declared == {
        "raw": tuple(AMAZON_TSV_HEADER),
        "curated": tuple(c.name for c in schema.CURATED_COLUMNS),
    }


def test_every_source_department_maps_to_a_partition_safe_category():
    departments = {
        row[0]
        for row in duckdb.execute(
            'SELECT DISTINCT "Department Name" FROM read_parquet($p)',
            {"p": str(schema.SOURCE_FILE)},
        ).fetchall()
    }
    assert departments - {None} == set(schema.CATEGORY_BY_DEPARTMENT)
    assert set(schema.CATEGORIES) == {*schema.CATEGORY_BY_DEPARTMENT.values(), "Apparel"}
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", c) for c in schema.CATEGORIES)


@pytest.mark.parametrize("gzip", [False, True])
def test_file_names_follow_the_original_data_set(gzip):
    name = schema.tsv_file_name("Jackets", gzip)
    assert name == "amazon_reviews_us_Jackets_v1_00.tsv" + (".gz" if gzip else "")


def test_partition_projection_enumerates_every_category():
    projection = schema.partition_projection("s3://curated/reviews/parquet/")
    assert projection["projection.enabled"] == "true"
    assert projection["projection.product_category.values"].split(",") == list(schema.CATEGORIES)
    assert projection["storage.location.template"] == (
        "s3://curated/reviews/parquet/product_category=${product_category}"
    )


def test_raw_table_reads_tabs_without_quoting_and_skips_the_header():
    storage = schema.RAW_TABLE_STORAGE
    assert storage["serde_parameters"]["field.delim"] == "\t"
    assert storage["table_parameters"]["skip.header.line.count"] == "1"
    assert "escape.delim" not in storage["serde_parameters"]  # backslashes in text are literal
