"""The rehearsal's MLOps checks (workshopctl/local/mlops_checks.py) on the session's account:
every deployed pipeline started as the attendee, then the approval of the bank model through
the deployed EventBridge rule to the promotion function and into the A/B endpoint."""

from __future__ import annotations

import pytest

from workshopctl.local.mlops_checks import check_promotion


@pytest.fixture(scope="module")
def pipelines(pipeline_runs):
    """The session's runs of every deployed pipeline, made by ``check_pipelines``."""
    return pipeline_runs


def test_every_deployed_pipeline_runs_to_its_gate(pipelines):
    assert set(pipelines) == {"mlws-bank-marketing", "mlws-bike-sharing", "mlws-byom"}
    bank = pipelines["mlws-bank-marketing"]
    assert bank.gate["metric"] == "binary_classification_metrics.auc.value"
    assert bank.gate["comparison"] == "GreaterThanOrEqualTo"
    assert 0.5 < bank.gate["value"] <= 1.0
    # The gate's verdict is the condition step's own outcome, and it decides the run.
    assert bank.gate["threshold"] == 0.6  # the run's value of the parameter
    assert bank.gate["passed"] is True and bank.status == "Succeeded"
    byom = pipelines["mlws-byom"]
    assert byom.status == "Succeeded" and byom.gate is None  # no condition step
    assert [row["step"] for row in byom.steps] == [
        "MakeExampleData", "TrainModel", "IrisTree-CreateModel", "TransformExamples"
    ]  # fmt: skip
    assert all(row["status"] == "Succeeded" and row["seconds"] is not None for row in byom.steps)


@pytest.fixture
def endpoint_restored(emulated):
    """The session's A/B endpoint goes back to the stack's configuration afterwards, for the
    tests that hold it to the templates."""
    sagemaker = emulated.client("sagemaker")
    endpoint = "mlws-bank-ab"
    deployed = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    yield
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=deployed)
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == deployed


def test_an_approved_package_becomes_the_ab_endpoints_challenger(
    pipelines, rehearsal, emulated, endpoint_restored
):
    assert pipelines["mlws-bank-marketing"].status == "Succeeded"
    promotion = check_promotion(rehearsal, print)
    assert promotion.endpoint == "mlws-bank-ab"
    assert promotion.ok, promotion
    # The callers' row reaches the new challenger and is answered: the pipeline's model reads
    # the features the endpoint was trained on (workshop_spec.datasets.BANK_FEATURE_SET).
    assert promotion.challenger_answer["status"] == 200, promotion.challenger_answer
    assert promotion.delivery["attempts"] == 1
    assert promotion.delivery["result"]["variant"] == "variant-b"
    # As the promotion function's role, with nothing denied.
    calls = emulated.log.calls(f"lambda {promotion.delivery['function']}")
    assert {c.operation for c in calls} >= {"DescribeModelPackage", "CreateModel",
                                            "CreateEndpointConfig", "UpdateEndpoint"}  # fmt: skip
    assert not [c for c in calls if c.denied]
