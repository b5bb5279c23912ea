"""Shared fixtures: generated reviews (clean, and with malformed lines) and one Spark session.

The Spark-backed fixtures skip, with the reason, only when pyspark cannot be imported; the one
session (local[2], 4 shuffle partitions, no UI) serves every test of the folder.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from training_code.reviews import schema
from training_code.reviews.generate import generate

PYSPARK_MISSING = importlib.util.find_spec("pyspark") is None
needs_pyspark = pytest.mark.skipif(
    PYSPARK_MISSING, reason="pyspark is not installed (requirements pin it; CI installs it)"
)

QUERY_SCALE = 1.0  # the real 23,486 reviews: enough products with 20+ reviews for the top-N query
SAMPLE_SCALE = 0.05  # 1,174 reviews for the validation tests
SEED = 11


@pytest.fixture(scope="session")
def clean_raw(tmp_path_factory) -> Path:
    """Raw bucket root with the generated TSV files at scale 1."""
    root = tmp_path_factory.mktemp("clean-raw")
    generate(root, QUERY_SCALE, seed=SEED)
    return root


@pytest.fixture(scope="session")
def spark():
    if PYSPARK_MISSING:
        pytest.skip("pyspark is not installed (requirements pin it; CI installs it)")
    from training_code.reviews.etl import local_spark_session

    session = local_spark_session("reviews-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def curated(spark, clean_raw, tmp_path_factory) -> dict:
    """The ETL's output over the clean data: curated root, quarantine and summary."""
    from training_code.reviews import etl

    root = tmp_path_factory.mktemp("curated")
    summary = etl.run(
        spark,
        etl.read_lines(spark, str(clean_raw / schema.RAW_PREFIX)),
        target=str(root / schema.CURATED_PREFIX),
        quarantine=str(root / schema.QUARANTINE_PREFIX),
    )
    return {"root": root, "summary": summary}
