"""SageMaker Pipelines executions: the stored definition, run step by step as SageMaker runs it.

moto stores pipelines and records an execution when one is started, but runs nothing. Here
``StartPipelineExecution`` (API_StartPipelineExecution.html) runs the definition the pipeline
holds (the one ``cdk deploy`` created, from the deploy of ``cdk.out``) in a thread of the
emulator, as SageMaker does, with what a caller can observe through the API:

* Every job step is a real job of this emulated account, created **as the pipeline's
  RoleArn**, so the pipeline role's policies decide each ``CreateTrainingJob``,
  ``iam:PassRole``, ``CreateModelPackage`` ... exactly as they do in AWS: a Processing step is
  ``CreateProcessingJob`` with the step's arguments, Training ``CreateTrainingJob``, Tuning
  ``CreateHyperParameterTuningJob``, Model ``CreateModel``, Transform ``CreateTransformJob``,
  RegisterModel ``CreateModelPackage``. The job runs in the emulator's executors (the
  container contract, its own role) and the step waits for it to end.
* A step's properties (what ``{"Get": "Steps.X...."}`` reads) are the job's ``Describe*``
  answer (build-and-manage-propertyfile.html, build-and-manage-steps.html); a tuning step's
  also hold ``TrainingJobSummaries``, best objective first, which ``get_top_model_s3_uri``
  indexes. A step's ``PropertyFiles`` are read from the job's output in S3, as the pipeline role.
* Condition steps choose a branch; steps of the branch not taken never start and are not
  listed. A Fail step ends the execution ``Failed`` with its ``ErrorMessage``; a failed job
  fails its step with the job's ``FailureReason`` and the execution with "Step failure: One or
  multiple steps failed.".
* ``DescribePipelineExecution``, ``ListPipelineExecutions``, ``ListPipelineExecutionSteps``
  (newest first, with each step's ``Metadata``: the job's ARN, a condition's outcome, a fail
  step's message), ``ListPipelineParametersForExecution``,
  ``DescribePipelineDefinitionForExecution`` and ``StopPipelineExecution`` (the running job is
  stopped; the execution ends ``Stopped``).

Job names are ``pipelines-<execution id>-<step name>-<random>`` cut to the API's 63
characters (what SageMaker names them; the format is not documented) and tuning jobs, whose
names may have 32, ``<execution id>-<random>``.

Not emulated: steps running side by side (independent steps run one after another here, in
the definition's order), step caching, retry policies, selective execution, parallelism
settings, callback, Lambda, EMR, ClarifyCheck, QualityCheck and AutoML steps (a definition
with one is refused at start with the step named).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from workshopctl.emulator.executors.sagemaker_jobs import _page
from workshopctl.emulator.pipeline_expressions import ExpressionError, Scope
from workshopctl.emulator.pipeline_plan import (
    PlannedStep,
    UnsupportedDefinition,
    plan,
    resolve_parameters,
)
from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.wire import Call
from workshopctl.local.pipeline_jobs import EmulatedS3

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
JOB_NAME_LIMIT = 63
TUNING_JOB_NAME_LIMIT = 32
STEP_FAILURE = "Step failure: One or multiple steps failed."
_ID_CHARACTERS = string.ascii_lowercase + string.digits
_ENDED = {"Completed", "Failed", "Stopped"}


class StepFailed(Exception):
    """A step ended without success; the message is the step's FailureReason."""


class _Stopped(Exception):
    """The execution was asked to stop while this step ran."""


@dataclass(frozen=True)
class JobStep:
    """How one job step type maps onto the API: the create call, its name field, the describe
    call and the status field, and the Metadata key ListPipelineExecutionSteps uses."""

    create: str
    name_field: str
    describe: str
    status_field: str | None
    metadata_key: str
    arn_field: str
    stop: str | None = None
    name_limit: int = JOB_NAME_LIMIT


