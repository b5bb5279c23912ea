"""The local data lake: same layout as the raw bucket, same SQL as Athena, run by DuckDB."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workshop_spec.config import PROJECT_ROOT
from workshop_spec.datasets import CSV_DATASETS, NAMED_QUERIES
from workshopctl.local.data_lake_step import DataLakeStep, connect, land_raw_data, run_named_queries
from workshopctl.local.workspace import Workspace


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    land_raw_data(root)
    return root


def test_raw_layout_matches_the_bucket_keys(raw):
    landed = sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())
    assert landed == sorted([*(d.raw_key for d in CSV_DATASETS), "docs/bank-marketing-names.txt"])


def test_named_queries_answer_on_the_real_data(raw):
    results = run_named_queries(connect(raw))
    counts = {row["table_name"]: row["row_count"] for row in results["row-counts"]}
    assert counts == {"bike_sharing_hourly": 17_379, "bank_marketing": 41_188}

    by_hour = results["bike-demand-by-hour"]
    assert [row["hour_of_day"] for row in by_hour] == list(range(24))
    busiest = max(by_hour, key=lambda row: row["mean_rentals"])
    assert busiest["hour_of_day"] == 17  # the evening commute peak

    by_job = results["bank-subscription-rate-by-job"]
    assert sum(row["contacts"] for row in by_job) == 41_188
    assert sum(row["subscriptions"] for row in by_job) == 4_640  # 11.3 % of contacts said yes
    rates = [row["subscription_rate"] for row in by_job]
    assert rates == sorted(rates, reverse=True)
    assert by_job[0]["job"] == "student"


def test_queries_over_tables_of_other_steps_are_skipped_not_failed(raw):
    """The reviews queries need the reviews step's Parquet: the data-lake step skips them."""
    results = run_named_queries(connect(raw), NAMED_QUERIES)
    reviews = {q.name for q in NAMED_QUERIES if q.name.startswith("reviews-")}
    assert reviews
    assert set(results) == {q.name for q in NAMED_QUERIES} - reviews


def test_quoted_strings_are_unquoted_like_opencsvserde(raw):
    jobs = {
        row[0] for row in connect(raw).execute("SELECT DISTINCT job FROM bank_marketing").fetchall()
    }
    assert "admin." in jobs and not any('"' in job for job in jobs)


def test_step_reports_every_named_query(tmp_path):
    report = DataLakeStep().run(Workspace(tmp_path), log=lambda _: None)
    assert set(report.tables) == {
        "named query: row-counts",
        "named query: bike-demand-by-hour",
        "named query: bank-subscription-rate-by-job",
    }


def test_up_then_down_leaves_no_local_state(tmp_path):
    root = tmp_path / "state"
    cli = [sys.executable, "-m", "workshopctl"]
    up = subprocess.run(
        [*cli, "up", "--only", "data", "--root", str(root)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert up.returncode == 0, up.stdout + up.stderr
    assert "bike-demand-by-hour" in up.stdout and (root / "report.html").exists()
    down = subprocess.run(
        [*cli, "down", "--root", str(root)], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert down.returncode == 0
    assert not root.exists()
