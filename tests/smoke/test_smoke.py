"""``make smoke`` against the emulated account: the rehearsal's lab runner, pointed at a smoke
target, gives a readiness row per lab (pass or fail, wall time, cost) and cleans up after
itself, whatever the labs left.

The suite runs the whole of ``labs/`` once already (tests/labs); here two small labs stand in
for it (the real first lab and one that leaves data and then fails), as a second attendee, so
this test neither doubles the suite's time nor touches the first attendee's state.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime
from pathlib import Path

import boto3
import nbformat
import pytest
from moto import mock_aws

from tests.conftest import use_dummy_credentials
from workshopctl import smoke
from workshopctl.emulator.rehearsal import attendee_notebook
from workshopctl.local.labs_step import LABS_DIR

LEFT_BEHIND = "smoke-left-behind.csv"


def labs_folder(tmp_path: Path) -> Path:
    """The real overview lab and a lab that writes to the attendee's prefix, then fails."""
    folder = tmp_path / "labs"
    folder.mkdir()
    shutil.copy(LABS_DIR / "workshop.py", folder)
    shutil.copytree(LABS_DIR / "solutions", folder / "solutions")  # the exercises load them
    shutil.copy(LABS_DIR / "1-overview.ipynb", folder)
    broken = nbformat.v4.new_notebook()
    broken.metadata["kernelspec"] = {"name": "conda_python3", "display_name": "Python 3"}
    broken.cells = [
        nbformat.v4.new_code_cell(
            "import pandas as pd, workshop\n"
            f"workshop.write_csv(pd.DataFrame({{'a': [1]}}), workshop.s3_uri('{LEFT_BEHIND}'))"
        ),
        nbformat.v4.new_code_cell("raise RuntimeError('this lab is broken on purpose')"),
    ]
    nbformat.write(broken, folder / "2-broken.ipynb")
    return folder


def test_smoke_reports_each_lab_and_cleans_up_after_itself(rehearsal, tmp_path):
    notebook = attendee_notebook(rehearsal.assembly, 1)
    target = smoke.EmulatedTarget(rehearsal, notebook)
    lines = []
    rows, cleaned = smoke.smoke(
        target, tmp_path / "run", folder=labs_folder(tmp_path), log=lines.append
    )

    by_lab = {row.lab: row for row in rows}
    assert by_lab["1-overview"].status == "pass", by_lab["1-overview"].error
    assert by_lab["2-broken"].status == "fail"
    assert "broken on purpose" in by_lab["2-broken"].error
    assert all(row.seconds > 0 for row in rows)
    # The overview lab queries Athena: its calls have a price.
    assert by_lab["1-overview"].cost.usd > 0
    table = smoke.readiness_table(rows, target.where)
    assert "1/2 labs pass" in table and "$" in table

    # What the broken lab wrote under the attendee's prefix is gone, and nothing is left.
    assert any(LEFT_BEHIND in item for item in cleaned.removed), cleaned.removed
    assert cleaned.left == []
    s3 = rehearsal.account.client("s3")
    curated = next(
        b.name for b in rehearsal.assembly.resources("AWS::S3::Bucket")
        if b.logical_id.startswith("CuratedBucket")
    )  # fmt: skip
    attendee = notebook.name.removeprefix("mlws-")
    listed = s3.list_objects_v2(Bucket=curated, Prefix=f"attendees/{attendee}/")
    assert listed.get("KeyCount", 0) == 0, listed.get("Contents")


def test_without_a_smoke_principal_the_real_account_run_says_how_to_allow_it(synth):
    from workshopctl.cloud_assembly import CloudAssembly

    with pytest.raises(smoke.SmokeError, match="smoke_principal"):
        smoke.smoke_notebook(CloudAssembly(synth().outdir), require_trust=True)


def test_the_smoke_attendee_is_the_one_whose_role_trusts_the_organiser(synth):
    from tests.contracts.conftest import CONFIGS
    from workshopctl.cloud_assembly import CloudAssembly

    assembly = CloudAssembly(synth(**CONFIGS["ml-ws"]).outdir)
    assert smoke.smoke_notebook(assembly, require_trust=True).name == "ml-ws-ada"


def test_in_the_account_each_lab_gets_fresh_credentials_of_the_attendee_role(monkeypatch):
    use_dummy_credentials(monkeypatch, "eu-west-1")
    role = "arn:aws:iam::123456789012:role/ml-ws-ada-role"
    with mock_aws():
        target = smoke.AccountTarget(boto3.Session(), role, "ml-ws-ada", "eu-west-1")
        first = target.lab_environment("lab 1-overview", Path("/tmp/smoke-home"))
        second = target.lab_environment("lab 2-data", Path("/tmp/smoke-home"))
    assert first["AWS_SESSION_TOKEN"] and first["AWS_ACCESS_KEY_ID"] != second["AWS_ACCESS_KEY_ID"]
    assert first["WORKSHOP_NOTEBOOK"] == "ml-ws-ada"
    assert first["AWS_CONFIG_FILE"] == "/dev/null"  # nothing of the organiser's profile


def test_account_cost_prices_the_jobs_a_lab_started(monkeypatch):
    """Training: billable seconds x instances; processing and transform: start to end."""
    from botocore.stub import Stubber

    client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x",
                          aws_secret_access_key="x")  # fmt: skip
    stub = Stubber(client)
    t0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
    t1 = datetime(2026, 12, 1, 10, tzinfo=UTC)
    window = {"NameContains": "ml-ws-ada-", "CreationTimeAfter": t0, "CreationTimeBefore": t1}
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": [{"TrainingJobName": "ml-ws-ada-xgb", "TrainingJobArn":
         "arn:aws:sagemaker:eu-west-1:123456789012:training-job/ml-ws-ada-xgb",
         "CreationTime": t0, "TrainingJobStatus": "Completed"}]},
        window,
    )  # fmt: skip
    stub.add_response(
        "describe_training_job",
        {"TrainingJobName": "ml-ws-ada-xgb", "TrainingJobArn": "arn:aws:sagemaker:eu-west-1:"
         "123456789012:training-job/ml-ws-ada-xgb", "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m"},
         "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
         "AlgorithmSpecification": {"TrainingInputMode": "File"},
         "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2,
                            "VolumeSizeInGB": 5},
         "StoppingCondition": {}, "CreationTime": t0, "BillableTimeInSeconds": 1800},
        {"TrainingJobName": "ml-ws-ada-xgb"},
    )  # fmt: skip
    stub.add_response("list_processing_jobs", {"ProcessingJobSummaries": []}, window)
    stub.add_response("list_transform_jobs", {"TransformJobSummaries": []}, window)
    with stub:
        items = list(smoke.job_instance_seconds(client, "ml-ws-ada", t0, t1))
    assert items == [{"type": "ml.m5.xlarge", "seconds": 3600}]


def test_smoke_is_a_workshopctl_command_that_needs_a_cloud_assembly(tmp_path, capsys):
    args = argparse.Namespace(cdk_out=str(tmp_path), root=str(tmp_path / "r"), time_limit=60.0,
                              emulated=True, region=None)  # fmt: skip
    assert smoke.run_smoke(args) == 2
    assert "make synth" in capsys.readouterr().err
