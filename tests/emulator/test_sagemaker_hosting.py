"""SageMaker hosting in the emulated account: the serving stack's endpoints come up from the
deploy and answer; an attendee's calls (boto3, the SDK v2, the labs' own helper) reach local
model servers over real HTTP, with the synthesized IAM policies deciding each call."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.conftest import processes_naming
from tests.emulator.conftest import attendee_role_arn
from workshopctl.labs_parameters import attendee_by_role, attendee_values, shared_parameter

REPO = Path(__file__).resolve().parents[2]
SPLIT_TOLERANCE = 0.06  # 200 requests at 10 %: the share's standard deviation is 2.1 points
FAST_WAIT = {"Delay": 0.2, "MaxAttempts": 300}  # botocore waiters poll every 30 s by default


# -- the attendee and what they start from ------------------------------------------------------
@pytest.fixture(scope="module")
def workshop_values(emulated) -> dict:
    """The SSM parameter the attendee environment publishes (what env.json holds)."""
    name = shared_parameter(emulated.assembly).name
    value = emulated.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    return json.loads(value)


@pytest.fixture(scope="module")
def attendee(emulated, assembly, workshop_values) -> dict:
    """The first attendee: their role, name, clients, and model archives in their own prefix
    (copied by the organiser from the serving stack's assets, which their role cannot read)."""
    role = attendee_role_arn(assembly)
    name = attendee_by_role(assembly, role)
    bucket = workshop_values["curated_bucket"]
    own = f"{workshop_values['attendees_prefix']}{name}/"
    models = {}
    s3 = emulated.client("s3")
    for model in assembly.resources("AWS::SageMaker::Model"):
        source = model.properties["PrimaryContainer"]["ModelDataUrl"]
        source_bucket, source_key = source.removeprefix("s3://").split("/", 1)
        key = f"{own}hosting-tests/{model.logical_id}/model.tar.gz"
        s3.copy_object(
            Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key}
        )
        models[model.logical_id] = f"s3://{bucket}/{key}"
    return {
        "role": role,
        "name": name,
        "prefix": f"{workshop_values['prefix']}-{name}-",
        "bucket": bucket,
        "own": own,
        "models": models,
        "tags": [{"Key": k, "Value": v} for k, v in workshop_values["tags"].items()],
        "runtime": emulated.client("sagemaker-runtime", f"hosting {name}", role),
        "sagemaker": emulated.client("sagemaker", f"hosting {name}", role),
        "s3": emulated.client("s3", f"hosting {name}", role),
    }


@pytest.fixture(scope="module")
def bank_row(emulated, assembly) -> str:
    """One bank-marketing row of the champion model's width (features only, CSV)."""
    from workshopctl.local.xgboost_server import MODEL_FILE, load_model_file

    url = next(
        m.properties["PrimaryContainer"]["ModelDataUrl"]
        for m in assembly.resources("AWS::SageMaker::Model")
        if m.logical_id == "ChampionModel"
    )
    bucket, key = url.removeprefix("s3://").split("/", 1)
    archive = emulated.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        raw = tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith(MODEL_FILE)))
        booster_file = Path(emulated.workdir) / "champion-xgboost-model"
        booster_file.write_bytes(raw.read())
    features = load_model_file(booster_file).num_features()
    return ",".join(str((column * 7) % 5) for column in range(features))


@pytest.fixture
def attendee_kernel(emulated, attendee, monkeypatch) -> str:
    """The attendee's notebook kernel: the emulator's standard AWS settings, as their role."""
    label = f"kernel {attendee['name']}"
    for key, value in emulated.environment(label, attendee["role"]).items():
        monkeypatch.setenv(key, value)
    return label


@pytest.fixture
def fast_sdk_waits(monkeypatch):
    """The SDK sleeps its poll interval (30 s for endpoints, 5 s for jobs) before each
    Describe; the emulated servers start in a second or two, so poll every 0.1 s instead."""
    import sagemaker.session

    waiting = sagemaker.session._wait_until
    monkeypatch.setattr(sagemaker.session, "_wait_until", lambda fn, poll=5: waiting(fn, 0.1))


