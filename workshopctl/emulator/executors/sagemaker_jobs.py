"""SageMaker training, processing and hyperparameter tuning jobs, run as local processes.

moto only stores these jobs (a training job is "Completed" the moment it is created, with
made-up metrics). Here each job runs, with the semantics the SageMaker API Reference
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/) documents and a caller can observe:

* ``CreateTrainingJob`` (API_CreateTrainingJob.html) answers at once; the job is ``InProgress``
  with ``SecondaryStatus`` Starting → Downloading → Training → Uploading → Completed (or Failed,
  Stopped, MaxRuntimeExceeded), each step in ``SecondaryStatusTransitions``. The program runs
  through the container contract (:mod:`workshopctl.local.pipeline_jobs`: the image decides
  the program, ``/opt/ml`` is a folder per instance, ``SM_ROOT``; with no container, a program
  finds it there or in its arguments, where ``/opt/ml`` paths are rewritten). Everything the
  job reads and writes in S3, the image it pulls from ECR and its CloudWatch Logs are calls
  **as the job's RoleArn**, decided by that role's policies, as SageMaker acts with the role
  you pass. The model is
  ``<S3OutputPath>/<job>/output/model.tar.gz`` (``output.tar.gz`` beside it when the program
  wrote ``/opt/ml/output/data``); ``FailureReason`` is the first 1024 characters of
  ``/opt/ml/output/failure`` (your-algorithms-training-algo-output.html), or a ``ClientError``
  naming the S3/ECR call that failed. Logs go to the group ``/aws/sagemaker/TrainingJobs``, one
  stream ``<job>/algo-<n>-<epoch>`` per instance.
* ``DescribeTrainingJob`` (API_DescribeTrainingJob.html): ``TrainingStartTime``/``EndTime``,
  ``TrainingTimeInSeconds`` and ``BillableTimeInSeconds`` (whole seconds, rounded up). The
  reference defines billable time as wall-clock time, to be multiplied by ``InstanceCount`` by
  the reader for a distributed job, so it is *not* multiplied here. ``FinalMetricDataList``
  holds the last value of each ``AlgorithmSpecification.MetricDefinitions`` regex over the job's
  log. A built-in XGBoost job carries the algorithm's own definitions there (xgboost-tuning.html:
  ``train:``/``validation:`` + auc, error, logloss, rmse, ...), as built-in algorithms publish
  their metrics without any being passed; a job of any other image without MetricDefinitions
  publishes no metric at all, as in AWS.
* ``CreateProcessingJob``/``DescribeProcessingJob`` (API_CreateProcessingJob.html): inputs
  copied to their ``LocalPath`` and outputs uploaded at the end, as the role; the
  ``AppSpecification`` entrypoint runs; ``ExitMessage`` is ``/opt/ml/output/message``.
* ``CreateHyperParameterTuningJob`` (API_CreateHyperParameterTuningJob.html), one
  ``TrainingJobDefinition``, strategy Bayesian (optuna's TPE sampler, as the local tuner
  ``training_code/tuning/local_tuner.py`` uses it) or Random: each trial is a real training job
  of this emulator, named ``<tuning job>-<NNN>-<8 hex>`` and tagged with the tuning job's tags;
  at most ``MaxParallelTrainingJobs`` run at once and ``MaxNumberOfTrainingJobs`` in all
  (``$WORKSHOP_EMULATOR_MAX_TUNING_JOBS`` caps it further for a quick rehearsal; AWS has no
  such field, so the cap is only logged). ``DescribeHyperParameterTuningJob`` counts statuses
  and objectives and names the ``BestTrainingJob``; ``ListTrainingJobsForHyperParameterTuning
  Job`` lists the trials with their tuned values and objective.
* ``StopTrainingJob``/``StopProcessingJob``/``StopHyperParameterTuningJob``: the status goes to
  ``Stopping``, the programs get SIGTERM (then SIGKILL after ``STOP_GRACE_SECONDS``; AWS waits
  120 s), a stopped training job still uploads what its program saved in ``/opt/ml/model``,
  and the status ends ``Stopped``. Stopping a job that is not in progress is a
  ``ValidationException``, which is what the janitor relies on.
* ``List*Jobs`` with ``StatusEquals``, ``NameContains``, time filters, sorting and paging;
  tags are moto's (each job is also created in moto), so ``ListTags`` and tag conditions work.

Several instances (``ResourceConfig.InstanceCount`` > 1): hosts ``algo-1`` … ``algo-N`` each get
their own ``/opt/ml`` with ``resourceconfig.json`` and ``SM_HOSTS``/``SM_CURRENT_HOST``; a channel
with ``S3DataDistributionType=ShardedByS3Key`` is split by S3 key (sorted keys dealt in turn),
every other channel is copied whole. The hosts' programs run side by side but cannot talk to
each other: there is no distributed training here. Each host trains on its own share, and the
job's model is the union of the hosts' ``/opt/ml/model`` with algo-1's files winning (as
SageMaker merges them; for the built-in XGBoost only the master host writes one), so it is the
model of algo-1's share alone; metrics are read from algo-1's log. A host whose share is empty
fails the job, as a built-in algorithm does in AWS.

Managed spot training (``EnableManagedSpotTraining``): the request must set
``StoppingCondition.MaxWaitTimeInSeconds`` at or above ``MaxRuntimeInSeconds``
(API_StoppingCondition.html), else a ``ValidationException``. The job runs as any other (no
capacity wait, no interruption), and its ``BillableTimeInSeconds`` is its training time less
``SPOT_SAVING``, so that the reference's formula, savings = (1 - BillableTimeInSeconds /
TrainingTimeInSeconds) x 100 (API_DescribeTrainingJob.html), gives that saving. AWS's saving
follows the Spot price of the hour ("up to 90 %", model-managed-spot-training.html): the
emulator's fixed figure only stands in for it, and the rehearsal's bill uses the billable time.

Not emulated: Pipe and FastFile input modes (every channel is copied, as File mode does),
checkpoints, warm pools, Spot interruptions and capacity waits, VPC settings, early stopping of
tuning jobs, several training job definitions per tuning job, Hyperband and Grid.

Each host's instance metrics (CPU, memory, disk) go to CloudWatch Metrics while it runs, measured
from its process (:mod:`workshopctl.emulator.instance_metrics`); the algorithm metrics of
``MetricDefinitions`` are in ``FinalMetricDataList`` only, not in CloudWatch Metrics.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from training_code.contract import write_model_tarball
from workshopctl.emulator.instance_metrics import HostSampler
from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.service_metrics import (
    PROCESSING_JOBS_NAMESPACE,
    TRAINING_JOBS_NAMESPACE,
)
from workshopctl.emulator.wire import Call
from workshopctl.local.pipeline_jobs import (
    BUILTIN_XGBOOST_METRIC,
    FAILURE_REASON_BYTES,
    IMAGE_CODE_PATH,
    EmulatedS3,
    JobFailed,
    final_metrics,
    image_kind,
    job_environment,
    model_artifact_uri,
    processing_command,
    run_process,
    stage_processing,
    stage_training,
    training_command,
    upload_processing_outputs,
)

logger = logging.getLogger(__name__)

MAX_TUNING_JOBS_ENV = "WORKSHOP_EMULATOR_MAX_TUNING_JOBS"
STOP_GRACE_SECONDS = 10
LOG_BATCH_EVENTS = 200  # PutLogEvents takes up to 10,000 events; fewer calls, same stream
LOG_FLUSH_SECONDS = 2.0
DEFAULT_MAX_RESULTS = 10  # the List* operations' documented default page size
DEFAULT_MAX_TUNING_JOBS = 500
# The emulator's stand-in for a managed spot job's saving on the on-demand price (AWS's follows
# the Spot market: "up to 90 %", model-managed-spot-training.html).
SPOT_SAVING = 0.7
# The metrics the built-in XGBoost algorithm computes (xgboost-tuning.html), for each data set
# it evaluates; its log lines are "[n]#011train-auc:0.9#011validation-auc:0.8".
XGBOOST_METRICS = ("accuracy", "auc", "aucpr", "error", "f1", "logloss", "mae", "map",
                   "merror", "mlogloss", "mse", "ndcg", "rmse")  # fmt: skip
BUILTIN_XGBOOST_DEFINITIONS = tuple(
    {"Name": f"{data}:{metric}", "Regex": BUILTIN_XGBOOST_METRIC.format(data=data, metric=metric)}
    for data in ("train", "validation")
    for metric in XGBOOST_METRICS
)
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
IN_PROGRESS = ("InProgress", "Stopping")


# -- records ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """One kind of job and the names the API builds from its noun."""

    noun: str  # TrainingJob, ProcessingJob, HyperParameterTuningJob
    log_group: str | None
    summary_fields: tuple[str, ...]
    not_found: str  # the error code of an unknown name

    @property
    def name_field(self) -> str:
        return f"{self.noun}Name"

    @property
    def arn_field(self) -> str:
        return f"{self.noun}Arn"

    @property
    def status_field(self) -> str:
        return f"{self.noun}Status"


TRAINING = Kind(
    "TrainingJob",
    "/aws/sagemaker/TrainingJobs",
    ("TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime", "LastModifiedTime",
     "TrainingJobStatus", "SecondaryStatus"),
    "ValidationException",
)  # fmt: skip
PROCESSING = Kind(
    "ProcessingJob",
    "/aws/sagemaker/ProcessingJobs",
    ("ProcessingJobName", "ProcessingJobArn", "CreationTime", "ProcessingEndTime",
     "LastModifiedTime", "ProcessingJobStatus", "FailureReason", "ExitMessage"),
    "ValidationException",
)  # fmt: skip
TUNING = Kind(
    "HyperParameterTuningJob",
    None,
    ("HyperParameterTuningJobName", "HyperParameterTuningJobArn", "HyperParameterTuningJobStatus",
     "CreationTime", "HyperParameterTuningEndTime", "LastModifiedTime",
     "TrainingJobStatusCounters", "ObjectiveStatusCounters"),
    "ResourceNotFound",
)  # fmt: skip
KINDS = (TRAINING, PROCESSING, TUNING)


@dataclass(eq=False)
class Job:
    """One job: the request it was created with, and the fields the service sets (status,
    times, metrics, ...), which together are what Describe answers."""

    kind: Kind
    name: str
    arn: str
    request: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    processes: list[subprocess.Popen] = field(default_factory=list)
    # A tuning job's trials, and for a trial its tuning job and tuned values.
    children: list[Job] = field(default_factory=list)
    finished_children: queue.Queue = field(default_factory=queue.Queue)
    parent: Job | None = None
    tuned: dict[str, str] = field(default_factory=dict)
    stop_reason: str = ""  # "Stopping" (asked for) or "MaxRuntimeExceeded"
    timer: threading.Timer | None = None  # MaxRuntimeInSeconds
    # The creating call's usage (the rehearsal's bill): a trial bills its tuning job's caller.
    usage: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        now = time.time()
        self.state.update({"CreationTime": now, "LastModifiedTime": now})

    @property
    def status(self) -> str:
        with self.lock:
            return self.state.get(self.kind.status_field, "")

    def get(self, name: str, default: Any = None) -> Any:
        with self.lock:
            return copy.deepcopy(self.state.get(name, default))

    def set(self, **fields: Any) -> None:
        with self.lock:
            self.state.update(fields)
            self.state["LastModifiedTime"] = time.time()

    def transition(self, status: str, message: str, **fields: Any) -> None:
        """A training job's next secondary status (and any other fields, set together, so a
        reader never sees a final status without its metrics)."""
        now = time.time()
        with self.lock:
            transitions = self.state.setdefault("SecondaryStatusTransitions", [])
            if transitions:
                transitions[-1]["EndTime"] = now
            transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
            if status in ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded"):
                transitions[-1]["EndTime"] = now
            self.state.update(fields, SecondaryStatus=status, LastModifiedTime=now)

    def describe(self) -> dict[str, Any]:
        with self.lock:
            shown = {k: v for k, v in self.request.items() if k != "Tags"}
            shown.update({self.kind.name_field: self.name, self.kind.arn_field: self.arn})
            shown.update(self.state)
            return copy.deepcopy(shown)

    def summary(self) -> dict[str, Any]:
        described = self.describe()
        summary = {k: described[k] for k in self.kind.summary_fields if k in described}
        if self.kind is TUNING:
            config = self.request["HyperParameterTuningJobConfig"]
            summary["Strategy"] = config.get("Strategy", "Bayesian")
            summary["ResourceLimits"] = config.get("ResourceLimits", {})
        return summary


class _Stopped(Exception):
    """A stop was asked for while the job was between steps."""


@contextlib.contextmanager
def _client_errors(what: str, missing_data: bool = False) -> Iterator[None]:
    """An S3/ECR call refused as the job's role fails the job as SageMaker reports it (and
    with ``missing_data``, so does an input with no object under its prefix)."""
    try:
        yield
    except JobFailed as failure:
        if not missing_data:
            raise
        raise JobFailed(f"ClientError: {what}: {failure}") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        raise JobFailed(
            f"ClientError: {what}: {details.get('Code', 'Error')} ({status}): "
            f"{details.get('Message', '')}"
        ) from None


def _check_spot(request: dict[str, Any]) -> None:
    """A managed spot job needs MaxWaitTimeInSeconds >= MaxRuntimeInSeconds: the wait for Spot
    capacity plus the run (API_StoppingCondition.html, model-managed-spot-training.html)."""
    if not request.get("EnableManagedSpotTraining"):
        return
    stopping = request.get("StoppingCondition") or {}
    wait, runtime = stopping.get("MaxWaitTimeInSeconds"), stopping.get("MaxRuntimeInSeconds")
    if wait is None or (runtime is not None and wait < runtime):
        raise ServiceError(
            "ValidationException",
            "Invalid MaxWaitTimeInSeconds for a managed spot training job: it is required and "
            f"must be at least MaxRuntimeInSeconds (MaxWaitTimeInSeconds={wait}, "
            f"MaxRuntimeInSeconds={runtime})",
        )


def _epoch(value: Any) -> float:
    """A timestamp parameter as botocore sends it (epoch seconds) or as ISO text."""
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value)).timestamp()


class JobLog:
    """One CloudWatch Logs stream of a job instance, written in batches as the job's role.

    A role that may not write its logs loses them, as in AWS (the job itself runs on); the
    refusal is logged once."""

    def __init__(self, client: Any, group: str, stream: str):
        self.client, self.group, self.stream = client, group, stream
        self.events: list[dict] = []
        self.flushed = time.monotonic()
        self.refused: str | None = None
        try:
            client.create_log_stream(logGroupName=group, logStreamName=stream)
        except ClientError as error:
            self._refuse(error)

    def write(self, line: str) -> None:
        if self.refused or not line.strip():
            return  # an empty event is invalid (InputLogEvent.message has a minimum length)
        self.events.append({"timestamp": int(time.time() * 1000), "message": line})
        if len(self.events) >= LOG_BATCH_EVENTS or (
            time.monotonic() - self.flushed > LOG_FLUSH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if self.events and not self.refused:
            try:
                self.client.put_log_events(
                    logGroupName=self.group, logStreamName=self.stream, logEvents=self.events
                )
            except ClientError as error:
                self._refuse(error)
        self.events = []
        self.flushed = time.monotonic()

    def _refuse(self, error: ClientError) -> None:
        self.refused = error.response.get("Error", {}).get("Code", "Error")
        logger.warning("logs of %s:%s not written: %s", self.group, self.stream, error)


# -- the executors ------------------------------------------------------------------------------
class SageMakerJobs:
    """The job executors of one emulated account, and the jobs they run."""

    def __init__(self, account):
        self.account = account
        self.assembly = account.assembly
        self.root = Path(account.workdir) / "sagemaker-jobs"
        self.jobs: dict[Kind, dict[str, Job]] = {kind: {} for kind in KINDS}
        self.lock = threading.Lock()
        self._trials: dict[str, tuple[Job, dict[str, str]]] = {}  # trial name → tuning, values
        self._log_groups: set[str] = set()
        # The workshop's model image as the deploy pushed it: its train program runs locally.
        self.byom_images = {
            f"{self.assembly.account}.dkr.ecr.{self.assembly.region}.amazonaws.com/"
            f"{r.properties['RepositoryName']}:{r.properties['ImageTag']}"
            for r in self.assembly.resources("Custom::ModelImage")
        }

    def install(self) -> SageMakerJobs:
        execute = self.account.execute
        for kind in KINDS:
            execute("sagemaker", f"Describe{kind.noun}", self._describer(kind))
            execute("sagemaker", f"List{kind.noun}s", self._lister(kind))
            execute("sagemaker", f"Stop{kind.noun}", self._stopper(kind))
        execute("sagemaker", "CreateTrainingJob", self.create_training_job)
        execute("sagemaker", "CreateProcessingJob", self.create_processing_job)
        execute("sagemaker", "CreateHyperParameterTuningJob", self.create_tuning_job)
        execute(
            "sagemaker",
            "ListTrainingJobsForHyperParameterTuningJob",
            self.list_training_jobs_for_tuning_job,
        )
        return self

    def shutdown(self) -> None:
        """Stop every job still running (the emulator is going away)."""
        for kind in KINDS:
            for job in list(self.jobs[kind].values()):
                with contextlib.suppress(ServiceError):
                    self.stop(job)
                _terminate(job.processes)

    def job(self, kind: Kind, name: str) -> Job:
        with self.lock:
            found = self.jobs[kind].get(name)
        if found is None:
            raise ServiceError(kind.not_found, f"Requested resource not found: {kind.noun} {name}")
        return found

    # -- create ---------------------------------------------------------------------------------
    def create_training_job(self, call: Call, forward) -> Reply:
        request = copy.deepcopy(call.params)
        self._check_role(request["RoleArn"])
        _check_spot(request)
        # A built-in algorithm's job carries the algorithm's own metric definitions.
        algorithm = request["AlgorithmSpecification"]
        definitions = metric_definitions(algorithm, request.get("HyperParameters", {}))
        if definitions:
            algorithm["MetricDefinitions"] = definitions
        name, output = request["TrainingJobName"], request["OutputDataConfig"]["S3OutputPath"]
        now = time.time()
        state = {
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "SecondaryStatusTransitions": [{
                "Status": "Starting", "StartTime": now,
                "StatusMessage": "Preparing the instances for training",
            }],
            "ModelArtifacts": {"S3ModelArtifacts": model_artifact_uri(output, name)},
        }  # fmt: skip
        with self.lock:
            trial = self._trials.pop(name, None)
        if trial:
            state["TuningJobArn"] = trial[0].arn
        job, reply = self._create(TRAINING, call, forward, request, state)
        if job is not None:
            job.usage = trial[0].usage if trial else call.usage
            if trial:
                job.parent, job.tuned = trial
                with job.parent.lock:
                    job.parent.children.append(job)
            self._start(job, self._run_training)
        return reply

    def create_processing_job(self, call: Call, forward) -> Reply:
        self._check_role(call.params["RoleArn"])
        state = {"ProcessingJobStatus": "InProgress"}
        job, reply = self._create(PROCESSING, call, forward, call.params, state)
        if job is not None:
            self._start(job, self._run_processing)
        return reply

    def create_tuning_job(self, call: Call, forward) -> Reply:
        params = call.params
        definition = params.get("TrainingJobDefinition")
        if definition is None:
            raise ServiceError(
                "ValidationException",
                "the emulator runs tuning jobs with one TrainingJobDefinition "
                "(TrainingJobDefinitions is not emulated)",
            )
        config = params["HyperParameterTuningJobConfig"]
        strategy = config.get("Strategy", "Bayesian")
        if strategy not in ("Bayesian", "Random"):
            raise ServiceError(
                "ValidationException",
                f"the emulator runs the Bayesian and Random strategies, not {strategy}",
            )
        objective = config.get("HyperParameterTuningJobObjective", {}).get("MetricName")
        names = {
            d["Name"]
            for d in metric_definitions(
                definition["AlgorithmSpecification"], definition.get("StaticHyperParameters", {})
            )
        }
        if objective not in names:
            raise ServiceError(
                "ValidationException",
                f"The objective metric {objective!r} is not one of the training job "
                f"definition's metric definitions ({', '.join(sorted(names)) or 'none'})",
            )
        self._check_role(definition["RoleArn"])
        state = {
            "HyperParameterTuningJobStatus": "InProgress",
            "TrainingJobStatusCounters": _status_counters([]),
            "ObjectiveStatusCounters": _objective_counters([]),
        }
        job, reply = self._create(TUNING, call, forward, params, state)
        if job is not None:
            job.usage = call.usage  # its trials' instance-seconds are billed to its caller
            self._start(job, self._run_tuning)
        return reply

    def _create(
        self, kind: Kind, call: Call, forward, request: dict, state: dict
    ) -> tuple[Job | None, Reply]:
        """Store the job (in moto too: its ARN and tags) unless the name is taken; it is
        listed from then on, with its first ``state``."""
        name = call.params[kind.name_field]
        with self.lock:
            if name in self.jobs[kind]:
                raise ServiceError(
                    "ResourceInUse",
                    f"{kind.noun} names must be unique within an AWS account and region, and "
                    f"a {kind.noun} with this name already exists "
                    f"({self.jobs[kind][name].arn})",
                )
            reply = forward(call)
            if reply.status != 200:
                return None, reply
            arn = reply.json()[kind.arn_field]
            job = Job(kind, name, arn, copy.deepcopy(request), copy.deepcopy(state))
            self.jobs[kind][name] = job
        return job, Reply.of_json({kind.arn_field: arn})

    def _check_role(self, role_arn: str) -> None:
        """SageMaker assumes the role: it must exist and trust sagemaker.amazonaws.com."""
        role = self.assembly.roles.get(role_arn)
        if role is None or SAGEMAKER_PRINCIPAL not in json.dumps(role.trust_policy):
            raise ServiceError(
                "ValidationException",
                f"Could not assume role {role_arn}. Please ensure that the role exists and "
                f"allows principal '{SAGEMAKER_PRINCIPAL}' to assume the role.",
            )

    def _start(self, job: Job, run: Callable[[Job], None]) -> None:
        limit = job.request.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
        if limit and job.kind is not TUNING:
            job.timer = threading.Timer(float(limit), self._runtime_exceeded, (job,))
            job.timer.daemon = True
            job.timer.start()
        thread = threading.Thread(target=run, args=(job,), name=f"{job.kind.noun} {job.name}")
        thread.daemon = True
        thread.start()

    def _runtime_exceeded(self, job: Job) -> None:
        with contextlib.suppress(ServiceError):
            self.stop(job, reason="MaxRuntimeExceeded")

    # -- describe, list, stop -------------------------------------------------------------------
    def _describer(self, kind: Kind):
        def describe(call: Call, forward) -> Reply:
            return Reply.of_json(self.job(kind, call.params[kind.name_field]).describe())

        return describe

    def _lister(self, kind: Kind):
        def list_jobs(call: Call, forward) -> Reply:
            with self.lock:
                jobs = list(self.jobs[kind].values())
            summaries = _filtered([job.summary() for job in jobs], call.params, kind)
            page, token = _page(summaries, call.params)
            key = "HyperParameterTuningJobSummaries" if kind is TUNING else f"{kind.noun}Summaries"
            return Reply.of_json({key: page, **token})

        return list_jobs

    def _stopper(self, kind: Kind):
        def stop(call: Call, forward) -> Reply:
            self.stop(self.job(kind, call.params[kind.name_field]))
            return Reply.of_json({})

        return stop

    def stop(self, job: Job, reason: str = "Stopping") -> None:
        """Ask a job in progress to stop; its runner ends it as Stopped."""
        with job.lock:
            status = job.state.get(job.kind.status_field)
            if status != "InProgress":
                raise ServiceError(
                    "ValidationException",
                    f"The request was rejected because the {job.kind.noun} is in status {status}.",
                )
            job.state[job.kind.status_field] = "Stopping"
            job.state["LastModifiedTime"] = time.time()
        job.stop_reason = reason
        job.stop_requested.set()
        if job.kind is TRAINING:
            job.transition("Stopping", "Stopping the training job")
        if job.kind is TUNING:
            for child in list(job.children):
                with contextlib.suppress(ServiceError):
                    self.stop(child)
        _terminate(job.processes)

    def list_training_jobs_for_tuning_job(self, call: Call, forward) -> Reply:
        """ListTrainingJobsForHyperParameterTuningJob (API_ListTrainingJobsForHyperParameter
        TuningJob.html): the trials as HyperParameterTrainingJobSummary, sorted by Name unless
        SortBy says otherwise; by FinalObjectiveMetricValue, trials without one are left out."""
        tuning = self.job(TUNING, call.params["HyperParameterTuningJobName"])
        with tuning.lock:
            children = list(tuning.children)
        summaries = [self._trial_summary(tuning, child) for child in children]
        if call.params.get("StatusEquals"):
            summaries = [
                s for s in summaries if s["TrainingJobStatus"] == call.params["StatusEquals"]
            ]
        sort_by = call.params.get("SortBy", "Name")
        if sort_by == "FinalObjectiveMetricValue":
            summaries = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
        fields = {"Name": "TrainingJobName", "Status": "TrainingJobStatus"}
        summaries.sort(
            key=_objective_of if sort_by == "FinalObjectiveMetricValue"
            else lambda s: s[fields.get(sort_by, "CreationTime")],
            reverse=call.params.get("SortOrder") == "Descending",
        )  # fmt: skip
        page, token = _page(summaries, call.params)
        return Reply.of_json({"TrainingJobSummaries": page, **token})

    # -- running --------------------------------------------------------------------------------
    def _folder(self, job: Job) -> Path:
        folder = self.root / job.kind.noun / job.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder

    def _label(self, job: Job) -> str:
        return f"{'training' if job.kind is TRAINING else 'processing'} job {job.name}"

    def _image_kind(self, image: str, label: str, role: str) -> str:
        """Pull the image as the role (an image in this account's ECR must exist and be
        readable); the workshop's model image and SageMaker's own images have local programs."""
        match = ECR_IMAGE.match(image)
        if match and match["account"] == self.assembly.account:
            ecr = self.account.client("ecr", label, role)
            image_id = (
                {"imageDigest": match["digest"]} if match["digest"]
                else {"imageTag": match["tag"] or "latest"}
            )  # fmt: skip
            with _client_errors(f"Cannot pull the image {image}"):
                found = ecr.batch_get_image(repositoryName=match["repository"], imageIds=[image_id])
            if not found.get("images"):
                raise JobFailed(f"ClientError: Requested image {image} not found.")
        return image_kind(image, image if image in self.byom_images else None)

    def _environment(
        self, job: Job, root: Path, code_path: Path | None, host: str, hosts: tuple[str, ...]
    ) -> dict[str, str]:
        """The container's environment: the contract's, the role's credentials (code in the
        job reaches the emulator as the role), the instances, the request's Environment."""
        env = job_environment(root, code_path)
        env.update(self.account.environment(self._label(job), job.request["RoleArn"]))
        prefix = "TRAINING_JOB" if job.kind is TRAINING else "PROCESSING_JOB"
        env.update({
            "SM_HOSTS": json.dumps(list(hosts)),
            "SM_CURRENT_HOST": host,
            f"{prefix}_NAME": job.name,
            f"{prefix}_ARN": job.arn,
        })  # fmt: skip
        env.update({k: str(v) for k, v in (job.request.get("Environment") or {}).items()})
        return env

    def _run_hosts(
        self, job: Job, runs: dict[str, tuple[list[str], Path, dict, Path]]
    ) -> dict[str, list[str]]:
        """Run each host's program side by side, each logging to its own stream; the first
        host to fail stops the others and its reason fails the job."""
        assert job.kind.log_group is not None
        logs = self.account.client("logs", self._label(job), job.request["RoleArn"])
        self._ensure_log_group(logs, job.kind.log_group)
        epoch = int(time.time())
        results: dict[str, list[str]] = {}
        failures: list[JobFailed] = []

        samplers: list[HostSampler] = []

        def run(host: str) -> None:
            command, cwd, env, root = runs[host]
            log = JobLog(logs, job.kind.log_group, f"{job.name}/{host}-{epoch}")

            def started(process: subprocess.Popen) -> None:
                job.processes.append(process)
                if job.stop_requested.is_set():  # asked while it was starting: stop it too
                    _terminate([process])
                samplers.append(self._sampler(job, host, process, root).start())

            try:
                results[host] = run_process(command, env, cwd, root, log.write, started)
            except JobFailed as failure:
                failures.append(failure)
                _terminate(job.processes)
            finally:
                log.flush()

        threads = [threading.Thread(target=run, args=(host,)) for host in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for sampler in samplers:
            sampler.stop()
        try:  # the metrics are there when the job ends; a read would publish them anyway
            self.account.metrics.flush()
        except (BotoCoreError, ClientError) as error:
            logger.warning("metrics of %s not published yet: %s", job.name, error)
        if failures:
            raise failures[0]
        return results

    def _sampler(self, job: Job, host: str, process: subprocess.Popen, root: Path) -> HostSampler:
        """The host's instance metrics, as SageMaker publishes them for the job's instance."""
        if job.kind is TRAINING:
            namespace, resources = TRAINING_JOBS_NAMESPACE, job.request.get("ResourceConfig", {})
        else:
            namespace = PROCESSING_JOBS_NAMESPACE
            resources = job.request.get("ProcessingResources", {}).get("ClusterConfig", {})
        return HostSampler(
            self.account.metrics, namespace, f"{job.name}/{host}", process, root,
            instance_type=resources.get("InstanceType"),
            volume_gb=float(resources.get("VolumeSizeInGB") or 1),
        )  # fmt: skip

    def _ensure_log_group(self, logs: Any, group: str) -> None:
        with self.lock:
            if group in self._log_groups:
                return
        try:
            logs.create_log_group(logGroupName=group)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                logger.warning("log group %s not created: %s", group, error)
                return
        with self.lock:
            self._log_groups.add(group)

    def _check_stop(self, job: Job) -> None:
        if job.stop_requested.is_set():
            raise _Stopped()

    # -- training -------------------------------------------------------------------------------
    def _run_training(self, job: Job) -> None:
        request, label, role = job.request, self._label(job), job.request["RoleArn"]
        s3 = EmulatedS3(self.account.client("s3", label, role))
        count = int(request.get("ResourceConfig", {}).get("InstanceCount", 1))
        hosts = tuple(f"algo-{i}" for i in range(1, count + 1))
        folder = self._folder(job)
        algorithm = request["AlgorithmSpecification"]
        metrics: list[dict] = []
        try:
            kind = self._image_kind(algorithm["TrainingImage"], label, role)
            job.set(TrainingStartTime=time.time())
            job.transition("Downloading", "Downloading input data")
            runs = {}
            for host in hosts:
                root = folder / host
                with _client_errors("Data download failed", missing_data=True):
                    hyperparameters = stage_training(root, request, s3, host, hosts)
                with _client_errors("Source code download failed"):
                    command, cwd, code_path = training_command(root, kind, hyperparameters, s3)
                env = self._environment(job, root, code_path, host, hosts)
                if "sagemaker_program" in hyperparameters:
                    env.update(_script_mode_environment(root, request))
                runs[host] = (command, cwd, env, root)
                self._check_stop(job)
            job.transition("Training", "Training image download completed. Training in progress.")
            lines = self._run_hosts(job, runs)
            self._check_stop(job)
            job.transition("Uploading", "Uploading generated training model")
            self._upload_training_outputs(job, folder, hosts, s3)
            definitions = algorithm.get("MetricDefinitions", [])
            now = time.time()
            metrics = [
                {"MetricName": name, "Value": value, "Timestamp": now}
                for name, value in final_metrics(lines["algo-1"], definitions).items()
            ]
            self._end_training(job, "Completed", "Training job completed", metrics)
        except (_Stopped, JobFailed) as failure:
            if job.stop_requested.is_set():
                with contextlib.suppress(JobFailed, OSError):  # what it saved before the stop
                    self._upload_training_outputs(job, folder, hosts, s3, only_if_saved=True)
                if job.stop_reason == "MaxRuntimeExceeded":
                    message = "Training job stopped: it exceeded MaxRuntimeInSeconds"
                    self._end_training(job, "Stopped", message, [], secondary=job.stop_reason)
                else:
                    self._end_training(job, "Stopped", "Training job stopped", [])
            else:
                self._end_training(job, "Failed", "Training job failed", [],
                                   FailureReason=str(failure)[:FAILURE_REASON_BYTES])  # fmt: skip
        except Exception as error:  # the emulator's own fault: still end the job, say why
            logger.exception("training job %s", job.name)
            reason = f"InternalServerError: {error}"[:FAILURE_REASON_BYTES]
            self._end_training(job, "Failed", "Training job failed", [], FailureReason=reason)

    def _upload_training_outputs(
        self, job: Job, folder: Path, hosts: tuple[str, ...], s3: EmulatedS3,
        only_if_saved: bool = False,
    ) -> None:  # fmt: skip
        """The hosts' /opt/ml/model merged (algo-1's files win) into model.tar.gz, and
        /opt/ml/output/data into output.tar.gz when any host wrote there."""
        model_uri = job.get("ModelArtifacts")["S3ModelArtifacts"]
        output_uri = model_uri.replace("/model.tar.gz", "/output.tar.gz")
        for part, uri in (("model", model_uri), ("output/data", output_uri)):
            merged = folder / "merged" / part
            for host in reversed(hosts):
                source = folder / host / part
                if source.is_dir():
                    shutil.copytree(source, merged, dirs_exist_ok=True)
            saved = merged.is_dir() and any(merged.rglob("*"))
            if not saved and (only_if_saved or part != "model"):
                continue
            tarball = write_model_tarball(merged, folder / "merged" / Path(uri).name)
            with _client_errors("Artifact upload failed"):
                s3.upload(tarball, uri)

    def _end_training(
        self, job: Job, status: str, message: str, metrics: list[dict],
        secondary: str | None = None, **fields: Any,
    ) -> None:  # fmt: skip
        end = time.time()
        start = job.get("TrainingStartTime")
        if start is not None:
            seconds = max(1, math.ceil(end - start))
            # BillableTimeInSeconds is wall-clock time (API_DescribeTrainingJob.html): the
            # reader multiplies it by InstanceCount for a distributed job.
            billable = seconds
            if job.request.get("EnableManagedSpotTraining"):
                billable = max(1, math.ceil(seconds * (1 - SPOT_SAVING)))
            fields.update(TrainingTimeInSeconds=seconds, BillableTimeInSeconds=billable)
            resources = job.request.get("ResourceConfig", {})
            job.usage.setdefault("instance_seconds", []).append(
                {"type": resources.get("InstanceType"),
                 "seconds": billable * int(resources.get("InstanceCount", 1))}
            )  # fmt: skip
        if metrics:
            fields["FinalMetricDataList"] = metrics
        job.transition(secondary or status, message, TrainingJobStatus=status,
                       TrainingEndTime=end, **fields)  # fmt: skip
        self._ended(job)

    def _ended(self, job: Job) -> None:
        if job.timer is not None:
            job.timer.cancel()
        job.processes.clear()
        if job.parent is not None:
            job.parent.finished_children.put(job)

    # -- processing -----------------------------------------------------------------------------
    def _run_processing(self, job: Job) -> None:
        request, label, role = job.request, self._label(job), job.request["RoleArn"]
        s3 = EmulatedS3(self.account.client("s3", label, role))
        cluster = request.get("ProcessingResources", {}).get("ClusterConfig", {})
        hosts = tuple(f"algo-{i}" for i in range(1, int(cluster.get("InstanceCount", 1)) + 1))
        folder = self._folder(job)
        app = request["AppSpecification"]
        fields: dict[str, Any] = {}
        try:
            kind = self._image_kind(app["ImageUri"], label, role)
            job.set(ProcessingStartTime=time.time())
            runs = {}
            for index, host in enumerate(hosts):
                root = folder / host
                command = processing_command(root, app)
                with _client_errors("Data download failed", missing_data=True):
                    stage_processing(root, request, s3, (index, len(hosts)))
                config = root / "config"
                config.mkdir(parents=True, exist_ok=True)
                (config / "resourceconfig.json").write_text(
                    json.dumps({"current_host": host, "hosts": list(hosts)})
                )
                env = self._environment(job, root, IMAGE_CODE_PATH.get(kind), host, hosts)
                runs[host] = (command, root, env, root)
                self._check_stop(job)
            try:
                self._run_hosts(job, runs)
            finally:
                message = folder / "algo-1" / "output" / "message"
                if message.is_file():
                    fields["ExitMessage"] = message.read_text(errors="replace")[
                        :FAILURE_REASON_BYTES
                    ]
            self._check_stop(job)
            for host in hosts:
                with _client_errors("Output upload failed"):
                    upload_processing_outputs(folder / host, request, s3)
            self._end_processing(job, "Completed", **fields)
        except (_Stopped, JobFailed) as failure:
            if job.stop_requested.is_set():
                self._end_processing(job, "Stopped", **fields)
            else:
                fields["FailureReason"] = str(failure)[:FAILURE_REASON_BYTES]
                self._end_processing(job, "Failed", **fields)
        except Exception as error:  # the emulator's own fault: still end the job, say why
            logger.exception("processing job %s", job.name)
            self._end_processing(job, "Failed", FailureReason=f"InternalServerError: {error}")

    def _end_processing(self, job: Job, status: str, **fields: Any) -> None:
        job.set(ProcessingJobStatus=status, ProcessingEndTime=time.time(), **fields)
        self._ended(job)

    # -- tuning ---------------------------------------------------------------------------------
    def _run_tuning(self, tuning: Job) -> None:
        import optuna

        from training_code.tuning.local_tuner import as_hyperparameter, suggest

        started = time.time()
        config = tuning.request["HyperParameterTuningJobConfig"]
        limits = config["ResourceLimits"]
        max_jobs = int(limits.get("MaxNumberOfTrainingJobs", DEFAULT_MAX_TUNING_JOBS))
        cap = os.environ.get(MAX_TUNING_JOBS_ENV)
        if cap and int(cap) < max_jobs:
            logger.warning("tuning job %s: %s=%s caps MaxNumberOfTrainingJobs %d",
                           tuning.name, MAX_TUNING_JOBS_ENV, cap, max_jobs)  # fmt: skip
            max_jobs = int(cap)
        parallel = max(1, int(limits.get("MaxParallelTrainingJobs", 1)))
        ranges = parameter_ranges(config.get("ParameterRanges", {}))
        objective = config["HyperParameterTuningJobObjective"]
        seed = config.get("RandomSeed")
        if seed is None:  # AWS draws one; a stable one per name keeps a rehearsal repeatable
            seed = int(hashlib.sha256(tuning.name.encode()).hexdigest()[:8], 16)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = (
            optuna.samplers.TPESampler(seed=int(seed), constant_liar=True)
            if config.get("Strategy", "Bayesian") == "Bayesian"
            else optuna.samplers.RandomSampler(seed=int(seed))
        )
        study = optuna.create_study(
            direction="maximize" if objective["Type"] == "Maximize" else "minimize",
            sampler=sampler,
        )
        sagemaker = self.account.client("sagemaker", f"hyperparameter tuning job {tuning.name}")
        running: dict[str, Any] = {}  # trial job name → optuna trial
        launched = 0
        failure: str | None = None
        try:
            while True:
                while launched < max_jobs and len(running) < parallel:
                    if tuning.stop_requested.is_set():
                        break
                    trial = study.ask()
                    tuned = {r.name: as_hyperparameter(suggest(trial, r)) for r in ranges}
                    launched += 1
                    name = self._launch_trial(sagemaker, tuning, launched, tuned)
                    running[name] = trial
                    if tuning.stop_requested.is_set():  # stopped while this one was starting
                        with contextlib.suppress(ServiceError):
                            self.stop(self.job(TRAINING, name))
                    self._count(tuning)
                if not running:
                    break
                child = tuning.finished_children.get()
                trial = running.pop(child.name)
                value = self._objective_value(tuning, child)
                if value is None:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(trial, value)
                self._count(tuning)
        except Exception as error:  # a trial that cannot start ends the tuning job
            logger.exception("tuning job %s", tuning.name)
            failure = f"{type(error).__name__}: {error}"
            for child in list(tuning.children):
                with contextlib.suppress(ServiceError):
                    self.stop(child)
        self._count(tuning)
        described = tuning.describe()
        if tuning.stop_requested.is_set():
            status = "Stopped"
        elif failure or "BestTrainingJob" not in described:
            status = "Failed"
            failure = failure or "No training job succeeded with an objective metric value"
        else:
            status = "Completed"
        end = time.time()
        tuning.set(
            HyperParameterTuningJobStatus=status,
            HyperParameterTuningEndTime=end,
            ConsumedResources={"RuntimeInSeconds": math.ceil(end - started)},
            **({"FailureReason": failure[:FAILURE_REASON_BYTES]} if failure else {}),
        )
        self._ended(tuning)

    def _launch_trial(self, sagemaker: Any, tuning: Job, number: int, tuned: dict) -> str:
        """CreateTrainingJob for one trial, as the tuning service makes it (not as the
        attendee: the trial runs as the definition's role)."""
        definition = tuning.request["TrainingJobDefinition"]
        name = f"{tuning.name}-{number:03d}-{uuid.uuid4().hex[:8]}"
        algorithm = definition["AlgorithmSpecification"]
        request = {
            "TrainingJobName": name,
            "HyperParameters": {**definition.get("StaticHyperParameters", {}), **tuned},
            "AlgorithmSpecification": {
                k: algorithm[k]
                for k in (
                    "TrainingImage",
                    "TrainingInputMode",
                    "AlgorithmName",
                    "MetricDefinitions",
                )
                if k in algorithm
            },
            "Tags": tuning.request.get("Tags") or [],
        }
        for key in ("RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
                    "StoppingCondition", "VpcConfig", "EnableNetworkIsolation",
                    "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining",
                    "CheckpointConfig", "Environment", "RetryStrategy"):  # fmt: skip
            if key in definition:
                request[key] = definition[key]
        with self.lock:
            self._trials[name] = (tuning, tuned)
        try:
            sagemaker.create_training_job(**request)
        finally:
            with self.lock:
                self._trials.pop(name, None)
        return name

    def _objective_value(self, tuning: Job, child: Job) -> float | None:
        if child.status != "Completed":
            return None
        metric = tuning.request["HyperParameterTuningJobConfig"][
            "HyperParameterTuningJobObjective"
        ]["MetricName"]
        for item in child.get("FinalMetricDataList", []):
            if item["MetricName"] == metric:
                return float(item["Value"])
        return None

    def _trial_summary(self, tuning: Job, child: Job) -> dict[str, Any]:
        """A trial as HyperParameterTrainingJobSummary."""
        described = child.describe()
        summary = {
            "TrainingJobName": child.name,
            "TrainingJobArn": child.arn,
            "TuningJobName": tuning.name,
            "CreationTime": described["CreationTime"],
            "TrainingJobStatus": described["TrainingJobStatus"],
            "TunedHyperParameters": dict(child.tuned),
        }
        for key in ("TrainingStartTime", "TrainingEndTime", "FailureReason"):
            if key in described:
                summary[key] = described[key]
        objective = tuning.request["HyperParameterTuningJobConfig"][
            "HyperParameterTuningJobObjective"
        ]
        value = self._objective_value(tuning, child)
        if described["TrainingJobStatus"] in IN_PROGRESS:
            summary["ObjectiveStatus"] = "Pending"
        elif value is None:
            summary["ObjectiveStatus"] = "Failed"
        else:
            summary["ObjectiveStatus"] = "Succeeded"
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"], "MetricName": objective["MetricName"], "Value": value
            }  # fmt: skip
        return summary

    def _count(self, tuning: Job) -> None:
        """The tuning job's counters and best trial, from its trials as they stand."""
        with tuning.lock:
            children = list(tuning.children)
        summaries = [self._trial_summary(tuning, child) for child in children]
        fields: dict[str, Any] = {
            "TrainingJobStatusCounters": _status_counters(summaries),
            "ObjectiveStatusCounters": _objective_counters(summaries),
        }
        scored = [s for s in summaries if s["ObjectiveStatus"] == "Succeeded"]
        if scored:
            objective = tuning.request["HyperParameterTuningJobConfig"][
                "HyperParameterTuningJobObjective"
            ]
            best = max if objective["Type"] == "Maximize" else min
            fields["BestTrainingJob"] = best(scored, key=_objective_of)  # first on ties
        tuning.set(**fields)


