"""Shared fixtures of the lab tests: the notebooks, executed once per session against the
session's emulated AWS account (tests/conftest.py ``rehearsal``), as the first attendee.

Every notebook runs in a fresh kernel against one session workspace, in the workshop's order,
because later modules read what earlier ones left (6.1 trains on module 5's upload, 6.2 reads
6.1's tuning job). Asking for a notebook executes the ones it depends on first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from workshopctl.local.labs_step import (
    LABS_DIR,
    NotebookRun,
    execute_notebook,
    lab_label,
    notebooks,
)

# Seconds each notebook may take here, well above what it takes (README of labs/): a notebook
# that hangs or slows down tenfold fails instead of stalling the suite.
TIME_LIMITS = {
    "1-overview": 60,
    "2-data-engineering": 60,
    "3-regression": 60,
    "4-big-data": 120,
    "5-classification": 90,
    "6.1-tuning": 150,
    "6.2-tuning-analysis": 60,
    "7-byom": 180,
    "8-mlops": 240,  # the bank pipeline (4 trials) and the promotion's endpoint update
}
DEPENDS_ON = {
    "3-regression": ["2-data-engineering"],
    "6.1-tuning": ["5-classification"],
    "6.2-tuning-analysis": ["6.1-tuning"],
    "7-byom": ["6.1-tuning"],  # the A/B test's champion (module 5) and challenger (6.1)
}

if str(LABS_DIR) not in sys.path:  # the tests import the helper as the notebooks do
    sys.path.insert(0, str(LABS_DIR))


@pytest.fixture(scope="session")
def lab_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("labs-workspace")


@pytest.fixture(scope="session")
def executed(lab_workspace: Path, rehearsal) -> Callable[[str], NotebookRun]:
    """``executed("5-classification")`` → that notebook's run (and its prerequisites')."""
    runs: dict[str, NotebookRun] = {}
    output = lab_workspace / "executed"

    def run(stem: str) -> NotebookRun:
        if stem not in runs:
            for earlier in DEPENDS_ON.get(stem, []):
                run(earlier)
            settings = rehearsal.lab_environment(lab_label(stem), lab_workspace / "home")
            runs[stem] = execute_notebook(
                LABS_DIR / f"{stem}.ipynb",
                output_dir=output,
                settings=settings,
                timeout=TIME_LIMITS[stem],
            )
        return runs[stem]

    return run


@pytest.fixture(scope="session")
def notebook_stems() -> list[str]:
    return [path.stem for path in notebooks()]