def _wait_until_settled(sagemaker, endpoint: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        if (
            described["EndpointStatus"] not in ("Creating", "Updating")
            or time.monotonic() > deadline
        ):
            return described
        time.sleep(0.1)


def _ab_endpoint(assembly) -> str:
    return next(
        r.name for r in assembly.resources("AWS::SageMaker::Endpoint") if "Ab" in r.logical_id
    )


# -- the serving stack's endpoints --------------------------------------------------------------
def test_the_deploy_brings_up_the_serving_endpoints(deployment, assembly, attendee, bank_row):
    assert not {t for t in deployment.not_emulated if "SageMaker::Endpoint" in t}
    sagemaker, runtime = attendee["sagemaker"], attendee["runtime"]
    for resource in assembly.resources("AWS::SageMaker::Endpoint"):
        described = sagemaker.describe_endpoint(EndpointName=resource.name)
        assert described["EndpointStatus"] == "InService", described.get("FailureReason")
        assert described["EndpointConfigName"] == resource.properties["EndpointConfigName"]
        config = next(
            c for c in assembly.resources("AWS::SageMaker::EndpointConfig")
            if c.name == resource.properties["EndpointConfigName"]
        )  # fmt: skip
        expected = {
            v["VariantName"]: (float(v["InitialVariantWeight"]), v["InitialInstanceCount"])
            for v in config.properties["ProductionVariants"]
        }
        assert {
            v["VariantName"]: (v["CurrentWeight"], v["CurrentInstanceCount"])
            for v in described["ProductionVariants"]
        } == expected
        assert all(
            v["DesiredWeight"] == v["CurrentWeight"] for v in described["ProductionVariants"]
        )
    answer = runtime.invoke_endpoint(
        EndpointName=_ab_endpoint(assembly), Body=bank_row, ContentType="text/csv"
    )
    assert 0.0 <= float(answer["Body"].read()) <= 1.0
    assert answer["InvokedProductionVariant"] in ("variant-a", "variant-b")
    byom = next(
        r.name for r in assembly.resources("AWS::SageMaker::Endpoint") if "Byom" in r.logical_id
    )
    answer = runtime.invoke_endpoint(
        EndpointName=byom, Body="5.1,3.5,1.4,0.2", ContentType="text/csv", Accept="application/json"
    )
    assert json.loads(answer["Body"].read()) == {"predictions": ["setosa"]}
    assert answer["ContentType"] == "application/json"


def test_the_serving_stacks_scalable_targets_and_policies_are_registered(
    emulated, assembly, attendee
):
    autoscaling = emulated.client(
        "application-autoscaling", f"hosting {attendee['name']}", attendee["role"]
    )
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    expected = {
        r.properties["ResourceId"]: (r.properties["MinCapacity"], r.properties["MaxCapacity"])
        for r in assembly.resources("AWS::ApplicationAutoScaling::ScalableTarget")
    }
    assert {
        t["ResourceId"]: (t["MinCapacity"], t["MaxCapacity"])
        for t in targets
        if t["ResourceId"] in expected
    } == expected
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")[
        "ScalingPolicies"
    ]
    assert {p["PolicyName"] for p in policies} >= {
        r.properties["PolicyName"]
        for r in assembly.resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    }


def test_the_ab_endpoint_splits_traffic_by_weight_and_a_target_variant_pins_it(
    assembly, attendee, bank_row
):
    endpoint = _ab_endpoint(assembly)
    runtime = attendee["runtime"]
    weights = {
        v["VariantName"]: v["CurrentWeight"]
        for v in attendee["sagemaker"].describe_endpoint(EndpointName=endpoint)[
            "ProductionVariants"
        ]
    }
    served = Counter(
        runtime.invoke_endpoint(EndpointName=endpoint, Body=bank_row, ContentType="text/csv")[
            "InvokedProductionVariant"
        ]
        for _ in range(200)
    )
    assert set(served) == set(weights)
    for variant, weight in weights.items():
        assert abs(served[variant] / 200 - weight / sum(weights.values())) <= SPLIT_TOLERANCE, (
            served
        )
    pinned = {
        runtime.invoke_endpoint(
            EndpointName=endpoint, Body=bank_row, ContentType="text/csv", TargetVariant="variant-b"
        )["InvokedProductionVariant"]
        for _ in range(20)
    }
    assert pinned == {"variant-b"}