JOB_STEPS: dict[str, JobStep] = {
    "Processing": JobStep("create_processing_job", "ProcessingJobName", "describe_processing_job",
                          "ProcessingJobStatus", "ProcessingJob", "ProcessingJobArn",
                          "stop_processing_job"),
    "Training": JobStep("create_training_job", "TrainingJobName", "describe_training_job",
                        "TrainingJobStatus", "TrainingJob", "TrainingJobArn",
                        "stop_training_job"),
    "Tuning": JobStep("create_hyper_parameter_tuning_job", "HyperParameterTuningJobName",
                      "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobStatus",
                      "TuningJob", "HyperParameterTuningJobArn",
                      "stop_hyper_parameter_tuning_job", TUNING_JOB_NAME_LIMIT),
    "Transform": JobStep("create_transform_job", "TransformJobName", "describe_transform_job",
                         "TransformJobStatus", "TransformJob", "TransformJobArn",
                         "stop_transform_job"),
    "Model": JobStep("create_model", "ModelName", "describe_model", None, "Model", "ModelArn"),
}  # fmt: skip


def _random(length: int) -> str:
    return "".join(secrets.choice(_ID_CHARACTERS) for _ in range(length))


def job_name(execution_id: str, step: str, limit: int = JOB_NAME_LIMIT) -> str:
    """A unique job name for one step of one execution, within the API's length limit."""
    if limit <= TUNING_JOB_NAME_LIMIT:
        return f"{execution_id}-{_random(limit - len(execution_id) - 1)}"[:limit]
    suffix = _random(10)
    head = f"pipelines-{execution_id}-{step}"[: limit - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}"


@dataclass
class StepExecution:
    """One started step, as ListPipelineExecutionSteps shows it."""

    name: str
    type: str
    started: float = field(default_factory=time.time)
    status: str = "Executing"
    ended: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        summary = {
            "StepName": self.name,
            "StepDisplayName": self.name,
            "StartTime": self.started,
            "StepStatus": self.status,
            "Metadata": self.metadata,
            "AttemptCount": 1,
        }
        if self.ended is not None:
            summary["EndTime"] = self.ended
        if self.failure_reason:
            summary["FailureReason"] = self.failure_reason
        return summary


@dataclass
class Execution:
    """One run of a pipeline."""

    pipeline_name: str
    pipeline_arn: str
    execution_id: str
    role_arn: str
    definition: dict
    parameters: dict[str, Any]
    display_name: str
    description: str = ""
    status: str = "Executing"
    failure_reason: str | None = None
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)
    steps: list[StepExecution] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    running_job: tuple[JobStep, str] | None = None  # the job a stop must stop
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def arn(self) -> str:
        return f"{self.pipeline_arn}/execution/{self.execution_id}"

    def set(self, **fields: Any) -> None:
        for key, value in fields.items():
            setattr(self, key, value)
        self.modified = time.time()

    def describe(self) -> dict[str, Any]:
        described = {
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionArn": self.arn,
            "PipelineExecutionDisplayName": self.display_name,
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDescription": self.description,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
        }
        if self.failure_reason:
            described["FailureReason"] = self.failure_reason
        return described

    def summary(self) -> dict[str, Any]:
        summary = {
            "PipelineExecutionArn": self.arn,
            "StartTime": self.created,
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDescription": self.description,
            "PipelineExecutionDisplayName": self.display_name,
        }
        if self.failure_reason:
            summary["PipelineExecutionFailureReason"] = self.failure_reason
        return summary


