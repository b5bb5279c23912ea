"""environment=studio: the domain's JupyterLab lifecycle configuration, run for real on a
stand-in Studio space, and the labs' helper finding its attendee there.

Studio's ``/opt/ml/metadata/resource-metadata.json`` in a JupyterLab space names the domain,
the space and the user profile; ``ResourceName`` is the app's name (``default``), not the
attendee's (https://docs.aws.amazon.com/sagemaker/latest/dg/jl-lcc.html).
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from notebook_lifecycle.render import CONTENT_LIMIT, encoded_length, render_studio_jupyterlab
from workshopctl.local.attendee_step import Sandbox, make_sandbox, run_script

LABS_URI = "s3://mlws-assets/labs.zip"
PARAMETER = "/mlws/workshop"
ROLES = {
    "ada": "arn:aws:iam::123456789012:role/mlws-attendee-environment-AttendeeadaRole-ABC",
    "grace": "arn:aws:iam::123456789012:role/mlws-attendee-environment-AttendeegraceRole-DEF",
}
PUBLISHED = {
    "prefix": "mlws",
    "region": "eu-west-1",
    "raw_bucket": "raw",
    "curated_bucket": "curated",
    "athena_workgroup": "mlws-workgroup",
    "glue_database": "mlws_datalake",
    "attendee_parameters": [f"{PARAMETER}/attendees/1"],
    "tags": {"workshop": "mlws"},
}


def studio_metadata(profile: str, role: str) -> dict:
    return {
        "AppType": "JupyterLab",
        "DomainId": "d-abc123",
        "SpaceName": "my-space",
        "UserProfileName": profile,
        "ExecutionRoleArn": role,
        "ResourceArn": "arn:aws:sagemaker:eu-west-1:123456789012:app/d-abc123/my-space/"
        "JupyterLab/default",
        "ResourceName": "default",
    }


@pytest.fixture
def space(tmp_path: Path) -> Sandbox:
    sandbox = make_sandbox(tmp_path / "space")
    sandbox.metadata_file.write_text(json.dumps(studio_metadata("mlws-ada", ROLES["ada"])))
    archive = tmp_path / "labs.zip"
    with zipfile.ZipFile(archive, "w") as labs:
        labs.writestr("workshop.py", "# the helper\n")
        labs.writestr("module-1.ipynb", "{}")
    sandbox.put_s3_object(LABS_URI, archive)
    sandbox.put_ssm_parameter(PARAMETER, json.dumps(PUBLISHED))
    return sandbox


def start(sandbox: Sandbox, **values: str):
    script = render_studio_jupyterlab(
        {"LABS_S3_URI": LABS_URI, "WORKSHOP_SSM_PARAMETER": PARAMETER, **values}
    )
    overrides = {"STUDIO_PIP": str(sandbox.kernel_env_pip), "PATH": _path(sandbox)}
    return run_script(sandbox, "studio-jupyterlab.sh", script, overrides)


def _path(sandbox: Sandbox) -> str:
    """The stand-ins first, then this interpreter's folder for ``python3``."""
    return f"{sandbox.root / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin"


def test_the_script_fits_a_studio_lifecycle_configuration() -> None:
    script = render_studio_jupyterlab(
        {
            "LABS_S3_URI": "s3://" + "b" * 63 + "/" + "k" * 68 + ".zip",
            "WORKSHOP_SSM_PARAMETER": PARAMETER,
        }
    )
    assert encoded_length(script) <= CONTENT_LIMIT - 1000


def test_the_labs_and_their_environment_arrive_at_the_first_start(space: Sandbox) -> None:
    run = start(space)
    labs = space.notebook_dir / "labs"
    assert (labs / "workshop.py").is_file() and (labs / "module-1.ipynb").is_file(), run.output
    assert json.loads(space.env_file.read_text()) == PUBLISHED
    assert [call["region"] for call in space.calls("aws")] == ["eu-west-1", "eu-west-1"]


def test_a_restart_keeps_the_attendees_edits_and_refreshes_the_environment(space) -> None:
    start(space)
    notebook = space.notebook_dir / "labs" / "module-1.ipynb"
    notebook.write_text('{"edited": true}')
    space.put_ssm_parameter(PARAMETER, json.dumps({**PUBLISHED, "raw_bucket": "raw-2"}))
    run = start(space)
    assert notebook.read_text() == '{"edited": true}'
    assert "already present, kept" in run.output
    assert json.loads(space.env_file.read_text())["raw_bucket"] == "raw-2"


def test_a_missing_archive_or_parameter_never_fails_the_apps_start(tmp_path: Path) -> None:
    """A lifecycle script that exits non-zero fails the JupyterLab app's start."""
    sandbox = make_sandbox(tmp_path / "bare")
    sandbox.metadata_file.write_text(json.dumps(studio_metadata("mlws-ada", ROLES["ada"])))
    run = start(sandbox)
    assert "labs not delivered" in run.output
    assert "env.json not written" in run.output
    assert not sandbox.env_file.exists()


# -- the labs' helper in the space -------------------------------------------------------------
@pytest.fixture
def helper(space: Sandbox, monkeypatch: pytest.MonkeyPatch):
    start(space)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "labs"))
    import workshop

    for name in ("WORKSHOP_ATTENDEE", "WORKSHOP_NOTEBOOK", "WORKSHOP_SSM_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(space.env_file))
    monkeypatch.setattr(workshop, "NOTEBOOK_METADATA", space.metadata_file)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    workshop.environment.cache_clear()
    with mock_aws():  # the attendees' part, which the helper reads in at its first call
        boto3.client("ssm", region_name=PUBLISHED["region"]).put_parameter(
            Name=PUBLISHED["attendee_parameters"][0],
            Value=json.dumps({"execution_roles": ROLES}),
            Type="String",
        )
        yield workshop
    workshop.environment.cache_clear()


def test_the_helper_finds_the_attendee_from_the_studio_user_profile(helper, space) -> None:
    env = helper.environment()
    assert env.attendee == "ada"
    assert env.execution_role_arn == ROLES["ada"]


def test_without_a_profile_name_the_spaces_execution_role_names_the_attendee(helper, space) -> None:
    space.metadata_file.write_text(json.dumps(studio_metadata("", ROLES["grace"])))
    env = helper.environment()
    assert env.attendee == "grace"
    assert env.execution_role_arn == ROLES["grace"]


def test_an_unknown_studio_user_is_a_clear_error(helper, space) -> None:
    space.metadata_file.write_text(json.dumps(studio_metadata("", "arn:aws:iam::1:role/x")))
    with pytest.raises(RuntimeError, match="WORKSHOP_ATTENDEE"):
        helper.environment()
