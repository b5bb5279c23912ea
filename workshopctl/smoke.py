"""``workshopctl smoke`` (what ``make smoke`` runs): after a deploy, every lab notebook runs
headlessly as an attendee, and a readiness table says, per lab, pass or fail, its wall time and
what it cost; then the run cleans up after itself.

One runner for both targets: the rehearsal's (``workshopctl/local/labs_step.py``'s
``run_labs``), pointed at a target that gives each lab's kernel its AWS settings:

- the real account (default): the kernel gets credentials of the smoke attendee's role, assumed
  from the organiser's session (STS AssumeRole, fresh for each lab: a chained role session lasts
  at most one hour, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html). The
  smoke attendee is the one whose role trusts a person: ``attendee_environment.smoke_principal``
  adds the organiser's principal to the first attendee's role (stacks/attendee_environment.py),
  and without it no attendee role may be assumed by anyone but SageMaker;
- ``--emulated``: the emulated account deployed from ``cdk.out`` (``make up``'s and the test
  suite's), as the same attendee.

Cost: on the emulator, the bill of the lab's own calls (``workshopctl/emulator/costs.py``); in
the account, the instance time of the SageMaker jobs the lab started (training, processing,
transform: DescribeTrainingJob's BillableTimeInSeconds x InstanceCount, the others from start to
end), priced by the project's price table; endpoint hours, Athena and Comprehend are not in it.

Clean-up, whatever the labs did: the labs' own ``workshop.cleanup(data=True)`` as the attendee
(the endpoints and models the labs recorded, the attendee's S3 prefix), then, as the organiser,
every SageMaker job still running and every endpoint left under the attendee's names
``<prefix>-<attendee>-`` is stopped or deleted. The exit code is 1 when a lab failed or
something could not be cleaned.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workshop_spec.config import PROJECT_ROOT, load_project_config
from workshopctl.cli_options import add_region
from workshopctl.cloud_assembly import CloudAssembly, Resource
from workshopctl.emulator.costs import Bill, bill
from workshopctl.emulator.rehearsal import attendee_notebooks
from workshopctl.local.labs_step import (
    DEFAULT_TIME_LIMIT,
    LABS_DIR,
    NotebookRun,
    kernel_environment,
    lab_label,
    run_labs,
)

CDK_OUT = PROJECT_ROOT / "cdk.out"
DEFAULT_ROOT = PROJECT_ROOT / ".local" / "smoke"
CHAINED_SESSION_SECONDS = 3600  # the longest session of a role assumed from a role's session
IN_PROGRESS = "InProgress"


class SmokeError(RuntimeError):
    """The smoke run cannot start (no attendee to run as, stacks not deployed)."""


# -- which attendee ----------------------------------------------------------------------------
def smoke_notebook(assembly: CloudAssembly, *, require_trust: bool) -> Resource:
    """The notebook of the attendee whose role trusts a person (the smoke principal); without
    one, the first notebook by name when ``require_trust`` is False (the emulator)."""
    try:
        notebooks = attendee_notebooks(assembly)
    except LookupError as missing:
        raise SmokeError(str(missing)) from None
    for notebook in notebooks:
        trust = assembly.role(notebook.properties["RoleArn"]).trust_policy
        if any("AWS" in s.get("Principal", {}) for s in trust.get("Statement", [])):
            return notebook
    if require_trust:
        raise SmokeError(
            "no attendee role may be assumed by a person: set "
            "attendee_environment.smoke_principal to your role's or user's ARN "
            "(`aws sts get-caller-identity`), `make deploy`, then `make smoke`"
        )
    return notebooks[0]


# -- targets: what a lab's kernel is pointed at --------------------------------------------------
class EmulatedTarget:
    """The emulated account (a ``workshopctl.emulator.rehearsal.Rehearsal``), as one attendee."""

    def __init__(self, rehearsal: Any, notebook: Resource) -> None:
        self.rehearsal = rehearsal
        self.notebook = notebook
        names = sorted(
            r.name for r in rehearsal.assembly.resources("AWS::SageMaker::NotebookInstance")
        )
        self._index = names.index(notebook.name)
        self.notebook_name = notebook.name
        self.where = f"the emulated account at {rehearsal.account.url}"

    def lab_environment(self, label: str, home: Path) -> dict[str, str]:
        return self.rehearsal.lab_environment(label, home, self._index)

    def lab_cost(self, label: str, started: datetime, ended: datetime) -> Bill:
        return bill(call.usage for call in self.rehearsal.account.log.calls(label))

    def organiser_client(self, service: str) -> Any:
        """A client with the deployer's rights (the emulator's organiser key)."""
        return self.rehearsal.account.client(service)


class AccountTarget:
    """The real account: each lab's kernel runs as the attendee's role, assumed for that lab."""

    def __init__(self, organiser: boto3.Session, role_arn: str, notebook: str, region: str):
        self.organiser = organiser
        self.role_arn = role_arn
        self.notebook_name = notebook
        self.region = region
        self.where = f"the account's {region}, as {role_arn}"

    def lab_environment(self, label: str, home: Path) -> dict[str, str]:
        home.mkdir(parents=True, exist_ok=True)
        session_name = "workshop-smoke-" + "".join(c if c.isalnum() else "-" for c in label)
        credentials = self.organiser.client("sts", region_name=self.region).assume_role(
            RoleArn=self.role_arn,
            RoleSessionName=session_name[:64],
            DurationSeconds=CHAINED_SESSION_SECONDS,
        )["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            # Nothing of the organiser's own configuration may act for the attendee.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "WORKSHOP_NOTEBOOK": self.notebook_name,
            "WORKSHOP_ENV_FILE": str(home / ".workshop" / "env.json"),
            "WORKSHOP_STATE_FILE": str(home / ".workshop" / "labs-state.json"),
        }

    def organiser_client(self, service: str) -> Any:
        return self.organiser.client(service, region_name=self.region)

    def lab_cost(self, label: str, started: datetime, ended: datetime) -> Bill:
        sagemaker = self.organiser_client("sagemaker")
        jobs = job_instance_seconds(sagemaker, self.notebook_name, started, ended)
        return bill([{"instance_seconds": list(jobs)}])


def job_instance_seconds(
    sagemaker: Any, name: str, started: datetime, ended: datetime
) -> Iterator[dict[str, Any]]:
    """``{"type", "seconds"}`` of every SageMaker job named ``<name>-...`` created in the
    window (tuning trials are training jobs named after their tuning job)."""
    window = {"NameContains": f"{name}-", "CreationTimeAfter": started, "CreationTimeBefore": ended}
    for summary in _pages(sagemaker, "list_training_jobs", "TrainingJobSummaries", window):
        job = sagemaker.describe_training_job(TrainingJobName=summary["TrainingJobName"])
        resources = job["ResourceConfig"]
        seconds = job.get("BillableTimeInSeconds", 0) * resources.get("InstanceCount", 1)
        yield {"type": resources["InstanceType"], "seconds": seconds}
    for summary in _pages(sagemaker, "list_processing_jobs", "ProcessingJobSummaries", window):
        job = sagemaker.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
        cluster = job["ProcessingResources"]["ClusterConfig"]
        seconds = _span(job.get("ProcessingStartTime"), job.get("ProcessingEndTime"))
        yield {"type": cluster["InstanceType"], "seconds": seconds * cluster["InstanceCount"]}
    for summary in _pages(sagemaker, "list_transform_jobs", "TransformJobSummaries", window):
        job = sagemaker.describe_transform_job(TransformJobName=summary["TransformJobName"])
        resources = job["TransformResources"]
        seconds = _span(job.get("TransformStartTime"), job.get("TransformEndTime"))
        yield {"type": resources["InstanceType"], "seconds": seconds * resources["InstanceCount"]}


def _span(start: datetime | None, end: datetime | None) -> float:
    return (end - start).total_seconds() if start and end else 0.0


def _pages(client: Any, operation: str, key: str, kwargs: dict[str, Any]) -> Iterator[dict]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


# -- clean-up -------------------------------------------------------------------------------------
@dataclass
class Cleanup:
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def clean_up(target: Any, root: Path, folder: Path, log: Callable[[str], None]) -> Cleanup:
    """The labs' own clean-up as the attendee, then what remains under the attendee's names,
    as the organiser (jobs stopped; endpoints, their configurations and models deleted)."""
    result = Cleanup()
    settings = target.lab_environment("smoke clean-up", root / "notebook-home")
    code = "import json, workshop; print(json.dumps(workshop.cleanup(data=True)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        env=kernel_environment(settings),
        capture_output=True,
        text=True,
        timeout=DEFAULT_TIME_LIMIT,
    )
    if done.returncode == 0:
        result.removed += json.loads(done.stdout.strip().splitlines()[-1])
    else:
        result.left.append(f"workshop.cleanup failed: {done.stderr.strip().splitlines()[-1:]}")
    sagemaker = target.organiser_client("sagemaker")
    _stop_jobs(sagemaker, f"{target.notebook_name}-", result)
    _delete_endpoints(sagemaker, f"{target.notebook_name}-", result)
    log(f"smoke clean-up: removed {len(result.removed)}, left {len(result.left)}")
    return result


JOBS = (
    ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "stop_training_job"),
    ("list_processing_jobs", "ProcessingJobSummaries", "ProcessingJobName", "stop_processing_job"),
    ("list_transform_jobs", "TransformJobSummaries", "TransformJobName", "stop_transform_job"),
    (
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        "HyperParameterTuningJobName",
        "stop_hyper_parameter_tuning_job",
    ),
)


def _stop_jobs(sagemaker: Any, scope: str, result: Cleanup) -> None:
    for listing, key, name_key, stop in JOBS:
        kwargs = {"NameContains": scope, "StatusEquals": IN_PROGRESS}
        for job in _pages(sagemaker, listing, key, kwargs):
            name = job[name_key]
            if not name.startswith(scope):
                continue
            try:
                getattr(sagemaker, stop)(**{name_key: name})
                result.removed.append(f"stopped {name}")
            except ClientError as error:
                result.left.append(f"{name}: {error}")


def _delete_endpoints(sagemaker: Any, scope: str, result: Cleanup) -> None:
    for endpoint in _pages(sagemaker, "list_endpoints", "Endpoints", {"NameContains": scope}):
        name = endpoint["EndpointName"]
        if not name.startswith(scope):
            continue
        try:
            config = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
            variants = sagemaker.describe_endpoint_config(EndpointConfigName=config)
            sagemaker.delete_endpoint(EndpointName=name)
            sagemaker.delete_endpoint_config(EndpointConfigName=config)
            for variant in variants.get("ProductionVariants", []):
                if variant.get("ModelName", "").startswith(scope):
                    sagemaker.delete_model(ModelName=variant["ModelName"])
            result.removed.append(f"endpoint {name}")
        except ClientError as error:
            result.left.append(f"endpoint {name}: {error}")


# -- the run -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Readiness:
    lab: str
    status: str  # pass / fail / timed out
    seconds: float
    cost: Bill
    error: str | None = None


def smoke(
    target: Any,
    root: Path,
    *,
    folder: Path = LABS_DIR,
    time_limit: float = DEFAULT_TIME_LIMIT,
    log: Callable[[str], None] = print,
) -> tuple[list[Readiness], Cleanup]:
    """Every lab in ``folder`` against ``target``, its readiness row, then the clean-up."""
    rows = []
    timed = TimedTarget(target)
    try:
        runs: list[NotebookRun] = run_labs(timed, root, log, time_limit, folder)
        for run in runs:
            started, ended = timed.windows[lab_label(run.name)]
            rows.append(
                Readiness(
                    run.name,
                    "pass" if run.status == "ok" else run.status.replace("failed", "fail"),
                    run.seconds,
                    target.lab_cost(lab_label(run.name), started, ended),
                    run.error,
                )
            )
    finally:
        cleaned = clean_up(target, root, folder, log)
    return rows, cleaned


class TimedTarget:
    """A target that remembers when each lab's kernel got its settings (its cost window): a lab
    asks for them just before it starts, and the next lab's request closes the window."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.windows: dict[str, tuple[datetime, datetime]] = {}
        self._open: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)

    def lab_environment(self, label: str, home: Path) -> dict[str, str]:
        self.close()
        self._open = label
        self.windows[label] = (datetime.now(UTC), datetime.now(UTC))
        return self.target.lab_environment(label, home)

    def close(self) -> None:
        if self._open is not None:
            self.windows[self._open] = (self.windows[self._open][0], datetime.now(UTC))
            self._open = None