class SageMakerPipelines:
    """The pipeline executions of one emulated account."""

    def __init__(self, account):
        self.account = account
        self.root = Path(account.workdir) / "pipeline-executions"
        self.executions: dict[str, Execution] = {}  # by ARN
        self.lock = threading.Lock()
        self._stopping = threading.Event()

    def install(self) -> SageMakerPipelines:
        execute = self.account.execute
        execute("sagemaker", "StartPipelineExecution", self.start)
        execute("sagemaker", "DescribePipelineExecution", self.describe)
        execute("sagemaker", "ListPipelineExecutions", self.list_executions)
        execute("sagemaker", "ListPipelineExecutionSteps", self.list_steps)
        execute("sagemaker", "ListPipelineParametersForExecution", self.list_parameters)
        execute("sagemaker", "DescribePipelineDefinitionForExecution", self.definition)
        execute("sagemaker", "StopPipelineExecution", self.stop)
        self.account.on_stop(self.shutdown)
        return self

    def shutdown(self) -> None:
        """Stop every execution still running (the emulator is going away)."""
        self._stopping.set()
        with self.lock:
            running = [e for e in self.executions.values() if not e.done.is_set()]
        for execution in running:
            self._request_stop(execution)
        for execution in running:
            execution.done.wait(timeout=30)

    # -- the API --------------------------------------------------------------------------------
    def start(self, call: Call, forward) -> Reply:
        params = call.params
        organiser = self.account.client("sagemaker", label="sagemaker pipelines")
        try:
            pipeline = organiser.describe_pipeline(PipelineName=params["PipelineName"])
        except ClientError as error:
            raise ServiceError("ResourceNotFound", error.response["Error"]["Message"]) from None
        definition = json.loads(pipeline["PipelineDefinition"])
        given = {p["Name"]: p["Value"] for p in params.get("PipelineParameters") or []}
        try:
            plan(definition)
            values = resolve_parameters(definition, given)
        except (UnsupportedDefinition, ValueError) as error:
            raise ServiceError("ValidationException", str(error)) from None
        execution_id = _random(12)
        execution = Execution(
            pipeline_name=pipeline["PipelineName"],
            pipeline_arn=pipeline["PipelineArn"],
            execution_id=execution_id,
            role_arn=pipeline["RoleArn"],
            definition=definition,
            parameters=values,
            display_name=params.get("PipelineExecutionDisplayName") or f"execution-{execution_id}",
            description=params.get("PipelineExecutionDescription", ""),
        )
        with self.lock:
            self.executions[execution.arn] = execution
        thread = threading.Thread(
            target=self._run, args=(execution, given), name=f"pipeline {execution.arn}"
        )
        thread.daemon = True
        thread.start()
        return Reply.of_json({"PipelineExecutionArn": execution.arn})

    def execution(self, arn: str) -> Execution:
        with self.lock:
            found = self.executions.get(arn)
        if found is None:
            raise ServiceError("ResourceNotFound", f"Pipeline execution {arn} does not exist.")
        return found

    def describe(self, call: Call, forward) -> Reply:
        return Reply.of_json(self.execution(call.params["PipelineExecutionArn"]).describe())

    def list_executions(self, call: Call, forward) -> Reply:
        name = call.params["PipelineName"]
        with self.lock:
            found = [e for e in self.executions.values() if e.pipeline_name == name
                     or e.pipeline_arn == name]  # fmt: skip
        found.sort(key=lambda e: e.created, reverse=call.params.get("SortOrder") != "Ascending")
        page, token = _page([e.summary() for e in found], call.params)
        return Reply.of_json({"PipelineExecutionSummaries": page, **token})

    def list_steps(self, call: Call, forward) -> Reply:
        execution = self.execution(call.params["PipelineExecutionArn"])
        steps = [step.summary() for step in list(execution.steps)]
        if call.params.get("SortOrder") != "Ascending":  # newest first, the API's default
            steps.reverse()
        page, token = _page(steps, call.params)
        return Reply.of_json({"PipelineExecutionSteps": page, **token})

    def list_parameters(self, call: Call, forward) -> Reply:
        execution = self.execution(call.params["PipelineExecutionArn"])
        parameters = [{"Name": k, "Value": _as_text(v)} for k, v in execution.parameters.items()]
        page, token = _page(parameters, call.params)
        return Reply.of_json({"PipelineParameters": page, **token})

    def definition(self, call: Call, forward) -> Reply:
        execution = self.execution(call.params["PipelineExecutionArn"])
        return Reply.of_json({
            "PipelineDefinition": json.dumps(execution.definition),
            "CreationTime": execution.created,
        })  # fmt: skip

    def stop(self, call: Call, forward) -> Reply:
        execution = self.execution(call.params["PipelineExecutionArn"])
        if execution.status != "Executing":
            raise ServiceError(
                "ValidationException",
                f"Pipeline execution {execution.arn} is {execution.status}; only an Executing "
                "execution can be stopped.",
            )
        self._request_stop(execution)
        return Reply.of_json({"PipelineExecutionArn": execution.arn})

    def _request_stop(self, execution: Execution) -> None:
        execution.set(status="Stopping")
        execution.stop_requested.set()
        running = execution.running_job
        if running and running[0].stop:
            sagemaker = self._client(execution, "sagemaker")
            with contextlib.suppress(ClientError):  # it ended meanwhile
                getattr(sagemaker, running[0].stop)(**{running[0].name_field: running[1]})

    # -- running ------------------------------------------------------------------------------
    def _client(self, execution: Execution, service: str):
        """A client acting as the pipeline's role: SageMaker runs the steps with it."""
        label = f"pipeline {execution.pipeline_name} execution {execution.execution_id}"
        return self.account.client(service, label, execution.role_arn)

    def _run(self, execution: Execution, given: dict[str, str]) -> None:
        started = time.time()
        scope = Scope(
            parameters=execution.parameters,
            execution={
                "PipelineExecutionId": execution.execution_id,
                "PipelineExecutionArn": execution.arn,
                "PipelineName": execution.pipeline_name,
                "StartDateTime": started,
                "CurrentDateTime": started,
            },
        )
        outcome: dict[str, bool] = {}  # condition step → the branch it chose
        not_run: set[str] = set()
        try:
            for planned in plan(execution.definition):
                if execution.stop_requested.is_set():
                    raise _Stopped
                branch = outcome.get(planned.condition) if planned.condition else None
                chosen = planned.condition is None or branch == planned.branch
                if not chosen or planned.depends_on & not_run:
                    not_run.add(planned.name)
                    continue
                step = StepExecution(planned.name, planned.type)
                execution.steps.append(step)
                scope.execution["CurrentDateTime"] = time.time()
                try:
                    self._run_step(execution, planned, step, scope, outcome)
                    step.status = "Succeeded"
                except StepFailed as failure:
                    step.status, step.failure_reason = "Failed", str(failure)
                finally:
                    step.ended = time.time()
                if step.status == "Failed":
                    reason = step.failure_reason if planned.type == "Fail" else STEP_FAILURE
                    execution.set(status="Failed", failure_reason=reason)
                    return
            execution.set(status="Succeeded")
        except _Stopped:
            for step in execution.steps:
                if step.status == "Executing":
                    step.status, step.ended = "Stopped", time.time()
            execution.set(status="Stopped")
        except Exception as error:  # an emulator defect: the execution must still end
            logger.exception("pipeline execution %s", execution.arn)
            execution.set(status="Failed", failure_reason=f"{type(error).__name__}: {error}")
        finally:
            execution.done.set()

    def _run_step(
        self,
        execution: Execution,
        planned: PlannedStep,
        step: StepExecution,
        scope: Scope,
        outcome: dict[str, bool],
    ) -> None:
        kind = planned.type
        try:
            if kind == "Condition":
                conditions = planned.step["Arguments"]["Conditions"]
                outcome[step.name] = all(scope.condition(c) for c in conditions)
                scope.steps[step.name] = {"Outcome": _as_text(outcome[step.name])}
                step.metadata = {"Condition": {"Outcome": _as_text(outcome[step.name]).title()}}
                return
            if kind == "Fail":
                message = _as_text(scope.value(planned.step.get("Arguments", {})
                                               .get("ErrorMessage", "")))  # fmt: skip
                step.metadata = {"Fail": {"ErrorMessage": message}}
                raise StepFailed(message)
            arguments = scope.value(planned.step.get("Arguments", {}))
        except ExpressionError as error:
            raise StepFailed(str(error)) from None
        if kind == "RegisterModel":
            properties = self._register(execution, step, arguments)
        else:
            properties = self._job(execution, JOB_STEPS[kind], step, arguments)
        scope.steps[step.name] = properties
        scope.property_files[step.name] = self._property_files(execution, planned.step, properties)

    def _job(
        self, execution: Execution, job: JobStep, step: StepExecution, arguments: dict
    ) -> dict:
        """Create the step's job as the pipeline role, wait for it, return its description."""
        sagemaker = self._client(execution, "sagemaker")
        name = job_name(execution.execution_id, step.name, job.name_limit)
        try:
            created = getattr(sagemaker, job.create)(**{job.name_field: name, **arguments})
        except (ClientError, ParamValidationError) as error:
            raise StepFailed(_client_error(error)) from None
        step.metadata = {job.metadata_key: {"Arn": created[job.arn_field]}}
        execution.running_job = (job, name)
        try:
            described = self._await(execution, sagemaker, job, name)
        finally:
            execution.running_job = None
        if job.metadata_key == "TuningJob":
            described["TrainingJobSummaries"] = self._best_first(sagemaker, described)
        return described

    def _await(self, execution: Execution, sagemaker: Any, job: JobStep, name: str) -> dict:
        describe = getattr(sagemaker, job.describe)
        while True:
            described = describe(**{job.name_field: name})
            described.pop("ResponseMetadata", None)
            status = described.get(job.status_field) if job.status_field else "Completed"
            if status in _ENDED:
                break
            time.sleep(POLL_SECONDS)
        if status == "Stopped" or execution.stop_requested.is_set():
            raise _Stopped
        if status == "Failed":
            raise StepFailed(described.get("FailureReason", f"{name} failed"))
        return described

    @staticmethod
    def _best_first(sagemaker: Any, tuning: dict) -> list[dict]:
        """The tuning job's trials, best objective first (the step's TrainingJobSummaries)."""
        objective = tuning["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
        pages = sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
        return [
            summary
            for page in pages.paginate(
                HyperParameterTuningJobName=tuning["HyperParameterTuningJobName"],
                SortBy="FinalObjectiveMetricValue",
                SortOrder="Descending" if objective["Type"] == "Maximize" else "Ascending",
            )
            for summary in page["TrainingJobSummaries"]
        ]

    def _register(self, execution: Execution, step: StepExecution, arguments: dict) -> dict:
        sagemaker = self._client(execution, "sagemaker")
        try:
            created = sagemaker.create_model_package(**arguments)
            described = sagemaker.describe_model_package(
                ModelPackageName=created["ModelPackageArn"]
            )
        except (ClientError, ParamValidationError) as error:
            raise StepFailed(_client_error(error)) from None
        described.pop("ResponseMetadata", None)
        step.metadata = {"RegisterModel": {"Arn": created["ModelPackageArn"]}}
        return described

    def _property_files(self, execution: Execution, step: dict, properties: dict) -> dict:
        """Each declared property file, read from the step's output in S3 as the pipeline
        role (a file that is missing is reported when an expression reads it)."""
        files: dict[str, Path] = {}
        declared = step.get("PropertyFiles", [])
        if not declared:
            return files
        outputs = {
            o["OutputName"]: o["S3Output"]["S3Uri"]
            for o in properties.get("ProcessingOutputConfig", {}).get("Outputs", [])
        }
        s3 = EmulatedS3(self._client(execution, "s3"))
        for item in declared:
            uri = f"{outputs[item['OutputName']].rstrip('/')}/{item['FilePath']}"
            local = (self.root / execution.execution_id / step["Name"]
                     / item["PropertyFileName"] / item["FilePath"])  # fmt: skip
            try:
                files[item["PropertyFileName"]] = s3.fetch(uri, local)
            except ClientError:
                files[item["PropertyFileName"]] = local
        return files


def _client_error(error: ClientError | ParamValidationError) -> str:
    if isinstance(error, ParamValidationError):  # the step's arguments do not fit the API
        return f"ValidationException: {error}"
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'ClientError')}: {details.get('Message', error)}"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def install(account) -> SageMakerPipelines:
    return SageMakerPipelines(account).install()
