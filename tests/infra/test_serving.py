"""Properties of the serving stack: variants, weights, capture, scaling, safe updates, alarms."""

from __future__ import annotations

import json

import pytest

from tests.conftest import resources_of

STACK = "mlws-serving"


@pytest.fixture(scope="module")
def serving(templates):
    return templates[STACK]


def endpoint_config_of(template, endpoint_name: str) -> dict:
    (endpoint,) = (
        e for e in resources_of(template, "AWS::SageMaker::Endpoint").values()
        if e["Properties"]["EndpointName"] == endpoint_name
    )  # fmt: skip
    logical_id = endpoint["Properties"]["EndpointConfigName"]["Fn::GetAtt"][0]
    return template["Resources"][logical_id]["Properties"]


def test_ab_endpoint_has_two_stable_variants_weighted_by_config(synth):
    template = synth(serving__champion_weight=0.75).templates[STACK]
    config = endpoint_config_of(template, "mlws-bank-ab")
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    assert set(variants) == {"variant-a", "variant-b"}
    assert variants["variant-a"]["InitialVariantWeight"] == 0.75
    assert variants["variant-b"]["InitialVariantWeight"] == 0.25
    models = {json.dumps(v["ModelName"]) for v in variants.values()}
    assert len(models) == 2  # champion and challenger are different models


def test_both_variants_serve_the_built_in_xgboost_image(serving):
    config = endpoint_config_of(serving, "mlws-bank-ab")
    for variant in config["ProductionVariants"]:
        model_id = variant["ModelName"]["Fn::GetAtt"][0]
        image = json.dumps(
            serving["Resources"][model_id]["Properties"]["PrimaryContainer"]["Image"]
        )
        assert "sagemaker-xgboost:1.7-1" in image


def test_endpoint_configs_are_encrypted_and_capture_data_with_the_data_key(serving):
    (key_id,) = resources_of(serving, "AWS::KMS::Key")
    for config in resources_of(serving, "AWS::SageMaker::EndpointConfig").values():
        assert config["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    capture = endpoint_config_of(serving, "mlws-bank-ab")["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 20
    assert "data-capture/mlws-bank-ab" in json.dumps(capture["DestinationS3Uri"])
    assert "ImportValue" in json.dumps(capture["KmsKeyId"])  # the data lake's key
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}


def test_data_capture_off_at_zero_percent(synth):
    template = synth(serving__data_capture_percent=0).templates[STACK]
    assert "DataCaptureConfig" not in endpoint_config_of(template, "mlws-bank-ab")


