"""The rehearsal uses the values the templates hold, for a config where re-deriving them from
the workshop config would go wrong (issue 16): a prefix with a '-', named attendees and a
non-default A/B weight. The emulated account is deployed from that config's cloud assembly in a
process of its own, and the labs' helper reads its settings there as a notebook would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.contracts.conftest import CONFIGS
from workshop_spec.config import PROJECT_ROOT
from workshopctl.cloud_assembly import CloudAssembly
from workshopctl.labs_parameters import attendee_values, shared_parameter


@pytest.fixture(scope="module")
def ml_ws(synth) -> CloudAssembly:
    return CloudAssembly(synth(**CONFIGS["ml-ws"]).outdir)


@pytest.fixture(scope="module")
def labs_environment(ml_ws, tmp_path_factory) -> dict:
    finished = subprocess.run(
        [sys.executable, "-m", "workshopctl", "emulator", "--cdk-out", str(ml_ws.outdir),
         "--workdir", str(tmp_path_factory.mktemp("ml-ws-emulator")), "--labs-environment"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout)


def test_the_labs_read_the_parameter_the_stack_publishes(ml_ws, labs_environment):
    parameter = shared_parameter(ml_ws)
    published = json.loads(parameter.properties["Value"])

    assert labs_environment["source"] == f"SSM parameter {parameter.name}"
    assert parameter.name == "/ml-ws/workshop"  # not /ml/... from splitting the prefix at '-'
    shared = ("prefix", "region", "raw_bucket", "curated_bucket", "athena_workgroup",
              "glue_database", "model_repository_uri", "byom_image_uri", "endpoints")  # fmt: skip
    for key in shared:
        assert labs_environment[key] == published[key], key


def test_the_first_attendee_is_the_first_notebook_of_the_templates(ml_ws, labs_environment):
    notebooks = sorted(ml_ws.resources("AWS::SageMaker::NotebookInstance"), key=lambda r: r.name)
    assert [n.name for n in notebooks] == ["ml-ws-ada", "ml-ws-grace"]
    assert labs_environment["attendee"] == "ada"
    own = attendee_values(ml_ws)  # from the attendees' parameters, not the shared one
    assert labs_environment["execution_role_arn"] == own["ada"]["execution_role_arn"]
    repositories = {attendee: entries["image_repository"] for attendee, entries in own.items()}
    assert labs_environment["image_repositories"] == repositories


def test_the_rehearsal_expects_the_deployed_ab_weights(ml_ws, labs_environment):
    """The serving check holds the endpoint to the weights of its endpoint configuration, so
    the config's champion_weight=0.75 arrives there through the templates only."""
    from workshopctl.local.deployed_checks import deployed_weights, labs_parameter

    endpoint = labs_parameter(ml_ws)["endpoints"]["ab"]
    assert endpoint == labs_environment["endpoints"]["ab"] == "ml-ws-bank-ab"
    weights = deployed_weights(ml_ws, endpoint)
    assert weights == {"variant-a": 0.75, "variant-b": 0.25}