def readiness_table(rows: list[Readiness], where: str) -> str:
    header = ("lab", "result", "wall time", "cost")
    table = [header] + [(r.lab, r.status, f"{r.seconds:.0f} s", str(r.cost)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    passed = sum(r.status == "pass" for r in rows)
    lines.append(f"{passed}/{len(rows)} labs pass on {where}")
    lines += [f"  {r.lab}: {r.error}" for r in rows if r.error]
    return "\n".join(lines)


# -- the command --------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    """Register ``smoke`` on ``workshopctl``'s subcommands."""
    parser = subparsers.add_parser(
        "smoke",
        help="after a deploy: every lab headlessly as an attendee, a readiness table, clean-up",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_region(parser)
    parser.add_argument("--cdk-out", default=str(CDK_OUT), help="the deployed cloud assembly")
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="executed labs and their HTML")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=3000.0,
        help="seconds per lab (default %(default)s: under the chained role session's hour)",
    )
    parser.add_argument(
        "--emulated", action="store_true", help="against the emulated account, not AWS"
    )
    parser.set_defaults(handler=run_smoke)


def run_smoke(args: argparse.Namespace, *, session: Any = None, folder: Path = LABS_DIR) -> int:
    """0: every lab passes and nothing is left; 1: a lab failed or the clean-up left something;
    2: the run could not start."""
    config = load_project_config()
    cdk_out = Path(args.cdk_out)
    root = Path(args.root)
    rehearsal = None
    try:
        if not (cdk_out / "manifest.json").exists():
            raise SmokeError(f"no cloud assembly in {cdk_out}: run `make synth` first")
        if args.emulated:
            from workshopctl.emulator import rehearsal as emulated

            rehearsal = emulated.start(cdk_out, root / "emulator")
            notebook = smoke_notebook(rehearsal.assembly, require_trust=False)
            target = EmulatedTarget(rehearsal, notebook)
        else:
            session = session or boto3.Session(region_name=args.region or config.region)
            target = _account_target(session, cdk_out, args.region or config.region)
        print(f"smoke run as {target.notebook_name} on {target.where}", flush=True)
        rows, cleaned = smoke(target, root, folder=folder, time_limit=args.time_limit)
    except (SmokeError, BotoCoreError, ClientError) as error:
        print(f"smoke: {error}", file=sys.stderr)
        return 2
    finally:
        if rehearsal is not None:
            rehearsal.stop()
    print(readiness_table(rows, target.where))
    left = f"; LEFT: {'; '.join(cleaned.left)}" if cleaned.left else ""
    print(f"clean-up: {len(cleaned.removed)} removed{left}")
    return 0 if all(r.status == "pass" for r in rows) and not cleaned.left else 1


def _account_target(session: boto3.Session, cdk_out: Path, region: str | None) -> AccountTarget:
    region = region or session.region_name
    if not region:
        raise SmokeError("no AWS region: set AWS_REGION, `region` in the config, or --region")
    assembly = CloudAssembly(cdk_out, region=region)
    notebook = smoke_notebook(assembly, require_trust=True)
    # The role's real name is CloudFormation's: read it from the deployed hand-out output.
    cloudformation = session.client("cloudformation", region_name=region)
    stack = assembly.stack_names[notebook.stack]
    (deployed,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    for output in deployed.get("Outputs", []):
        if output["OutputKey"].startswith("Handout"):
            entry = json.loads(output["OutputValue"])
            if entry.get("notebook") == notebook.name:
                return AccountTarget(session, entry["execution_role_arn"], notebook.name, region)
    raise SmokeError(f"{stack} has no hand-out output for {notebook.name}: is it deployed?")