def test_data_capture_writes_sampled_requests_where_sagemaker_does(
    emulated, assembly, attendee, bank_row
):
    endpoint = _ab_endpoint(assembly)
    config = next(
        r for r in assembly.resources("AWS::SageMaker::EndpointConfig") if "Ab" in r.logical_id
    )
    destination = config.properties["DataCaptureConfig"]["DestinationS3Uri"]
    bucket, prefix = destination.removeprefix("s3://").split("/", 1)
    for _ in range(30):
        attendee["runtime"].invoke_endpoint(
            EndpointName=endpoint, Body=bank_row, ContentType="text/csv"
        )
    s3 = emulated.client("s3")
    deadline = time.monotonic() + 10
    while not (
        keys := [
            o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        ]
    ):
        assert time.monotonic() < deadline, "no captured data was written"
        time.sleep(0.2)
    # <uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl
    parts = keys[0][len(prefix) + 1 :].split("/")
    assert parts[0] == endpoint and parts[1] in ("variant-a", "variant-b")
    assert [len(p) for p in parts[2:6]] == [4, 2, 2, 2] and parts[6].endswith(".jsonl")
    record = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read().splitlines()[0])
    assert record["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv", "mode": "INPUT", "data": bank_row, "encoding": "CSV",
    }  # fmt: skip
    assert record["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    assert 0 <= float(record["captureData"]["endpointOutput"]["data"]) <= 1
    assert set(record["eventMetadata"]) >= {"eventId", "inferenceTime"}
    # Written by the endpoint, as its models' role (which may write there), not by the caller.
    writes = [c for c in emulated.log.calls(f"endpoint {endpoint}") if c.operation == "PutObject"]
    assert writes and not any(c.denied for c in writes)


def test_a_malformed_row_is_a_model_error_and_the_endpoint_keeps_serving(
    assembly, attendee, bank_row
):
    endpoint = _ab_endpoint(assembly)
    with pytest.raises(ClientError) as failed:
        attendee["runtime"].invoke_endpoint(
            EndpointName=endpoint, Body="not-a-number,1,2", ContentType="text/csv"
        )
    error = failed.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert "values" in error["OriginalMessage"]
    answer = attendee["runtime"].invoke_endpoint(
        EndpointName=endpoint, Body=bank_row, ContentType="text/csv"
    )
    assert float(answer["Body"].read()) >= 0


def test_a_json_payload_is_the_body_not_the_requests_parameters(assembly, attendee):
    byom = next(
        r.name for r in assembly.resources("AWS::SageMaker::Endpoint") if "Byom" in r.logical_id
    )
    # A member named like a parameter must neither redirect the call nor change what IAM sees.
    payload = {"instances": [[6.3, 2.9, 5.6, 1.8]], "EndpointName": "somewhere-else"}
    answer = attendee["runtime"].invoke_endpoint(
        EndpointName=byom,
        Body=json.dumps(payload),
        ContentType="application/json",
        Accept="application/json",
    )
    assert json.loads(answer["Body"].read()) == {"predictions": ["virginica"]}


def test_a_payload_over_6_mb_is_refused(assembly, attendee):
    with pytest.raises(ClientError) as refused:
        attendee["runtime"].invoke_endpoint(
            EndpointName=_ab_endpoint(assembly),
            Body=b"0" * (6 * 1024 * 1024 + 1),
            ContentType="text/csv",
        )
    assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_another_attendees_endpoint_is_denied(emulated, attendee, workshop_values, bank_row):
    someone_else = next(a for a in attendee_values(emulated.assembly) if a != attendee["name"])
    other = f"{workshop_values['prefix']}-{someone_else}-ab"
    with pytest.raises(ClientError) as denied:
        attendee["runtime"].invoke_endpoint(
            EndpointName=other, Body=bank_row, ContentType="text/csv"
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    logged = emulated.log.calls(f"hosting {attendee['name']}")[-1]
    assert (logged.operation, logged.denied) == ("InvokeEndpoint", True)
    assert logged.checks[0].resource.endswith(f":endpoint/{other}")


# -- an attendee's own endpoints ----------------------------------------------------------------
def test_a_model_whose_data_the_role_cannot_read_is_refused_or_fails(emulated, assembly, attendee):
    sagemaker, image = attendee["sagemaker"], _image(assembly, "ChampionModel")
    asset = next(
        m for m in assembly.resources("AWS::SageMaker::Model") if m.logical_id == "ChampionModel"
    )
    unreadable = asset.properties["PrimaryContainer"]["ModelDataUrl"]  # the bootstrap bucket
    name = f"{attendee['prefix']}unreadable"
    with pytest.raises(ClientError) as refused:
        sagemaker.create_model(
            ModelName=name, ExecutionRoleArn=attendee["role"], Tags=attendee["tags"],
            PrimaryContainer={"Image": image, "ModelDataUrl": unreadable},
        )  # fmt: skip
    assert "Could not access model data" in str(refused.value)
    # Readable when the model is created, gone when the endpoint starts: the endpoint fails.
    url = attendee["models"]["ChampionModel"]
    bucket, key = url.removeprefix("s3://").split("/", 1)
    attendee["s3"].copy_object(
        Bucket=bucket, Key=key + ".gone", CopySource={"Bucket": bucket, "Key": key}
    )
    sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=attendee["role"], Tags=attendee["tags"],
        PrimaryContainer={"Image": image, "ModelDataUrl": url + ".gone"},
    )  # fmt: skip
    attendee["s3"].delete_object(Bucket=bucket, Key=key + ".gone")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name, Tags=attendee["tags"],
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name,
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=attendee["tags"])
    described = _wait_until_settled(sagemaker, name)
    assert described["EndpointStatus"] == "Failed"
    assert "Failed to download model data" in described["FailureReason"]
    with pytest.raises(ClientError) as not_serving:
        attendee["runtime"].invoke_endpoint(EndpointName=name, Body="1", ContentType="text/csv")
    assert not_serving.value.response["Error"]["Code"] == "ValidationError"
    for delete, argument in (
        (sagemaker.delete_endpoint, {"EndpointName": name}),
        (sagemaker.delete_endpoint_config, {"EndpointConfigName": name}),
        (sagemaker.delete_model, {"ModelName": name}),
    ):
        delete(**argument)


