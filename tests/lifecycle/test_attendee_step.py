"""The local target's attendee-environment step: what it runs and what it reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop_spec.config import ORIGINAL_LAB_REPOSITORIES, load_project_config
from workshopctl.cloud_assembly import CloudAssembly
from workshopctl.emulator.rehearsal import attendee_notebook
from workshopctl.labs_parameters import shared_parameter
from workshopctl.local.attendee_step import (
    CRON_MARK,
    AttendeeEnvironmentStep,
    lifecycle_scripts,
    repository_name,
    script_parameters,
)
from workshopctl.local.workspace import Workspace, timed


def deployed_scripts(outdir: Path) -> dict[str, str]:
    assembly = CloudAssembly(outdir)
    return lifecycle_scripts(assembly, attendee_notebook(assembly))


def test_step_runs_the_lifecycle_and_judges_idleness(tmp_path: Path, synth) -> None:
    config = load_project_config()
    parameters = script_parameters(deployed_scripts(synth().outdir)["on-create.sh"])
    repositories = parameters["LAB_REPOSITORIES"].split()
    idle_minutes = config.attendee_environment.idle_minutes
    messages: list[str] = []
    step = AttendeeEnvironmentStep(cdk_out=synth().outdir)
    report = timed(step, Workspace(tmp_path / ".local"), messages.append)

    sandbox = tmp_path / ".local" / "work" / "attendee_environment"
    notebooks = sandbox / "home" / "ec2-user" / "SageMaker"
    for url in repositories:  # cloned from the bare copies of this project's repository
        assert (notebooks / repository_name(url) / "workshopctl" / "__init__.py").is_file()
    environment = json.loads((notebooks / ".workshop" / "env.json").read_text())
    # What the stack's shared SSM parameter holds, as the templates deploy it.
    parameter = shared_parameter(CloudAssembly(synth().outdir))
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


def test_the_scripts_parameters_are_the_ones_the_stack_rendered(synth) -> None:
    """The step reads idle minutes, repositories and the parameter's name from the deployed
    scripts' own export lines (what the stack wrote), not from the workshop config."""
    scripts = deployed_scripts(synth().outdir)
    create, start = (script_parameters(scripts[n]) for n in ("on-create.sh", "on-start.sh"))
    assert create["LAB_REPOSITORIES"].split() == list(ORIGINAL_LAB_REPOSITORIES)
    assert create["LABS_S3_URI"].startswith("s3://cdk-") and create["LABS_S3_URI"].endswith(".zip")
    assert start["IDLE_MINUTES"] == "60"
    assert start["WORKSHOP_SSM_PARAMETER"] == "/mlws/workshop"


@pytest.mark.parametrize(
    "script",
    ["#!/bin/bash\necho no parameters\n",
     "#!/bin/bash\n# --- parameters from the workshop stack ---\nexport A='1'\n",
     "#!/bin/bash\n# --- parameters from the workshop stack ---\nA=1\n# ---\n"],
)  # fmt: skip
def test_a_script_without_a_well_formed_parameter_block_is_refused(script: str) -> None:
    with pytest.raises(ValueError):
        script_parameters(script)
