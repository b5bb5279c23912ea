"""The local target's pipelines step: it runs the definitions the tests check and snapshot,
and reports each step, the gate's metric against its threshold, and the registered models."""

from __future__ import annotations

import json

from workshopctl.local.pipelines_step import LocalPipeline, pipelines_report
from workshopctl.local.workspace import Workspace


def test_report_shows_steps_the_gate_and_the_registered_model(bank_pass):
    run = bank_pass.run
    pipeline = LocalPipeline("bank-marketing", run.pipeline, definition={})
    report = pipelines_report([pipeline], [run], Workspace(bank_pass.buckets))

    assert report.lines[0].startswith("mlws-bank-marketing: Succeeded in ")
    steps = report.tables["mlws-bank-marketing steps"]
    assert [row["step"] for row in steps] == [step.name for step in run.steps]
    assert {row["status"] for row in steps} == {"Succeeded", "NotExecuted"}
    (gate,) = report.metrics
    auc = run.registered_models[0]["metrics"]["auc"]
    assert (gate.value, gate.target, gate.met) == (auc, ">= 0.6", True)
    (model,) = report.tables["registered models"]
    assert (model["group"], model["version"], model["approval"]) == (
        "mlws-bank-marketing", 1, "Approved"
    )  # fmt: skip
    assert model["auc"] == round(auc, 4)
    assert all(path.is_file() for path in report.artifacts)
    names = {path.name for path in report.artifacts}
    assert {"evaluation.json", "roc.png", "test.csv.out", "1.json"} <= names
    registry_entry = next(p for p in report.artifacts if p.name == "1.json")
    assert json.loads(registry_entry.read_text())["approval_status"] == "Approved"