def test_model_deploy_then_a_blue_green_update_keeps_serving(
    emulated, assembly, attendee, bank_row, attendee_kernel, fast_sdk_waits
):
    import boto3
    import sagemaker
    from sagemaker.model import Model
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import CSVSerializer

    session = sagemaker.Session(
        boto_session=boto3.Session(),
        default_bucket=attendee["bucket"],
        default_bucket_prefix=attendee["own"].rstrip("/"),
    )
    endpoint = f"{attendee['prefix']}sdk-deploy"
    model = Model(
        image_uri=_image(assembly, "ChampionModel"),
        model_data=attendee["models"]["ChampionModel"],
        role=attendee["role"],
        name=f"{endpoint}-model",
        sagemaker_session=session,
        predictor_cls=Predictor,
    )
    predictor = model.deploy(
        initial_instance_count=1, instance_type="ml.m5.large", endpoint_name=endpoint,
        tags=attendee["tags"], serializer=CSVSerializer(),
    )  # fmt: skip
    first = float(predictor.predict(bank_row))
    sm = attendee["sagemaker"]
    # Blue/green: a new config with the challenger; requests keep being answered meanwhile.
    challenger = f"{endpoint}-challenger"
    sm.create_model(
        ModelName=challenger,
        ExecutionRoleArn=attendee["role"],
        Tags=attendee["tags"],
        PrimaryContainer={
            "Image": _image(assembly, "ChampionModel"),
            "ModelDataUrl": attendee["models"]["ChallengerModel"],
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-v2", Tags=attendee["tags"],
        ProductionVariants=[{"VariantName": "challenger", "ModelName": challenger,
                             "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    answers, stop = [], threading.Event()

    def keep_calling() -> None:
        while not stop.is_set():
            answer = attendee["runtime"].invoke_endpoint(
                EndpointName=endpoint, Body=bank_row, ContentType="text/csv"
            )
            answers.append(answer["InvokedProductionVariant"])

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v2")
        assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"
        sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig=FAST_WAIT)
        time.sleep(0.3)
    finally:
        stop.set()
        caller.join()
    described = sm.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointConfigName"] == f"{endpoint}-v2"
    assert [
        (v["VariantName"], v["CurrentInstanceCount"]) for v in described["ProductionVariants"]
    ] == [("challenger", 2)]
    assert "AllTraffic" in answers and answers[-1] == "challenger"
    assert float(predictor.predict(bank_row)) != first  # another model answers now
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "challenger", "DesiredInstanceCount": 3}],
    )
    (variant,) = sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"]
    assert (variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]) == (3, 3)
    predictor.delete_endpoint(delete_endpoint_config=True)
    deadline = time.monotonic() + 10
    while processes_naming(Path(emulated.workdir) / "hosting" / "endpoints" / endpoint):
        assert time.monotonic() < deadline, "the endpoint's servers outlived it"
        time.sleep(0.1)
    with pytest.raises(ClientError) as gone:
        sm.describe_endpoint(EndpointName=endpoint)
    assert gone.value.response["Error"]["Code"] == "ValidationException"
    sm.delete_endpoint_config(EndpointConfigName=endpoint)  # the SDK deleted the current one
    for name in (model.name, challenger):
        sm.delete_model(ModelName=name)