def test_every_variant_scales_on_invocations_per_instance_after_its_endpoint(serving):
    targets = resources_of(serving, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert len(targets) == 3  # two A/B variants and the BYOM variant
    for logical_id, target in targets.items():
        properties = target["Properties"]
        assert properties["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert (properties["MinCapacity"], properties["MaxCapacity"]) == (1, 2)
        endpoint_ids = set(resources_of(serving, "AWS::SageMaker::Endpoint"))
        assert endpoint_ids & set(target["DependsOn"]), logical_id
    for policy in resources_of(serving, "AWS::ApplicationAutoScaling::ScalingPolicy").values():
        tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
            "SageMakerVariantInvocationsPerInstance"
        )
        assert tracking["TargetValue"] == 300
        assert (tracking["ScaleInCooldown"], tracking["ScaleOutCooldown"]) == (300, 60)


def test_updates_keep_live_variant_properties_and_roll_back_on_alarms(serving):
    alarms = {json.dumps({"Ref": a}) for a in resources_of(serving, "AWS::CloudWatch::Alarm")}
    for endpoint in resources_of(serving, "AWS::SageMaker::Endpoint").values():
        properties = endpoint["Properties"]
        assert properties["RetainAllVariantProperties"] is True
        policy = properties["DeploymentConfig"]["BlueGreenUpdatePolicy"]
        # One instance per variant by default: a canary may shift at most half of them.
        assert policy["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
        assert policy["TerminationWaitInSeconds"] > 0  # the old fleet stays to roll back to
        rollback = {
            json.dumps(a["AlarmName"])
            for a in properties["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
        }
        assert rollback and rollback <= alarms


def test_instance_count_change_does_not_replace_the_endpoint(synth, serving):
    changed = synth(serving__initial_instance_count=2, serving__max_instances=3).templates[STACK]
    for endpoint in resources_of(changed, "AWS::SageMaker::Endpoint").values():
        routing = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
        assert routing["TrafficRoutingConfiguration"]["Type"] == "CANARY"  # 2 instances: canary
    before = resources_of(serving, "AWS::SageMaker::Endpoint")
    after = resources_of(changed, "AWS::SageMaker::Endpoint")
    assert set(before) == set(after)  # same logical ids: CloudFormation updates, not replaces
    for logical_id in before:
        assert (
            before[logical_id]["Properties"]["EndpointName"]
            == after[logical_id]["Properties"]["EndpointName"]
        )
    counts = {
        v["InitialInstanceCount"]
        for v in endpoint_config_of(changed, "mlws-bank-ab")["ProductionVariants"]
    }
    assert counts == {2}


def test_alarms_watch_errors_latency_and_forgotten_endpoints(serving):
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in resources_of(serving, "AWS::CloudWatch::Alarm").values()
    }
    for variant in ("variant-a", "variant-b"):
        assert alarms[f"mlws-bank-ab-{variant}-5xx"]["MetricName"] == "Invocation5XXErrors"
        latency = alarms[f"mlws-bank-ab-{variant}-latency-p99"]
        assert latency["ExtendedStatistic"] == "p99" and latency["Threshold"] == 500_000
    forgotten = alarms["mlws-bank-ab-no-invocations-6h"]
    assert forgotten["TreatMissingData"] == "breaching"
    assert forgotten["EvaluationPeriods"] == 6
    for properties in alarms.values():
        assert "mlws-alerts" in json.dumps(properties["AlarmActions"])


def test_byom_endpoint_single_variant_or_multi_model(synth, serving):
    single = endpoint_config_of(serving, "mlws-byom")["ProductionVariants"]
    assert [v["VariantName"] for v in single] == ["byom"]
    template = synth(serving__multi_model=True).templates[STACK]
    config = endpoint_config_of(template, "mlws-byom")
    model_id = config["ProductionVariants"][0]["ModelName"]["Fn::GetAtt"][0]
    container = template["Resources"][model_id]["Properties"]["PrimaryContainer"]
    assert container["Mode"] == "MultiModel"
    assert "serving/byom-models/" in json.dumps(container["ModelDataUrl"])


def test_dashboard_shows_each_variant(serving):
    (dashboard,) = resources_of(serving, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for variant in ("variant-a", "variant-b", "byom"):
        assert variant in body
    for metric in ("Invocations", "ModelLatency", "Invocation5XXErrors", "Invocation4XXErrors"):
        assert metric in body


def test_serving_can_be_left_out(synth):
    assert STACK not in synth(features__serving=False).templates


def function_by_handler(template, handler: str) -> dict:
    (function,) = (
        f["Properties"] for f in resources_of(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == handler
    )  # fmt: skip
    return function


def role_statements(template, function: dict) -> list[dict]:
    role_id = function["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in resources_of(template, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_approval_in_the_bank_group_triggers_promotion_with_a_dead_letter_queue(serving):
    (rule,) = resources_of(serving, "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["SageMaker Model Package State Change"]
    assert pattern["detail"] == {
        "ModelPackageGroupName": ["mlws-bank-marketing"],
        "ModelApprovalStatus": ["Approved"],
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    assert "DeadLetterConfig" in target
    function = function_by_handler(serving, "promotion.handler.handler")
    variables = function["Environment"]["Variables"]
    assert variables["ENDPOINT_NAME"] == "mlws-bank-ab"
    assert variables["CHALLENGER_VARIANT"] == "variant-b"
    assert variables["CHALLENGER_WEIGHT"] == "0.1"
    assert "ReservedConcurrentExecutions" not in function


def test_promotion_may_update_only_the_ab_endpoint_and_pass_only_the_endpoint_role(serving):
    statements = {
        s["Sid"]: s
        for s in role_statements(serving, function_by_handler(serving, "promotion.handler.handler"))
    }
    update = statements["UpdateTheEndpoint"]
    assert update["Action"] == "sagemaker:UpdateEndpoint"
    assert any("endpoint/mlws-bank-ab" in json.dumps(r) for r in update["Resource"])
    assert not any(json.dumps(r).endswith('endpoint/mlws-*"]]}') for r in update["Resource"])
    assert statements["PassEndpointRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    for statement in statements.values():
        assert statement["Resource"] != "*", statement


def test_traffic_shift_may_only_change_weights_of_workshop_endpoints(serving):
    function = function_by_handler(serving, "traffic_shift.handler.handler")
    (shift,) = (
        s for s in role_statements(serving, function) if s["Sid"] == "ShiftWorkshopEndpoints"
    )
    assert set(shift["Action"]) == {
        "sagemaker:DescribeEndpoint",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
    }
    assert json.dumps(shift["Resource"]).endswith(':endpoint/mlws-*"]]}')


def test_byom_can_be_serverless_for_quiet_workshops(synth):
    template = synth(serving__byom_serverless=True).templates[STACK]
    (variant,) = endpoint_config_of(template, "mlws-byom")["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MaxConcurrency": 5, "MemorySizeInMB": 2048}
    assert "InstanceType" not in variant and "InitialInstanceCount" not in variant
    targets = resources_of(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert len(targets) == 2  # the A/B variants only: serverless scales itself
    (byom,) = (
        e["Properties"] for e in resources_of(template, "AWS::SageMaker::Endpoint").values()
        if e["Properties"]["EndpointName"] == "mlws-byom"
    )  # fmt: skip
    routing = byom["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {"Type": "ALL_AT_ONCE"}
