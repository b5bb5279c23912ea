"""What modules 1-4 must show an attendee, read from their executed copies and from the emulated
account's record of their calls: each lab opens with its objectives, duration and cost; the
figures exist; the numbers are right (Athena's bytes scanned: text > Parquet > one partition,
as the emulator measured them); the ETL's run and Comprehend's entities and key phrases are
shown; every exercise's solution runs against the workshop's account."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from lambdas.janitor.prices import PRICES_FILE
from workshopctl.local.labs_step import LABS_DIR, execute_notebook, lab_label

STEMS = ["1-overview", "2-data-engineering", "3-regression", "4-big-data"]
SOLUTIONS = LABS_DIR / "solutions"


def _cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def _text(cell) -> str:
    """What a code cell printed or displayed, as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def _cell_with(cells, needle: str):
    (found,) = [c for c in cells if c.cell_type == "code" and needle in c.source]
    return found


@pytest.mark.parametrize("stem", STEMS)
def test_each_lab_opens_with_objectives_duration_and_cost(stem):
    first = _cells(LABS_DIR / f"{stem}.ipynb")[0].source
    for heading in ("**Objectives**", "**Duration**", "**Cost**"):
        assert heading in first, f"{stem}: {heading} missing from the first cell"
    assert re.search(r"\*\*Duration\*\* \| \d+ minutes", first)


@pytest.mark.parametrize("stem", STEMS)
def test_each_lab_has_exercises_with_solutions_apart_and_discussion_prompts(stem):
    cells = _cells(LABS_DIR / f"{stem}.ipynb")
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert re.search(r"^## Exercises?\b", markdown, re.MULTILINE)
    assert re.search(r"^## Discussion$", markdown, re.MULTILINE)
    prompts = markdown.split("## Discussion", 1)[1].split("##", 1)[0]
    assert prompts.count("\n* ") >= 2
    module = f"module_{stem.split('-')[0]}"
    assert f"solutions/{module}.py" in markdown
    assert (SOLUTIONS / f"{module}.py").exists()


def test_the_helpers_prices_are_the_price_tables():
    """The labs ship without lambdas/, so the helper carries the prices; they must not drift."""
    import workshop

    table = json.loads(PRICES_FILE.read_text())["usage_usd"]
    assert table["athena-tb-scanned"] == workshop.ATHENA_USD_PER_TB
    assert table["glue-dpu-hour"] == workshop.GLUE_USD_PER_DPU_HOUR
    assert table["comprehend-unit"] == workshop.COMPREHEND_USD_PER_UNIT


def test_athena_bills_at_least_10_mb_rounded_up_to_the_megabyte():
    import workshop

    mb = workshop.MB
    assert workshop.athena_query_cost(1)["bytes_billed"] == 10 * mb
    assert workshop.athena_query_cost(10 * mb + 1)["bytes_billed"] == 11 * mb
    assert workshop.athena_query_cost(2**40)["usd"] == pytest.approx(5.0)


def test_a_glue_run_is_billed_per_dpu_second_with_a_minute_minimum():
    import workshop

    job = {"WorkerType": "G.1X", "NumberOfWorkers": 2}
    assert workshop.glue_run_cost({"ExecutionTime": 90}, job)["DPU-seconds"] == 180
    assert workshop.glue_run_cost({"ExecutionTime": 10}, job)["usd"] == pytest.approx(
        120 / 3600 * 0.44
    )
    reported = {"ExecutionTime": 90, "DPUSeconds": 45.0}  # Flex or auto scaling
    assert workshop.glue_run_cost(reported, job)["DPU-seconds"] == 45.0


def test_module_2_shows_the_target_seasonality_and_correlations(executed):
    cells = _cells(executed("2-data-engineering").executed)
    for plot in ("plot_target", "plot_seasonality", "plot_correlations"):
        assert _images(_cell_with(cells, f"workshop.{plot}(")) == 1, plot


def test_module_3_sweeps_the_depth_and_shows_overfitting(executed):
    cells = _cells(executed("3-regression").executed)
    sweep = _cell_with(cells, "workshop.plot_depth_sweep(")
    assert _images(sweep) == 1
    printed = _text(sweep)
    best = re.search(r"best depth (\d+): validation RMSLE ([\d.]+)", printed)
    deepest = re.search(r"depth 24: training RMSLE ([\d.]+), validation RMSLE ([\d.]+)", printed)
    assert best and deepest, printed
    assert 1 < int(best.group(1)) < 24
    assert float(deepest.group(1)) < float(deepest.group(2))  # memorised the training days
    assert float(deepest.group(2)) > float(best.group(2))


