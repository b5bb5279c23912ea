"""Every lab notebook runs top to bottom in local mode, within its time limit, and cleans up."""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.conftest import processes_naming
from tests.labs.conftest import TIME_LIMITS
from workshopctl.local.labs_step import notebooks

STEMS = [path.stem for path in notebooks()]


def test_every_module_has_its_notebook():
    assert STEMS == [
        "1-overview", "2-data-engineering", "3-regression", "4-big-data",
        "5-classification", "6.1-tuning", "6.2-tuning-analysis", "7-byom",
        "8-mlops",
    ]  # fmt: skip
    assert set(TIME_LIMITS) == set(STEMS)


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_runs_top_to_bottom_in_local_mode(executed, lab_workspace, stem):
    run = executed(stem)

    assert run.status == "ok", f"{stem} {run.status}: {run.error} (see {run.html})"
    assert run.seconds < TIME_LIMITS[stem]
    notebook = nbformat.read(run.executed, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "a code cell did not run"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert "<html" in run.html.read_text()[:2000].lower()


@pytest.mark.parametrize("stem", STEMS)
def test_every_plot_lands_in_the_notebook(executed, stem):
    """A plot cell shows its figure (an MPLBACKEND=Agg inherited by the kernel would not)."""
    notebook = nbformat.read(executed(stem).executed, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "plt.show()" in cell.source:
            images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert len(images) == cell.source.count("plt.show()"), cell.source


@pytest.mark.parametrize("stem", ["5-classification", "6.1-tuning", "7-byom", "8-mlops"])
def test_the_sdk_labs_draw_their_results(executed, stem):
    """Modules 5, 6.1, 7 and 8 each end in at least one figure (issue 17's acceptance)."""
    notebook = nbformat.read(executed(stem).executed, as_version=4)
    images = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
              if "image/png" in o.get("data", {})]  # fmt: skip
    assert images


@pytest.mark.parametrize("stem", STEMS)
def test_clean_up_cell_leaves_nothing_running(executed, lab_workspace, stem):
    executed(stem)
    state_file = lab_workspace / "work" / "labs" / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}

    assert state.get("endpoints", []) == []
    assert state.get("models", []) == []
    assert processes_naming(lab_workspace) == []


def test_after_the_labs_the_deployed_functions_and_the_janitor_do_their_job(
    executed, rehearsal, notebook_stems
):
    """Last, as in `make up`: the attendee's traffic splits by the deployed weights, the
    traffic-shift function moves them, and the janitor's apply leaves nothing the labs made."""
    from workshopctl.local.deployed_checks import check_janitor, check_serving

    for stem in notebook_stems:
        executed(stem)
    serving = check_serving(rehearsal, lambda line: None)
    assert serving.ok, serving.split
    assert serving.shift["action"] == "shifted"
    janitor = check_janitor(rehearsal, lambda line: None)
    assert janitor.ok, (janitor.applied, janitor.left)
    labs = [
        (label, call.operation, call.checks[0].resource if call.checks else None)
        for label, call in rehearsal.account.log.denials()
        if label.startswith("lab ")
    ]
    functions = [c for label, c in rehearsal.account.log.denials() if label.startswith("lambda")]
    assert labs == [] and functions == []
