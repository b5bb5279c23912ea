"""The Spark ETL on local pyspark: validation, quarantine, typing, partitioning, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.reviews.conftest import SAMPLE_SCALE, SEED, needs_pyspark
from training_code.reviews import schema
from training_code.reviews.generate import generate

pytestmark = needs_pyspark

VALID = (
    "US\t12345678\tRVALID0000001\tWC00000999\t123456789\tKnits style #999\tTops\t4\t2\t3\tN\tY"
    "\t\t\t2016-02-29"  # empty headline and body are allowed; 2016 is a leap year
)


def with_fields(**changes: str) -> str:
    names = [c.name for c in schema.RAW_COLUMNS]
    fields = dict(zip(names, VALID.split("\t"), strict=True))
    fields.update(changes)
    return "\t".join(fields[name] for name in names)


# Each malformed line, and a phrase its quarantine reason must contain.
MALFORMED = {
    "\t".join(VALID.split("\t")[:-1]): "expected 15 tab-separated fields, found 14",
    VALID + "\tstray field": "expected 15 tab-separated fields, found 16",
    "": "blank line",
    with_fields(star_rating="6"): "star_rating must be 1-5, got '6'",
    with_fields(star_rating="four"): "star_rating must be 1-5, got 'four'",
    with_fields(review_date="2015-02-30"): "review_date must be a real yyyy-MM-dd date",
    with_fields(review_date="29/02/2016"): "review_date must be a real yyyy-MM-dd date",
    with_fields(vine="yes"): "vine must be Y or N, got 'yes'",
    with_fields(verified_purchase=""): "verified_purchase must be Y or N",
    with_fields(helpful_votes="9", total_votes="3"): "helpful_votes exceeds total_votes",
    with_fields(total_votes="-1"): "total_votes must be a count",
    with_fields(review_id=""): "review_id must be non-empty",
    with_fields(customer_id="C-1"): "customer_id must be a number",
    with_fields(product_category="Tops/../x"): "product_category must be letters",
    with_fields(marketplace="usa"): "marketplace must be two upper-case letters",
}
BAD_FILE = schema.tsv_file_name("Tops")


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory) -> dict:
    """Generated reviews plus one valid hand-written row and the malformed lines, appended."""
    root = tmp_path_factory.mktemp("sample-raw")
    counts = generate(root, SAMPLE_SCALE, seed=SEED)
    with (root / schema.RAW_PREFIX / BAD_FILE).open("a", encoding="utf-8") as handle:
        handle.write("\n".join([VALID, *MALFORMED, with_fields(star_rating="0", vine="Q")]) + "\n")
    return {"root": root, "generated": sum(counts.values()), "counts": counts}


def run_etl(spark, source: Path, out: Path, write_mode: str = "overwrite") -> dict:
    from training_code.reviews import etl

    return etl.run(
        spark,
        etl.read_lines(spark, str(source / schema.RAW_PREFIX)),
        target=str(out / "parquet"),
        quarantine=str(out / "quarantine"),
        write_mode=write_mode,
    )


@pytest.fixture(scope="module")
def sample_run(spark, sample_raw, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("sample-out")
    return {"summary": run_etl(spark, sample_raw["root"], out), "out": out}


def quarantine_records(out: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((out / "quarantine").glob("part-*.json"))
        for line in path.read_text().splitlines()
    ]


def test_every_line_is_counted_as_curated_or_quarantined(sample_run, sample_raw):
    summary = sample_run["summary"]
    expected_bad = len(MALFORMED) + 1
    assert summary["rows_quarantined"] == expected_bad
    assert summary["rows_out"] == sample_raw["generated"] + 1
    assert summary["rows_in"] == summary["rows_out"] + summary["rows_quarantined"]
    assert summary["header_lines"] == len(schema.CATEGORIES)  # one per file, not rows
    assert sum(summary["quarantine_reasons"].values()) == expected_bad
    per_category = summary["categories"]
    assert per_category["Tops"]["rows_out"] == sample_raw["counts"]["Tops"] + 1
    assert sum(c["rows_quarantined"] for c in per_category.values()) == expected_bad


def test_quarantine_keeps_each_bad_line_with_its_reasons(sample_run):
    records = quarantine_records(sample_run["out"])
    by_line = {record["raw_line"]: record for record in records}
    assert len(by_line) == len(records) == len(MALFORMED) + 1
    for line, phrase in MALFORMED.items():
        assert phrase in by_line[line]["reason"], (line, by_line[line]["reason"])
        assert by_line[line]["source_file"].endswith(BAD_FILE)
    both = by_line[with_fields(star_rating="0", vine="Q")]["reason"]
    assert "star_rating must be 1-5" in both and "vine must be Y or N" in both


def test_valid_rows_are_typed_and_partitioned_by_category(sample_run, sample_raw):
    parquet = sample_run["out"] / "parquet"
    folders = {p.name for p in parquet.iterdir() if p.is_dir()}
    present = {c for c, n in sample_raw["counts"].items() if n}
    assert folders == {f"product_category={c}" for c in present}
    connection = duckdb.connect()
    files = f"{parquet.as_posix()}/*/*.parquet"
    schema_types = dict(
        connection.execute(f"SELECT name, type FROM parquet_schema('{files}')").fetchall()
    )
    assert "product_category" not in schema_types  # in the folder names, not the files
    assert schema_types["star_rating"] == schema_types["year"] == "INT32"
    assert schema_types["vine"] == schema_types["verified_purchase"] == "BOOLEAN"
    codecs = connection.execute(
        f"SELECT DISTINCT compression FROM parquet_metadata('{files}')"
    ).fetchall()
    assert codecs == [("SNAPPY",)]
    row = connection.execute(
        f"SELECT * FROM read_parquet('{files}', hive_partitioning=true) "
        "WHERE review_id = 'RVALID0000001'"
    ).fetchone()
    names = [d[0] for d in connection.description]
    typed = dict(zip(names, row, strict=True))
    assert typed["star_rating"] == 4 and typed["total_votes"] == 3
    assert typed["vine"] is False and typed["verified_purchase"] is True
    assert str(typed["review_date"]) == "2016-02-29" and typed["year"] == 2016
    assert typed["review_headline"] == typed["review_body"] == ""
    assert typed["product_category"] == "Tops"


def test_rerun_overwrites_instead_of_duplicating(spark, sample_raw, sample_run):
    again = run_etl(spark, sample_raw["root"], sample_run["out"])
    written = duckdb.execute(
        f"SELECT count(*) FROM '{(sample_run['out'] / 'parquet').as_posix()}/*/*.parquet'"
    ).fetchone()[0]
    assert written == again["rows_out"] == sample_run["summary"]["rows_out"]
    assert len(quarantine_records(sample_run["out"])) == again["rows_quarantined"]


def test_gzip_files_give_the_same_rows(spark, sample_run, tmp_path):
    generate(tmp_path / "raw", SAMPLE_SCALE, seed=SEED, gzip=True)
    summary = run_etl(spark, tmp_path / "raw", tmp_path / "out")
    assert summary["rows_quarantined"] == 0
    assert summary["rows_out"] == sample_run["summary"]["rows_out"] - 1  # no hand-written row


def test_generated_data_passes_every_check(curated):
    summary = curated["summary"]
    assert summary["rows_quarantined"] == 0
    assert summary["rows_out"] == schema.SOURCE_ROWS


def test_summary_goes_to_a_file_or_s3(tmp_path, monkeypatch):
    import boto3
    from moto import mock_aws

    from training_code.reviews.etl import default_summary_location, write_summary

    summary = {"rows_in": 3, "rows_out": 2, "rows_quarantined": 1}
    local = default_summary_location(str(tmp_path / "quarantine") + "/")
    assert local == f"{tmp_path}/quarantine/_etl_summary.json"  # '_': table readers skip it
    write_summary(summary, local)
    assert json.loads(Path(local).read_text()) == summary

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="curated", CreateBucketConfiguration={
            "LocationConstraint": "eu-west-1"})  # fmt: skip
        write_summary(summary, "s3://curated/reviews/quarantine/_etl_summary.json")
        body = s3.get_object(Bucket="curated", Key="reviews/quarantine/_etl_summary.json")["Body"]
        assert json.loads(body.read()) == summary