# -- deployment guardrails: staged blue/green updates that roll back on alarms ------------------
@pytest.fixture
def guarded_endpoint(assembly, attendee, bank_row):
    """An attendee's endpoint on the champion ('AllTraffic', one instance) and a second config
    on the challenger ('challenger', two instances); deleted afterwards."""
    sm = attendee["sagemaker"]
    endpoint = f"{attendee['prefix']}guarded-{uuid.uuid4().hex[:6]}"
    for variant, model in (("AllTraffic", "ChampionModel"), ("challenger", "ChallengerModel")):
        name = f"{endpoint}-{variant.lower()}"
        sm.create_model(
            ModelName=name,
            ExecutionRoleArn=attendee["role"],
            Tags=attendee["tags"],
            PrimaryContainer={
                "Image": _image(assembly, model),
                "ModelDataUrl": attendee["models"][model],
            },
        )
        sm.create_endpoint_config(
            EndpointConfigName=name, Tags=attendee["tags"],
            ProductionVariants=[{"VariantName": variant, "ModelName": name,
                                 "InitialInstanceCount": 1 if variant == "AllTraffic" else 2,
                                 "InstanceType": "ml.m5.large"}],
        )  # fmt: skip
    sm.create_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-alltraffic", Tags=attendee["tags"]
    )
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig=FAST_WAIT)
    yield endpoint
    sm.delete_endpoint(EndpointName=endpoint)
    for variant in ("alltraffic", "challenger"):
        sm.delete_endpoint_config(EndpointConfigName=f"{endpoint}-{variant}")
        sm.delete_model(ModelName=f"{endpoint}-{variant}")


def _answers_while_updating(attendee, endpoint: str, bank_row: str) -> list[tuple[str, str]]:
    """(endpoint status, variant that answered) for requests sent until the update ends."""
    seen = []
    while True:
        status = attendee["sagemaker"].describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
        if status not in ("Updating", "RollingBack"):
            return seen
        answer = attendee["runtime"].invoke_endpoint(
            EndpointName=endpoint, Body=bank_row, ContentType="text/csv"
        )
        seen.append((status, answer["InvokedProductionVariant"]))


def test_a_canary_update_sends_its_share_to_the_new_fleet_while_it_bakes_then_all(
    attendee, guarded_endpoint, bank_row
):
    """CANARY at 50 % of the capacity: during the baking period about half of the requests
    reach the new fleet, the rest the old one; then all of them
    (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-canary.html)."""
    sm, endpoint = attendee["sagemaker"], guarded_endpoint
    sm.update_endpoint(
        EndpointName=endpoint,
        EndpointConfigName=f"{endpoint}-challenger",
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "WaitIntervalInSeconds": 3,
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                }
            }
        },
    )
    answered = [variant for _, variant in _answers_while_updating(attendee, endpoint, bank_row)]
    described = sm.describe_endpoint(EndpointName=endpoint)
    # The old fleet answers everything while the new one starts; the canary begins with the
    # new fleet's first answer.
    during = Counter(answered[answered.index("challenger") :])

    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == f"{endpoint}-challenger"
    assert sum(during.values()) > 20, during
    assert 0.3 < during["challenger"] / sum(during.values()) < 0.7, during
    after = attendee["runtime"].invoke_endpoint(
        EndpointName=endpoint, Body=bank_row, ContentType="text/csv"
    )
    assert after["InvokedProductionVariant"] == "challenger"


