"""ReviewsStep: the module on the local target, with the programs run as processes."""

from __future__ import annotations

import json

from tests.reviews.conftest import needs_pyspark
from training_code.reviews import schema
from workshopctl.local.reviews_step import TARGETED_QUERIES, ReviewsStep, reviews_queries
from workshopctl.local.workspace import Workspace


@needs_pyspark
def test_step_generates_transforms_and_compares_bytes(tmp_path):
    messages: list[str] = []
    report = ReviewsStep(scale=0.1).run(Workspace(tmp_path), log=messages.append)

    tsv_files = sorted((tmp_path / "raw" / schema.RAW_PREFIX).glob("*.tsv"))
    assert [p.name for p in tsv_files] == [schema.tsv_file_name(c) for c in schema.CATEGORIES]
    summary = json.loads((tmp_path / "curated" / schema.SUMMARY_KEY).read_text())
    assert summary["rows_out"] == round(0.1 * schema.SOURCE_ROWS)
    partitions = {p.name for p in (tmp_path / "curated" / schema.CURATED_PREFIX).iterdir()
                  if p.is_dir()}  # fmt: skip
    assert partitions == {f"product_category={c}" for c, n in summary["categories"].items()
                          if n["rows_out"]}  # fmt: skip

    assert {f"named query: {name}" for name in reviews_queries()} <= set(report.tables)
    measured = report.tables["reviews: bytes read per query (DuckDB profiler)"]
    assert {row["query"] for row in measured} == set(reviews_queries())
    # The ratios themselves are held at scale 1 (test_queries): at this size the Parquet
    # footers' fixed cost is a large share of what a query reads.
    targeted = [m for m in report.metrics if m.target == ">= 10"]
    assert len(targeted) == len(TARGETED_QUERIES) and all(m.value > 1 for m in targeted)
    quarantined = next(m for m in report.metrics if "quarantined" in m.name)
    assert quarantined.value == 0 and quarantined.met
    assert any("python -m training_code.reviews.etl" in m for m in messages)