# -- helpers --------------------------------------------------------------------------------------
def metric_definitions(algorithm: dict, hyperparameters: dict) -> list[dict]:
    """The metrics a job publishes: those its AlgorithmSpecification defines, and for the
    built-in XGBoost algorithm (its image without a script) the algorithm's own as well."""
    given = list(algorithm.get("MetricDefinitions", []))
    repository = algorithm.get("TrainingImage", "").split("/")[-1].split(":")[0].split("@")[0]
    if repository != "sagemaker-xgboost" or "sagemaker_program" in hyperparameters:
        return given
    names = {d["Name"] for d in given}
    return given + [d for d in BUILTIN_XGBOOST_DEFINITIONS if d["Name"] not in names]


def parameter_ranges(ranges: dict) -> tuple:
    """ParameterRanges (API shape, numbers as strings) as the local tuner's ranges.

    ``ReverseLogarithmic`` scaling is searched linearly (optuna has no such scale)."""
    from training_code.tuning.spec import Range

    found = []
    for kind in ("Continuous", "Integer"):
        for r in ranges.get(f"{kind}ParameterRanges", []):
            found.append(Range(r["Name"], kind, float(r["MinValue"]), float(r["MaxValue"]),
                               scaling=r.get("ScalingType", "Auto")))  # fmt: skip
    for r in ranges.get("CategoricalParameterRanges", []):
        found.append(Range(r["Name"], "Categorical", values=tuple(r["Values"])))
    return tuple(found)