def test_an_alarm_in_alarm_while_baking_rolls_the_update_back(
    emulated, attendee, guarded_endpoint, bank_row
):
    """ALL_AT_ONCE with an auto-rollback alarm that is in ALARM: the new fleet takes the
    traffic, the bake finds the alarm, and all traffic returns to the old fleet; the endpoint
    stays on its old config, InService, saying why
    (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-all-at-once.html)."""
    sm, endpoint = attendee["sagemaker"], guarded_endpoint
    cloudwatch = emulated.client("cloudwatch")
    alarm = f"{endpoint}-5xx"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}], Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip
    update = {
        "EndpointName": endpoint,
        "EndpointConfigName": f"{endpoint}-challenger",
        "DeploymentConfig": {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 3}
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]},
        },
    }
    try:
        sm.update_endpoint(**update)
        time.sleep(1)  # the new fleet is up and baking
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")
        _answers_while_updating(attendee, endpoint, bank_row)
    finally:
        cloudwatch.delete_alarms(AlarmNames=[alarm])
    described = sm.describe_endpoint(EndpointName=endpoint)

    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == f"{endpoint}-alltraffic"
    assert alarm in described["FailureReason"] and "rolled back" in described["FailureReason"]
    answer = attendee["runtime"].invoke_endpoint(
        EndpointName=endpoint, Body=bank_row, ContentType="text/csv"
    )
    assert answer["InvokedProductionVariant"] == "AllTraffic"


def test_a_deployment_config_with_an_unknown_routing_is_refused(attendee, guarded_endpoint):
    with pytest.raises(ClientError, match="CANARY"):
        attendee["sagemaker"].update_endpoint(
            EndpointName=guarded_endpoint,
            EndpointConfigName=f"{guarded_endpoint}-challenger",
            DeploymentConfig={
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {"Type": "SOMETIMES", "WaitIntervalInSeconds": 1}
                }
            },
        )


def test_a_transform_job_sends_single_records_and_joins_its_input(emulated, assembly, attendee):
    sm, s3 = attendee["sagemaker"], attendee["s3"]
    name = f"{attendee['prefix']}join-records"
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=attendee["role"],
        Tags=attendee["tags"],
        PrimaryContainer={
            "Image": _image(assembly, "ByomModel"),
            "ModelDataUrl": attendee["models"]["ByomModel"],
        },
    )
    flowers = ["5.1,3.5,1.4,0.2", "6.3,2.9,5.6,1.8", "5.0,3.6,1.4,0.2"]
    base = f"{attendee['own']}transform-join/"
    s3.put_object(Bucket=attendee["bucket"], Key=f"{base}in/iris.csv", Body="\n".join(flowers))
    job = {
        "ModelName": name,
        "BatchStrategy": "SingleRecord",
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{attendee['bucket']}/{base}in/",
                }
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://{attendee['bucket']}/{base}out",
            "AssembleWith": "Line",
            "Accept": "text/csv",
        },
        "DataProcessing": {"JoinSource": "Input"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "Tags": attendee["tags"],
    }
    sm.create_transform_job(TransformJobName=name, **job)
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "InProgress"
    sm.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName=name, WaiterConfig=FAST_WAIT
    )
    described = sm.describe_transform_job(TransformJobName=name)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["TransformEndTime"] >= described["TransformStartTime"]
    output = s3.get_object(Bucket=attendee["bucket"], Key=f"{base}out/iris.csv.out")["Body"].read()
    assert output.decode().splitlines() == [
        f"{flowers[0]},setosa",
        f"{flowers[1]},virginica",
        f"{flowers[2]},setosa",
    ]
    nothing = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{attendee['bucket']}/{base}nothing/"}
    empty = {
        **job,
        "TransformInput": {**job["TransformInput"], "DataSource": {"S3DataSource": nothing}},
    }
    sm.create_transform_job(TransformJobName=f"{name}-empty", **empty)
    with pytest.raises(WaiterError):  # the waiter stops at Failed
        sm.get_waiter("transform_job_completed_or_stopped").wait(
            TransformJobName=f"{name}-empty", WaiterConfig=FAST_WAIT
        )
    failed = sm.describe_transform_job(TransformJobName=f"{name}-empty")
    assert failed["TransformJobStatus"] == "Failed"
    assert "No S3 objects found" in failed["FailureReason"]
    sm.delete_model(ModelName=name)