def test_module_4_measures_what_each_layout_scans_as_athena_counted_it(executed, rehearsal):
    cells = _cells(executed("4-big-data").executed)
    printed = _text(_cell_with(cells, "bytes scanned per layout"))
    scanned = json.loads(re.search(r"bytes scanned per layout: (\{.*\})", printed).group(1))
    tsv, parquet, partition = (
        scanned[k] for k in ("TSV text", "Parquet", "Parquet, one partition")
    )
    assert tsv > parquet > partition > 0
    # The numbers the lab shows are the ones the emulator measured for the lab's queries.
    measured = {
        c.usage["athena_bytes_scanned"]
        for c in rehearsal.account.log.calls(lab_label("4-big-data"))
        if c.operation == "StartQueryExecution"
    }
    assert {tsv, parquet, partition} <= measured
    assert _images(_cell_with(cells, "workshop.plot_scans(")) == 1


def test_module_4_reads_the_deploys_etl_run_instead_of_starting_one(executed, rehearsal):
    cells = _cells(executed("4-big-data").executed)
    runs = _text(_cell_with(cells, "glue.get_job_runs("))
    assert "SUCCEEDED" in runs and "DPU-seconds" in runs
    assert re.search(
        r"rows read [\d,]+, written to Parquet [\d,]+", _text(_cell_with(cells, "--summary"))
    )
    operations = {c.operation for c in rehearsal.account.log.calls(lab_label("4-big-data"))}
    assert {"GetJob", "GetJobRuns"} <= operations
    assert "StartJobRun" not in operations


def test_module_4_shows_entities_and_key_phrases(executed, rehearsal):
    cells = _cells(executed("4-big-data").executed)
    assert "QUANTITY" in _text(_cell_with(cells, "batch_detect_entities("))
    assert _images(_cell_with(cells, "workshop.plot_counts(")) == 1
    calls = rehearsal.account.log.calls(lab_label("4-big-data"))
    used = {c.operation for c in calls if c.service == "comprehend" and not c.denied}
    assert {"BatchDetectSentiment", "BatchDetectEntities", "BatchDetectKeyPhrases"} <= used


# The exercises' solutions, run in a kernel as the attendee (after the modules they build on),
# each with what it must find.
SOLUTION_CELLS = [
    f"import sys\nsys.path.insert(0, {str(LABS_DIR)!r})\nimport workshop\n"
    "from solutions import module_1, module_2, module_3, module_4",
    "sizes = module_1.table_sizes().set_index('table')\n"
    "assert (sizes['files'] > 0).all() and (sizes['MB'] > 0).all(), sizes\n"
    "assert {'bike_sharing_hourly', 'bank_marketing', 'reviews_tsv', 'reviews_parquet'}"
    " <= set(sizes.index)\n"
    "assert (sizes['USD per full scan'] >= 10 * 1024**2 / 1024**4 * 5.0).all()",
    "hour = workshop.read_csv(workshop.raw_uri('bike-sharing/hour.csv'))\n"
    "weather = module_2.demand_by_weather(hour).set_index('weathersit')\n"
    "assert weather['hours'].sum() == 17379\n"
    "assert weather['mean_rentals'].idxmin() == weather.index.max()  # heavy rain\n"
    "rush = module_2.add_rush_hour(hour).groupby('rush_hour')['cnt'].mean()\n"
    "assert rush[1] > 2 * rush[0]",
    "uris = workshop.recall('bike_features')\n"
    "train, test = workshop.read_csv(uris['train']), workshop.read_csv(uris['test'])\n"
    "features = [c for c in train.columns if c not in ('cnt', 'day')]\n"
    "scores = module_3.linear_with_one_hot_hour(train, test, features)\n"
    "assert scores['hour one-hot'] < 0.8 * scores['hour as a number'], scores",
    "bill = module_4.dashboard_cost('Dresses').set_index('table')\n"
    "assert bill.loc['reviews_tsv', 'reviews'] == bill.loc['reviews_parquet', 'reviews'] > 0\n"
    "scanned = bill['bytes scanned']\n"
    "assert scanned['reviews_tsv'] > scanned['reviews_parquet']\n"
    "assert (bill['USD per 30 days'] >= 8640 * 10 * 1024**2 / 1024**4 * 5.0).all()",
]


def test_every_exercise_solution_runs_against_the_workshops_account(
    executed, rehearsal, lab_workspace, tmp_path
):
    executed("2-data-engineering")  # module 3's solution reads module 2's features
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in SOLUTION_CELLS]
    path = tmp_path / "solutions-1-4.ipynb"
    nbformat.write(notebook, path)
    settings = rehearsal.lab_environment(lab_label("solutions 1-4"), lab_workspace / "home")

    run = execute_notebook(path, output_dir=tmp_path / "executed", settings=settings, timeout=120)

    assert run.status == "ok", run.error
    assert not [c for label, c in rehearsal.account.log.denials() if label == "lab solutions 1-4"]
