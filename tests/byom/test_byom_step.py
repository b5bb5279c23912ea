"""The local target's Module 7 step, end to end."""

from __future__ import annotations

from workshopctl.local.byom_step import ByomScikitStep
from workshopctl.local.workspace import Workspace, timed


def test_step_trains_serves_queries_and_stops_cleanly(tmp_path):
    messages: list[str] = []
    report = timed(ByomScikitStep(), Workspace(tmp_path / ".local"), messages.append)
    assert report.seconds < 30
    metrics = {metric.name: metric for metric in report.metrics}
    assert metrics["serve exit code after SIGTERM"].value == 0
    assert metrics["example accuracy"].value >= 0.9
    assert len(report.tables["predictions"]) == 29
    assert all(path.exists() for path in report.artifacts)
    assert any("JSON request" in line for line in report.lines)