# -- the shapes the labs' SDK v3 reads back -------------------------------------------------------
def test_describes_leave_out_the_optional_members_never_set(assembly, attendee):
    """The SDK v3's typed resources (``Model.get``, ``EndpointConfig.get``, what ``create``
    returns) refuse an empty VpcConfig or DataCaptureConfig: as in AWS, they are absent."""
    sm, name = attendee["sagemaker"], f"{attendee['prefix']}describe-shape"
    sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": _image(assembly, "ChampionModel"),
                          "ModelDataUrl": attendee["models"]["ChampionModel"]},
        ExecutionRoleArn=attendee["role"],
        Tags=attendee["tags"],
    )  # fmt: skip
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "champion", "ModelName": name,
                             "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
        Tags=attendee["tags"],
    )  # fmt: skip

    model = sm.describe_model(ModelName=name)
    config = sm.describe_endpoint_config(EndpointConfigName=name)

    assert "VpcConfig" not in model and "Containers" not in model
    assert model["PrimaryContainer"]["ModelDataUrl"] == attendee["models"]["ChampionModel"]
    assert "DataCaptureConfig" not in config
    assert [v["VariantName"] for v in config["ProductionVariants"]] == ["champion"]
    sm.delete_endpoint_config(EndpointConfigName=name)
    sm.delete_model(ModelName=name)


def _image(assembly, model: str) -> str:
    """The image of one of the serving stack's models (by logical id)."""
    found = next(m for m in assembly.resources("AWS::SageMaker::Model") if m.logical_id == model)
    return found.properties["PrimaryContainer"]["Image"]


def test_per_variant_invocations_and_latency_are_in_cloudwatch_per_minute(
    emulated, assembly, attendee, bank_row
):
    """Module 7's cell: AWS/SageMaker Invocations, ModelLatency and OverheadLatency per
    EndpointName and VariantName, read with get_metric_data by the attendee's role."""
    from datetime import UTC, datetime, timedelta

    endpoint = _ab_endpoint(assembly)
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    served = Counter(
        attendee["runtime"].invoke_endpoint(EndpointName=endpoint, Body=bank_row,
                                            ContentType="text/csv")["InvokedProductionVariant"]
        for _ in range(40)
    )  # fmt: skip
    cloudwatch = emulated.client("cloudwatch", f"hosting {attendee['name']}", attendee["role"])

    def query(metric: str, variant: str, stat: str) -> dict:
        dimensions = [{"Name": "EndpointName", "Value": endpoint},
                      {"Name": "VariantName", "Value": variant}]  # fmt: skip
        return {"Id": f"{metric.lower()}_{variant.replace('-', '_')}", "MetricStat": {
            "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric,
                       "Dimensions": dimensions},
            "Period": 60, "Stat": stat}}  # fmt: skip

    queries = [query(metric, variant, stat) for variant in served
               for metric, stat in (("Invocations", "Sum"), ("ModelLatency", "Average"),
                                    ("OverheadLatency", "Average"),
                                    ("Invocation5XXErrors", "Sum"))]  # fmt: skip
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=start - timedelta(minutes=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=2),
    )  # fmt: skip
    results = {r["Id"]: sum(r["Values"]) for r in answer["MetricDataResults"]}
    for variant, count in served.items():
        key = variant.replace("-", "_")
        # Other tests of this module invoke the endpoint too, within the same minutes.
        assert results[f"invocations_{key}"] >= count
        assert results[f"modellatency_{key}"] > 0  # microseconds
        assert results[f"overheadlatency_{key}"] >= 0
        assert results[f"invocation5xxerrors_{key}"] == 0