def _objective_of(summary: dict) -> float:
    return summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]


def _status_counters(summaries: list[dict]) -> dict[str, int]:
    """TrainingJobStatusCounters: a failed trial counts as NonRetryableError (it is not
    retried here)."""
    statuses = [s["TrainingJobStatus"] for s in summaries]
    return {
        "Completed": statuses.count("Completed"),
        "InProgress": sum(status in IN_PROGRESS for status in statuses),
        "RetryableError": 0,
        "NonRetryableError": statuses.count("Failed"),
        "Stopped": statuses.count("Stopped"),
    }


def _objective_counters(summaries: list[dict]) -> dict[str, int]:
    statuses = [s["ObjectiveStatus"] for s in summaries]
    return {name: statuses.count(name) for name in ("Succeeded", "Pending", "Failed")}


def _script_mode_environment(root: Path, request: dict) -> dict[str, str]:
    """What the framework containers' training toolkit exports for a script-mode program."""
    channels = [c["ChannelName"] for c in request.get("InputDataConfig", [])]
    env = {
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_CHANNELS": json.dumps(channels),
        "SM_HPS": json.dumps(request.get("HyperParameters", {})),
    }
    for name in channels:
        env[f"SM_CHANNEL_{name.upper()}"] = str(root / "input" / "data" / name)
    return env


