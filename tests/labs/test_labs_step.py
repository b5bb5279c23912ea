"""LabsStep: runs notebooks in order in fresh kernels, reports status, seconds and HTML links,
and fails the step (naming the notebook and its HTML) when one fails or runs out of time."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from workshopctl.emulator.waits import waited_seconds
from workshopctl.local.labs_step import LABS_DIR, LabsStep, notebooks
from workshopctl.local.workspace import Workspace


def _labs_folder(folder: Path, cells_by_name: dict[str, list[str]]) -> Path:
    folder.mkdir()
    shutil.copy(LABS_DIR / "workshop.py", folder / "workshop.py")
    for name, sources in cells_by_name.items():
        notebook = new_notebook(cells=[new_markdown_cell(f"# {name}")])
        notebook.cells += [new_code_cell(source) for source in sources]
        nbformat.write(notebook, folder / name)
    return folder


def test_notebooks_are_ordered_by_module_number(tmp_path):
    for name in ("10-last.ipynb", "6.2-b.ipynb", "2-a.ipynb", "6.1-a.ipynb"):
        nbformat.write(new_notebook(), tmp_path / name)

    assert [p.name for p in notebooks(tmp_path)] == [
        "2-a.ipynb", "6.1-a.ipynb", "6.2-b.ipynb", "10-last.ipynb"
    ]  # fmt: skip


def test_report_links_each_executed_notebook(tmp_path, rehearsal):
    folder = _labs_folder(
        tmp_path / "labs",
        {
            "1-env.ipynb": [
                "import workshop",
                "print(workshop.environment().source)",
                # Started, then polled to its end: a wait for AWS.
                "workshop.athena_query('SELECT 1 AS one')",
            ]
        },
    )
    workspace = Workspace(tmp_path / "ws")

    report = LabsStep(folder=folder).run_in(rehearsal, workspace, lambda line: None, checks=False)

    [row] = report.tables["lab notebooks"]
    assert (row["notebook"], row["status"], row["html"]) == ("1-env", "ok", "1-env.html")
    html = workspace.root / "labs" / "1-env.html"
    assert report.artifacts == [html]
    executed = nbformat.read(workspace.root / "labs" / "1-env.ipynb", as_version=4)
    # The helper found its settings as on AWS: the SSM parameter, from the notebook's name.
    assert executed.cells[2].outputs[0]["text"].startswith("SSM parameter /")
    assert "SSM parameter" in html.read_text()
    assert row["AWS calls"] >= 1 and row["denied"] == 0
    # The query's span, Start → the poll that saw SUCCEEDED, within the notebook's wall time.
    assert waited_seconds(rehearsal.account.log.calls("lab 1-env")) > 0
    assert 0 <= row["AWS time waited for (s)"] < row["seconds"]
    assert [m.met for m in report.metrics if m.target] == [True, True]
    waited = next(m for m in report.metrics if "waiting for AWS" in m.name)
    assert waited.value == round(waited_seconds(rehearsal.account.log.calls("lab 1-env")), 1)


def test_a_failing_or_slow_notebook_fails_the_step_and_keeps_its_html(tmp_path, rehearsal):
    folder = _labs_folder(
        tmp_path / "labs",
        {
            "1-fails.ipynb": ["raise ValueError('the lab broke')"],
            "2-slow.ipynb": ["import time", "time.sleep(60)"],
            "3-fine.ipynb": ["print('still ran')"],
        },
    )
    workspace = Workspace(tmp_path / "ws")
    lines: list[str] = []

    with pytest.raises(RuntimeError) as failure:
        LabsStep(time_limit=6, folder=folder).run_in(
            rehearsal, workspace, lines.append, checks=False
        )

    message = str(failure.value)
    assert "1-fails failed (ValueError: the lab broke)" in message
    assert "2-slow timed out" in message and "3-fine" not in message
    assert str(workspace.root / "labs" / "1-fails.html") in message
    assert "the lab broke" in (workspace.root / "labs" / "1-fails.html").read_text()
    assert "labs: 3-fine ok" in " ".join(lines)
