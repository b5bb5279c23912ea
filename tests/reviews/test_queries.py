"""The module's named queries: Athena's dialect, DuckDB over the ETL output, bytes read."""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlglot

from tests.reviews.conftest import needs_pyspark
from training_code.reviews import schema
from workshopctl.local.reviews_bytes import (
    BYTES_RATIO_TARGET,
    compare_queries,
    connect_reviews,
    reviews_queries,
)

QUERY_NAMES = {
    "reviews_sample",
    "reviews_low_rated_in_category",
    "reviews_low_rated_bodies",
    "reviews_top_products_by_rating",
}


def test_the_module_has_its_four_queries():
    assert set(reviews_queries()) == QUERY_NAMES


@pytest.mark.parametrize("name", sorted(QUERY_NAMES))
def test_query_parses_in_athenas_dialect_and_reads_the_curated_table(name):
    parsed = sqlglot.parse(reviews_queries()[name], read="athena")
    assert len(parsed) == 1 and parsed[0] is not None
    assert {t.name for t in parsed[0].find_all(sqlglot.exp.Table)} == {schema.CURATED_TABLE}


@pytest.fixture(scope="module")
def tsv_rows(clean_raw) -> list[dict]:
    """The raw rows, read independently of DuckDB and Spark."""
    rows = []
    for path in sorted((clean_raw / schema.RAW_PREFIX).iterdir()):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    return rows


@pytest.fixture(scope="module")
def comparisons(clean_raw, curated) -> dict:
    connection = connect_reviews(clean_raw, curated["root"])
    return {c.name: c for c in compare_queries(connection)}


def parquet_files(curated, category: str = "*") -> list[Path]:
    folder = curated["root"] / schema.CURATED_PREFIX
    return sorted(folder.glob(f"product_category={category}/*.parquet"))


@needs_pyspark
def test_tables_are_declared_like_the_glue_tables(clean_raw, curated):
    connection = connect_reviews(clean_raw, curated["root"])
    raw = connection.execute(f"DESCRIBE {schema.RAW_TABLE}").fetchall()
    assert [r[0] for r in raw] == [c.name for c in schema.RAW_COLUMNS]
    parquet = connection.execute(f"DESCRIBE {schema.CURATED_TABLE}").fetchall()
    assert [r[0] for r in parquet] == [c.name for c in schema.CURATED_COLUMNS] + [
        "product_category"
    ]
    types = {r[0]: r[1] for r in parquet}
    assert types["vine"] == "BOOLEAN" and types["review_date"] == "DATE"


@needs_pyspark
def test_sample_returns_ten_whole_rows(comparisons):
    rows = comparisons["reviews_sample"].parquet.rows
    assert len(rows) == 10
    assert list(rows[0]) == [c.name for c in schema.CURATED_COLUMNS] + ["product_category"]


@needs_pyspark
def test_low_rated_in_category_is_that_category_only(comparisons, tsv_rows):
    rows = comparisons["reviews_low_rated_in_category"].parquet.rows
    assert list(rows[0]) == ["marketplace", "product_title", "review_body", "year",
                             "product_category"]  # fmt: skip
    expected = Counter(
        (r["product_title"], r["review_body"], int(r["review_date"][:4]))
        for r in tsv_rows
        if int(r["star_rating"]) <= 2 and r["product_category"] == "Intimates"
    )
    assert Counter((r["product_title"], r["review_body"], r["year"]) for r in rows) == expected
    assert {r["product_category"] for r in rows} == {"Intimates"}


@needs_pyspark
def test_low_rated_bodies_are_every_one_and_two_star_review(comparisons, tsv_rows):
    rows = comparisons["reviews_low_rated_bodies"].parquet.rows
    expected = Counter(r["review_body"] for r in tsv_rows if int(r["star_rating"]) <= 2)
    assert Counter(r["review_body"] for r in rows) == expected


@needs_pyspark
def test_top_products_are_the_best_rated_with_twenty_reviews(comparisons, tsv_rows):
    rows = comparisons["reviews_top_products_by_rating"].parquet.rows
    ratings = defaultdict(list)
    for r in tsv_rows:
        ratings[r["product_id"]].append(int(r["star_rating"]))
    eligible = {p: round(statistics.mean(v), 2) for p, v in ratings.items() if len(v) >= 20}
    assert len(rows) == min(10, len(eligible)) == 10
    averages = [r["average_rating"] for r in rows]
    assert averages == sorted(averages, reverse=True)
    assert averages[0] == max(eligible.values())
    for row in rows:
        assert row["reviews"] == len(ratings[row["product_id"]]) >= 20
        assert row["average_rating"] == eligible[row["product_id"]]


@needs_pyspark
@pytest.mark.parametrize(
    "name", ["reviews_low_rated_in_category", "reviews_low_rated_bodies",
             "reviews_top_products_by_rating"],
)  # fmt: skip
def test_parquet_and_raw_tsv_give_the_same_answer(comparisons, name):
    comparison = comparisons[name]

    def as_counter(rows):
        return Counter(tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows)

    assert as_counter(comparison.parquet.rows) == as_counter(comparison.tsv.rows)
    if "ORDER BY" in reviews_queries()[name]:
        assert comparison.parquet.rows == comparison.tsv.rows


@needs_pyspark
def test_raw_tsv_queries_read_every_byte_of_every_file(comparisons, clean_raw):
    total = sum(p.stat().st_size for p in (clean_raw / schema.RAW_PREFIX).iterdir())
    for name in QUERY_NAMES - {"reviews_sample"}:  # LIMIT without a filter may stop early
        assert comparisons[name].tsv.bytes_read == total, name


@needs_pyspark
def test_category_filter_reads_only_that_partition(comparisons, curated):
    comparison = comparisons["reviews_low_rated_in_category"]
    partition = sum(p.stat().st_size for p in parquet_files(curated, "Intimates"))
    assert 0 < comparison.parquet.bytes_read <= partition
    assert comparison.ratio >= BYTES_RATIO_TARGET


@needs_pyspark
def test_column_projection_skips_the_text_columns(comparisons, curated):
    comparison = comparisons["reviews_top_products_by_rating"]
    everything = sum(p.stat().st_size for p in parquet_files(curated))
    assert comparison.parquet.bytes_read < 0.1 * everything
    assert comparison.ratio >= BYTES_RATIO_TARGET
