"""The rehearsal's MLOps checks on the deployed workshop, through the API as in AWS: the attendee
starts every deployed pipeline, each runs in the emulated account as its role; then the bank
model the pipeline registered is approved, and the approval travels through the deployed
EventBridge rule to the promotion function, which puts it in the A/B endpoint as challenger.

Every name comes from the cloud assembly: the pipelines, each one's gate (its condition step,
read from the definition: the metric its property file holds and the parameter it is compared
with), the rule, the function's group and endpoint (its environment). Nothing is re-derived
from the workshop config.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workshopctl.cloud_assembly import CloudAssembly, Resource
from workshopctl.emulator.pipeline_expressions import json_get
from workshopctl.local.deployed_checks import function_by_handler

Log = Callable[[str], None]
PIPELINE_TIMEOUT_SECONDS = 900
ENDPOINT_TIMEOUT_SECONDS = 120
PROMOTION_HANDLER = "promotion.handler.handler"
# The operator's approval (AWS console, Studio or the API): not a workshop role.
APPROVER = "rehearsal: organiser approves"
APPROVAL_DESCRIPTION = "Approved by the rehearsal (the organiser's review)"


@dataclass
class PipelineCheck:
    """One execution of one deployed pipeline."""

    pipeline: str
    status: str
    seconds: float
    failure_reason: str = ""
    execution_arn: str = ""
    steps: list[dict] = field(default_factory=list)  # step, status, seconds, what it ran
    gate: dict | None = None  # metric, value, comparison, threshold, passed


@dataclass
class PromotionCheck:
    package: str
    delivery: dict  # the rule, the function, status, attempts, its answer
    endpoint: str
    challenger_model_data: str  # what the endpoint's challenger variant serves now
    package_model_data: str
    # The endpoint's callers' request, sent to the challenger: its status and answer (a model
    # of other features than the champion's fails here, and would fail every routed request).
    challenger_answer: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.delivery.get("status") == "Delivered"
            and (self.delivery.get("result") or {}).get("action") == "promoted"
            and self.challenger_model_data == self.package_model_data
            and self.challenger_answer.get("status") == 200
        )


# -- pipelines ------------------------------------------------------------------------------
def check_pipelines(
    session, log: Log, parameters: Mapping[str, Mapping[str, Any]] | None = None
) -> list[PipelineCheck]:
    """Start every deployed pipeline as the first attendee (``parameters`` by pipeline name),
    side by side as attendees would; wait for each; report steps and gates."""
    assembly: CloudAssembly = session.assembly
    role = session.notebook().properties["RoleArn"]
    sagemaker = session.account.client("sagemaker", "rehearsal: attendee runs pipelines", role)
    started = {}
    for pipeline in sorted(assembly.resources("AWS::SageMaker::Pipeline"), key=lambda r: r.name):
        given = (parameters or {}).get(pipeline.name, {})
        arn = sagemaker.start_pipeline_execution(
            PipelineName=pipeline.name,
            PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in given.items()],
        )["PipelineExecutionArn"]
        log(f"pipelines: started {pipeline.name} ({arn.rsplit('/', 1)[-1]})")
        started[pipeline.name] = (pipeline, arn, time.monotonic())
    organiser = session.account.client("sagemaker", label="rehearsal checks")
    return [
        _finished(organiser, session, pipeline, arn, began, log)
        for pipeline, arn, began in started.values()
    ]


def _finished(sagemaker, session, pipeline: Resource, arn: str, began: float, log: Log):
    deadline = began + PIPELINE_TIMEOUT_SECONDS
    while True:
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{pipeline.name} still running after {PIPELINE_TIMEOUT_SECONDS} s")
        time.sleep(0.5)
    seconds = time.monotonic() - began
    steps = sagemaker.list_pipeline_execution_steps(
        PipelineExecutionArn=arn, SortOrder="Ascending"
    )["PipelineExecutionSteps"]
    check = PipelineCheck(
        pipeline.name,
        described["PipelineExecutionStatus"],
        seconds,
        described.get("FailureReason", ""),
        arn,
        [_step_row(step) for step in steps],
    )
    check.gate = _gate(sagemaker, session, pipeline, arn, steps)
    log(f"pipelines: {pipeline.name} {check.status} in {seconds:.1f} s"
        + (f": {check.failure_reason}" if check.failure_reason else ""))  # fmt: skip
    return check


def _step_row(step: dict) -> dict:
    metadata = step.get("Metadata") or {}
    ran = next(iter(metadata.values()), {}) if metadata else {}
    shown = ran.get("Arn", "").rsplit("/", 1)[-1] or json.dumps(ran)
    seconds = (step["EndTime"] - step["StartTime"]).total_seconds() if "EndTime" in step else None
    return {
        "step": step["StepName"],
        "status": step["StepStatus"],
        "seconds": round(seconds, 1) if seconds is not None else None,
        "ran": shown,
        "failure": step.get("FailureReason", ""),
    }


def _gate(sagemaker, session, pipeline: Resource, arn: str, steps: list[dict]) -> dict | None:
    """The pipeline's quality gate as the definition writes it (its first condition step's
    comparison of a property-file value with a parameter), with this run's values."""
    definition = json.loads(pipeline.properties["PipelineDefinition"]["PipelineDefinitionBody"])
    condition = next((s for s in definition["Steps"] if s["Type"] == "Condition"), None)
    if condition is None:
        return None
    (comparison,) = condition["Arguments"]["Conditions"]
    left, right = comparison["LeftValue"], comparison["RightValue"]
    if "Std:JsonGet" not in left or "Get" not in right:
        return None
    reference = left["Std:JsonGet"]["PropertyFile"]["Get"]  # Steps.<step>.PropertyFiles.<name>
    _, step_name, _, file_name = reference.split(".")
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    values = {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]}
    threshold = float(values[right["Get"].removeprefix("Parameters.")])
    gate = {"metric": left["Std:JsonGet"]["Path"], "comparison": comparison["Type"],
            "threshold": threshold, "value": None, "passed": None}  # fmt: skip
    ran = {s["StepName"]: s for s in steps}
    if step_name not in ran or ran[step_name]["StepStatus"] != "Succeeded":
        return gate
    declared = next(
        f
        for s in definition["Steps"]
        if s["Name"] == step_name
        for f in s.get("PropertyFiles", [])
        if f["PropertyFileName"] == file_name
    )
    job = ran[step_name]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
    outputs = sagemaker.describe_processing_job(ProcessingJobName=job)["ProcessingOutputConfig"]
    (output,) = [o for o in outputs["Outputs"] if o["OutputName"] == declared["OutputName"]]
    bucket, _, key = output["S3Output"]["S3Uri"].removeprefix("s3://").partition("/")
    s3 = session.account.client("s3", label="rehearsal checks")
    body = s3.get_object(Bucket=bucket, Key=f"{key.rstrip('/')}/{declared['FilePath']}")["Body"]
    gate["value"] = float(json_get(json.loads(body.read()), gate["metric"], reference))
    outcome = ran.get(condition["Name"], {}).get("Metadata", {}).get("Condition", {})
    gate["passed"] = outcome.get("Outcome") == "True"
    return gate


