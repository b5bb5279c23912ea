"""The Workshop Studio bundle deployed into an emulated participant account the way an event
deploys it (issue 19, point 3): the event bucket holds the bundle's assets under its prefix, the
templates read them through the asset parameters (no CDK bootstrap bucket anywhere), the
participant's sign-in role opens their notebook and nothing more, and every lab passes there as
the notebook's own role.

The bundle's rehearsal has its own emulated account, served before the session's ``rehearsal``
(tests/workshop_studio/conftest.py orders the tests) and stopped at the end of this module."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import processes_naming
from tests.labs.conftest import TIME_LIMITS
from tests.workshop_studio.conftest import PARTICIPANT_ACCOUNT
from workshopctl.emulator import rehearsal as emulated
from workshopctl.local.labs_step import execute_notebook, lab_label, notebooks
from workshopctl.workshop_studio_bundle import EVENT_ASSETS_PREFIX, event_parameters
from workshopctl.workshop_studio_templates import BOOTSTRAP_MARKERS

pytestmark = pytest.mark.slow
# The labs' limits against hangs (tests/labs/conftest.py), doubled: this run comes first in the
# session, so its first kernels pay the cold start (the lab kernel's first imports) that the
# session's own lab tests find warm. A notebook that hangs still fails.
COLD_START_FACTOR = 2


@pytest.fixture(scope="module")
def bundle_rehearsal(bundle, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    # The suite's budget of tuning trials, as tests/conftest.py's rehearsal sets it.
    os.environ.setdefault("WORKSHOP_EMULATOR_MAX_TUNING_JOBS", "4")
    workdir = tmp_path_factory.mktemp("bundle-emulator")
    session = emulated.start_bundle(bundle.folder, workdir, account=PARTICIPANT_ACCOUNT)
    yield session
    session.stop()
    assert processes_naming(workdir) == [], "processes outlived the emulated account"


def _event_bucket(session) -> str:
    return event_parameters(PARTICIPANT_ACCOUNT, session.assembly.region)["AssetsBucketName"]


def test_the_event_bucket_holds_the_bundles_assets_under_the_prefix(bundle, bundle_rehearsal):
    event_bucket = _event_bucket(bundle_rehearsal)
    assert bundle_rehearsal.deployment.asset_buckets == [event_bucket]
    s3 = bundle_rehearsal.account.client("s3")
    listed = s3.list_objects_v2(Bucket=event_bucket)["Contents"]
    uploaded = {path.name for path in (bundle.folder / "assets").iterdir()}
    assert {item["Key"] for item in listed} == {EVENT_ASSETS_PREFIX + key for key in uploaded}
    assert bundle_rehearsal.deployment.assets == len(uploaded) == bundle.assets


def test_the_templates_read_every_asset_from_the_event_bucket_and_no_bootstrap(bundle_rehearsal):
    assembly = bundle_rehearsal.assembly
    assert assembly.stack_names == {name: name for name in assembly.templates}
    resolved = json.dumps([r.properties for r in assembly.resources()])
    assert not BOOTSTRAP_MARKERS.search(resolved)
    assert "${AssetsBucket" not in resolved  # every parameter filled in
    event_bucket = _event_bucket(bundle_rehearsal)
    functions = list(assembly.resources("AWS::Lambda::Function"))
    assert functions and {f.properties["Code"]["S3Bucket"] for f in functions} == {event_bucket}
    s3 = bundle_rehearsal.account.client("s3")
    buckets = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    assert not [name for name in buckets if BOOTSTRAP_MARKERS.search(name)]
    # What the deploy unpacked from the event bucket into the data lake (the labs archive).
    assert bundle_rehearsal.deployment.objects > 0


def test_the_deploy_lands_in_the_participant_account(bundle_rehearsal):
    role_arn = bundle_rehearsal.notebook().properties["RoleArn"]
    assert role_arn.startswith(f"arn:aws:iam::{PARTICIPANT_ACCOUNT}:role/")
    sts = bundle_rehearsal.account.client("sts", "participant kernel", role_arn)
    assert sts.get_caller_identity()["Account"] == PARTICIPANT_ACCOUNT


def test_the_participant_role_opens_their_notebook_and_nothing_more(bundle_rehearsal):
    """What the hand-out's first step does as Workshop Studio's participant role (the bundle's
    static/iam_policy.json), then calls its policy does not allow."""
    role = emulated.participant_role_arn(bundle_rehearsal)
    sagemaker = bundle_rehearsal.account.client("sagemaker", "participant", role)
    notebook = bundle_rehearsal.notebook().name
    url = sagemaker.create_presigned_notebook_instance_url(NotebookInstanceName=notebook)
    assert url["AuthorizedUrl"].startswith(f"https://{notebook}.notebook.")

    s3 = bundle_rehearsal.account.client("s3", "participant", role)
    denied = [
        lambda: sagemaker.create_presigned_notebook_instance_url(
            NotebookInstanceName=f"{notebook}-someone-else"
        ),
        lambda: s3.list_objects_v2(Bucket=_event_bucket(bundle_rehearsal)),
        lambda: sagemaker.list_training_jobs(),
    ]
    for call in denied:
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    logged = bundle_rehearsal.account.log.calls("participant")
    assert [call.denied for call in logged] == [False, True, True, True]


def test_every_lab_passes_in_the_participant_account(bundle_rehearsal, tmp_path: Path):
    """All labs in the workshop's order as the participant's notebook role, in one account:
    each later module reads what an earlier one left (tests/labs/conftest.py DEPENDS_ON)."""
    failed = []
    for path in notebooks():
        settings = bundle_rehearsal.lab_environment(lab_label(path.stem), tmp_path / "home")
        run = execute_notebook(
            path, output_dir=tmp_path / "executed", settings=settings,
            timeout=TIME_LIMITS[path.stem] * COLD_START_FACTOR,
        )  # fmt: skip
        if run.status != "ok":
            failed.append(f"{run.name} {run.status}: {run.error} (see {run.html})")
    assert failed == []
    denied = [
        (label, call.operation, call.checks[0].resource if call.checks else None)
        for label, call in bundle_rehearsal.account.log.denials()
        if label.startswith("lab ")
    ]
    assert denied == []