def _terminate(processes: list[subprocess.Popen]) -> None:
    """SIGTERM now, SIGKILL for whatever still runs after the grace period."""
    alive = [p for p in list(processes) if p.poll() is None]
    for process in alive:
        with contextlib.suppress(OSError):
            process.terminate()

    def kill_late() -> None:
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in alive:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    process.kill()

    if alive:
        threading.Thread(target=kill_late, daemon=True).start()


def _filtered(summaries: list[dict], params: dict, kind: Kind) -> list[dict]:
    """List*Jobs's filters and sort order (NameContains, StatusEquals, time windows;
    SortBy Name | CreationTime | Status, default CreationTime ascending)."""
    name_field, status_field = kind.name_field, kind.status_field
    if params.get("NameContains"):
        part = params["NameContains"].lower()
        summaries = [s for s in summaries if part in s[name_field].lower()]
    if params.get("StatusEquals"):
        summaries = [s for s in summaries if s[status_field] == params["StatusEquals"]]
    for parameter, field_name, after in (
        ("CreationTimeAfter", "CreationTime", True),
        ("CreationTimeBefore", "CreationTime", False),
        ("LastModifiedTimeAfter", "LastModifiedTime", True),
        ("LastModifiedTimeBefore", "LastModifiedTime", False),
    ):
        if params.get(parameter) is not None:
            limit = _epoch(params[parameter])
            summaries = [s for s in summaries if (s[field_name] > limit) == after]
    key = {"Name": name_field, "Status": status_field}.get(params.get("SortBy", ""), "CreationTime")
    return sorted(summaries, key=lambda s: s[key], reverse=params.get("SortOrder") == "Descending")


def _page(items: list[dict], params: dict) -> tuple[list[dict], dict[str, str]]:
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or DEFAULT_MAX_RESULTS)
    end = start + size
    return items[start:end], ({"NextToken": str(end)} if end < len(items) else {})


def install(account) -> SageMakerJobs:
    """Register the job executors on ``account``; its stop also stops the running jobs."""
    jobs = SageMakerJobs(account).install()
    account.on_stop(jobs.shutdown)
    account.sagemaker_jobs = jobs  # for the rehearsal's report and the tests
    return jobs