# -- promotion -------------------------------------------------------------------------------
def check_promotion(session, log: Log) -> PromotionCheck:
    """Approve the newest package of the group the promotion function serves; the deployed
    rule must deliver the approval to the function, which must make it the challenger."""
    assembly: CloudAssembly = session.assembly
    function = function_by_handler(assembly, PROMOTION_HANDLER)
    environment = function.properties["Environment"]["Variables"]
    group, endpoint = environment["MODEL_PACKAGE_GROUP"], environment["ENDPOINT_NAME"]
    challenger = environment["CHALLENGER_VARIANT"]
    approver = session.account.client("sagemaker", label=APPROVER)
    (newest,) = approver.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
    )["ModelPackageSummaryList"]
    package = newest["ModelPackageArn"]
    bus = session.account.event_bus
    before = len(bus.deliveries)
    log(f"promotion: approving {package}")
    approver.update_model_package(
        ModelPackageArn=package,
        ModelApprovalStatus="Approved",
        ApprovalDescription=APPROVAL_DESCRIPTION,
    )
    delivered = [d for d in bus.idle()[before:] if d.target == function.arn]
    if not delivered:
        raise RuntimeError(f"no approval event reached {function.name}: check the rule")
    delivery = delivered[-1]
    log(f"promotion: {function.name} {delivery.status} after {delivery.attempts} attempt(s): "
        f"{delivery.result or delivery.error}")  # fmt: skip
    checks = session.account.client("sagemaker", label="rehearsal checks")
    serving = _challenger_model_data(checks, endpoint, challenger)
    described = checks.describe_model_package(ModelPackageName=package)
    (container,) = described["InferenceSpecification"]["Containers"]
    answer = _ask_variant(session, endpoint, challenger)
    log(f"promotion: the endpoint's callers' row, sent to {challenger}: {answer}")
    return PromotionCheck(
        package,
        {"rule": delivery.rule, "function": function.name, "status": delivery.status,
         "attempts": delivery.attempts, "result": delivery.result, "error": delivery.error},
        endpoint,
        serving,
        container["ModelDataUrl"],
        answer,
    )  # fmt: skip


def _ask_variant(session, endpoint: str, variant: str) -> dict:
    """One request as the endpoint's callers send it (a row as wide as its champion's model
    reads), routed to ``variant`` with TargetVariant, as the attendee."""
    from botocore.exceptions import ClientError

    from workshopctl.local.deployed_checks import feature_row

    role = session.notebook().properties["RoleArn"]
    runtime = session.account.client("sagemaker-runtime", "rehearsal: attendee traffic", role)
    try:
        answer = runtime.invoke_endpoint(
            EndpointName=endpoint, TargetVariant=variant, ContentType="text/csv",
            Body=feature_row(session, endpoint).encode(),
        )  # fmt: skip
    except ClientError as error:
        return {"status": error.response["ResponseMetadata"]["HTTPStatusCode"],
                "error": error.response["Error"].get("Message", "")}  # fmt: skip
    return {"status": 200, "answer": answer["Body"].read().decode().strip()[:80]}


def _challenger_model_data(sagemaker, endpoint: str, variant: str) -> str:
    """What the endpoint's ``variant`` serves once its update has ended."""
    deadline = time.monotonic() + ENDPOINT_TIMEOUT_SECONDS
    while (described := sagemaker.describe_endpoint(EndpointName=endpoint))[
        "EndpointStatus"
    ] == "Updating":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{endpoint} still updating after {ENDPOINT_TIMEOUT_SECONDS} s")
        time.sleep(0.2)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    (model,) = [v["ModelName"] for v in config["ProductionVariants"] if v["VariantName"] == variant]
    return sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelDataUrl"]
