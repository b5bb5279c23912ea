"""The local target's attendee-environment step: what it runs and what it reports."""

from __future__ import annotations

import json
from pathlib import Path

from workshop_spec.config import ORIGINAL_LAB_REPOSITORIES, load_project_config
from workshopctl.cloud_assembly import CloudAssembly
from workshopctl.local.attendee_step import (
    CRON_MARK,
    AttendeeEnvironmentStep,
    lifecycle_settings,
    repository_name,
)
from workshopctl.local.workspace import Workspace, timed


def test_step_runs_the_lifecycle_and_judges_idleness(tmp_path: Path, synth) -> None:
    config = load_project_config()
    idle_minutes, repositories = lifecycle_settings(config)
    messages: list[str] = []
    step = AttendeeEnvironmentStep(config, cdk_out=synth().outdir)
    report = timed(step, Workspace(tmp_path / ".local"), messages.append)

    sandbox = tmp_path / ".local" / "work" / "attendee_environment"
    notebooks = sandbox / "home" / "ec2-user" / "SageMaker"
    for url in repositories:  # cloned from the bare copies of this project's repository
        assert (notebooks / repository_name(url) / "workshopctl" / "__init__.py").is_file()
    environment = json.loads((notebooks / ".workshop" / "env.json").read_text())
    # What the stack's SSM parameter holds, as the templates deploy it.
    [parameter] = CloudAssembly(synth().outdir).resources("AWS::SSM::Parameter")
    assert environment == json.loads(parameter.properties["Value"])
    assert environment["glue_database"] == config.glue_database_name
    crontab = (sandbox / "crontab").read_text()
    assert crontab.count(CRON_MARK) == 1 and f"--idle-minutes {idle_minutes} " in crontab

    decisions = report.tables["idle decisions"]
    assert {row["expected"] for row in decisions} == {"stop", "keep"}
    assert all(row["decision"] == row["expected"] for row in decisions)
    assert all(
        "stop-notebook-instance" in row["action"] for row in decisions if row["decision"] == "stop"
    )
    assert [metric.name for metric in report.metrics] == [
        "on-create.sh first run (s)",
        "on-start.sh first run (s)",
        "on-create.sh second run (s)",
        "on-start.sh second run (s)",
    ]
    assert all(metric.met and metric.value < 10 for metric in report.metrics)
    assert any("judging synthetic Jupyter sessions" in message for message in messages)
    assert report.seconds < 15


def test_settings_come_from_the_config() -> None:
    assert lifecycle_settings(load_project_config()) == (60, list(ORIGINAL_LAB_REPOSITORIES))
    config = load_project_config(
        {
            "attendee_environment.idle_minutes": "15",
            "attendee_environment.lab_repositories": "https://example.com/x.git",
        }
    )
    assert lifecycle_settings(config) == (15, ["https://example.com/x.git"])
