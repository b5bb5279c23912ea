"""What the rehearsal checks on the deployed workshop after the labs, as the programs that act
on it in AWS: the attendee invokes the serving stack's A/B endpoint (the weights it was deployed
with, read from the templates), the traffic-shift function moves them, and the janitor's dry run
lists what the labs left before its apply removes it and a second dry run finds nothing.

Every value comes from the cloud assembly (the endpoint the labs' parameter names, the variant
weights of its endpoint configuration, the functions by their handlers); nothing is re-derived
from the workshop config.
"""

from __future__ import annotations

import io
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from workshopctl.cloud_assembly import CloudAssembly, Resource
from workshopctl.labs_parameters import shared_values

SPLIT_TOLERANCE = 0.05  # ±5 points of the weights over the requests below
REQUESTS = 400
SHIFTED = 0.5  # the traffic-shift function moves the endpoint to an even split


@dataclass
class ServingCheck:
    endpoint: str
    deployed_weights: dict[str, float]
    split: list[dict] = field(default_factory=list)  # phase, variant, weight, share
    shift: dict = field(default_factory=dict)  # the function's answer

    @property
    def ok(self) -> bool:
        return all(row["within tolerance"] for row in self.split)


def labs_parameter(assembly: CloudAssembly) -> dict:
    """The labs' shared SSM parameter's value, as the template holds it."""
    return shared_values(assembly)


def deployed_weights(assembly: CloudAssembly, endpoint: str) -> dict[str, float]:
    """Variant → initial weight of the endpoint configuration the endpoint is deployed with."""
    resource = assembly.find("AWS::SageMaker::Endpoint", endpoint)
    if resource is None:
        raise LookupError(f"no endpoint {endpoint} in the assembly")
    config = assembly.find(
        "AWS::SageMaker::EndpointConfig", resource.properties["EndpointConfigName"]
    )
    return {
        v["VariantName"]: float(v.get("InitialVariantWeight", 1.0))
        for v in config.properties["ProductionVariants"]
    }


def function_by_handler(assembly: CloudAssembly, handler: str) -> Resource:
    for function in assembly.resources("AWS::Lambda::Function"):
        if function.properties.get("Handler") == handler:
            return function
    raise LookupError(f"no function with handler {handler} in the assembly")


def feature_row(session, endpoint: str) -> str:
    """A CSV row as wide as the endpoint's first model expects (read from its model data)."""
    from workshopctl.local.xgboost_server import MODEL_FILE, load_model_file

    sagemaker = session.account.client("sagemaker", label="rehearsal checks")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    bucket, key = model["PrimaryContainer"]["ModelDataUrl"][5:].split("/", 1)
    archive = session.account.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(MODEL_FILE))
        booster = Path(session.account.workdir) / "checks-model"
        booster.write_bytes(tar.extractfile(member).read())
    width = load_model_file(booster).num_features()
    return ",".join(str((column * 7) % 5) for column in range(width))


def _split(runtime, endpoint: str, row: str, requests: int) -> dict[str, float]:
    seen = Counter(
        runtime.invoke_endpoint(EndpointName=endpoint, Body=row.encode(), ContentType="text/csv")[
            "InvokedProductionVariant"
        ]
        for _ in range(requests)
    )
    return {variant: count / requests for variant, count in seen.items()}


def check_serving(session, log, requests: int = REQUESTS) -> ServingCheck:
    """The A/B endpoint's split as deployed, then after the traffic-shift function ran."""
    from workshopctl.emulator.functions import Functions

    assembly = session.assembly
    endpoint = labs_parameter(assembly)["endpoints"]["ab"]
    weights = deployed_weights(assembly, endpoint)
    result = ServingCheck(endpoint, weights)
    role = session.notebook().properties["RoleArn"]
    runtime = session.account.client("sagemaker-runtime", "rehearsal: attendee traffic", role)
    row = feature_row(session, endpoint)
    total = sum(weights.values())
    for phase, expected in (("deployed", {v: w / total for v, w in weights.items()}),):
        shares = _split(runtime, endpoint, row, requests)
        result.split += _rows(phase, expected, shares)
    function = function_by_handler(assembly, "traffic_shift.handler.handler")
    even = dict.fromkeys(weights, SHIFTED)
    log(f"serving: {function.name} moves {endpoint} to {even}")
    result.shift = (
        Functions(session.account)
        .invoke(
            function.name, {"endpoint": endpoint, "weights": even}, label="lambda traffic shift"
        )
        .result
    )
    shares = _split(runtime, endpoint, row, requests)
    result.split += _rows("shifted by the function", {v: 1 / len(even) for v in even}, shares)
    # And back, so the endpoint is left as it was deployed.
    Functions(session.account).invoke(
        function.name, {"endpoint": endpoint, "weights": weights}, label="lambda traffic shift"
    )
    return result


def _rows(phase: str, expected: dict[str, float], shares: dict[str, float]) -> list[dict]:
    return [
        {"phase": phase, "variant": variant, "weight": round(weight, 3),
         "share": round(shares.get(variant, 0.0), 3),
         "within tolerance": abs(shares.get(variant, 0.0) - weight) <= SPLIT_TOLERANCE}
        for variant, weight in expected.items()
    ]  # fmt: skip


@dataclass
class JanitorCheck:
    found: list[dict]  # the first dry run: what the labs left
    applied: dict  # the apply's summary
    left: list[dict]  # the second dry run: what is still there

    @property
    def ok(self) -> bool:
        return self.applied.get("complete") is True and not self.left


def check_janitor(session, log) -> JanitorCheck:
    """The janitor as deployed (its function, role and environment): dry run, apply, dry run."""
    from workshopctl.emulator.functions import Functions

    function = function_by_handler(session.assembly, "janitor.handler.handler")
    functions = Functions(session.account)
    found = functions.invoke(function.name, {}, label="lambda janitor").result
    log(f"janitor dry run: {len(found['outcomes'])} resources the labs left")
    applied = functions.invoke(function.name, {"apply": True}, label="lambda janitor").result
    summary = {key: value for key, value in applied.items() if key != "outcomes"}
    left = functions.invoke(function.name, {}, label="lambda janitor").result
    log(f"janitor apply: {summary}; a second dry run finds {len(left['outcomes'])}")
    return JanitorCheck(found["outcomes"], summary, left["outcomes"])
