"""The labs' one helper: where the workshop's resources are, and the AWS calls the labs make.

Every notebook starts with ``import workshop`` and ``env = workshop.environment()``. The
environment is read once, from the first of:

1. ``~/SageMaker/.workshop/env.json`` (or ``$WORKSHOP_ENV_FILE``), which the lifecycle script
   writes at every start from the SSM parameter ``/<prefix>/workshop`` (the notebook instance's
   on-start, or in Studio the domain's JupyterLab lifecycle configuration);
2. that SSM parameter itself, found from the notebook's (or Studio user profile's) name
   ``<prefix>-<attendee>``.

That parameter holds what every attendee shares; the attendees' own entries (each one's
execution role and image repository) are in the parameters it lists as
``attendee_parameters`` (``/<prefix>/workshop/attendees/<n>``, ten attendees each, so that no
value outgrows SSM's 4 KB): the helper reads them in at the kernel's first call.

You are the attendee your notebook or Studio user profile is named after (Studio's
``/opt/ml/metadata/resource-metadata.json`` names the profile), or whose execution role your
Studio space runs as.

Nothing here names an account, a region, a bucket or a role: they all come from the environment.
From module 5 on, the notebooks' own cells hold the SageMaker Python SDK v3 code (the trainer,
the tuner, models, endpoint configurations, transformers, scaling policies); this helper only
finds resources, names and tags them, follows logs and draws results. There is no other code
path: the rehearsal (``make up``) runs the notebooks unchanged against an emulated AWS on
localhost, reached through the standard endpoint settings (``AWS_ENDPOINT_URL``).
``workshop.show(function)`` prints a function's source in a notebook.

Rules the workshop's IAM role enforces, followed by every function here: SageMaker resources are
named ``<prefix>-<attendee>-...`` (:func:`new_name`) and tagged ``workshop=<prefix>`` on
create (:func:`tags`, :func:`sdk_tags`); S3 writes go under ``attendees/<attendee>/``
(:func:`s3_uri`) or ``scratch/``. Every endpoint, endpoint configuration and model named by
:func:`new_name` is recorded in a small state file, so :func:`cleanup` can remove exactly that.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

ENV_FILE = Path("~/SageMaker/.workshop/env.json")
STATE_FILE = Path("~/SageMaker/.workshop/labs-state.json")
NOTEBOOK_METADATA = Path("/opt/ml/metadata/resource-metadata.json")
# The workshop's defaults (workshop_spec/config.py), used when the environment names none.
INSTANCE_TYPES = {"training": "ml.m5.xlarge", "endpoint": "ml.m5.large"}
logging.getLogger("sagemaker.config").setLevel(logging.WARNING)  # "no config file" notices
# The SDK v3 checks a trainer's role client-side (iam:SimulatePrincipalPolicy, GetRole) unless
# SAGEMAKER_VALIDATE_ROLE=false (sagemaker.core.helper.iam_role_resolver). Your role may not
# simulate policies (least privilege: it would be denied in AWS as in the rehearsal, and the SDK
# would only warn); the workshop's roles are checked before the event instead, from the
# templates (tests/contracts: what every program and job may do as its role).
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")


# -- the environment -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Environment:
    """The names the labs need, as the attendee-environment stack publishes them."""

    prefix: str
    region: str
    attendee: str
    raw_bucket: str
    curated_bucket: str
    athena_workgroup: str
    glue_database: str
    execution_role_arn: str | None
    tags: dict[str, str]
    attendees_prefix: str = "attendees/"
    scratch_prefix: str = "scratch/"
    model_repository_uri: str | None = None
    byom_image_uri: str | None = None
    labs_s3_uri: str | None = None
    instance_types: dict[str, str] = field(default_factory=lambda: dict(INSTANCE_TYPES))
    # The stack publishes the endpoint names; the prefix rule is only the fallback for an
    # environment file written before it did.
    endpoints: dict[str, str] = field(default_factory=dict)
    glue_jobs: dict[str, str] = field(default_factory=dict)  # e.g. "reviews_etl" (module 4)
    # Module 7: each attendee's own ECR repository for their build of the container.
    image_repositories: dict[str, str] = field(default_factory=dict)
    source: str = ""  # where the values were read from

    @property
    def ab_endpoint_name(self) -> str:
        """The workshop's shared bank-marketing A/B endpoint (the serving stack's)."""
        return self.endpoints.get("ab") or f"{self.prefix}-bank-ab"

    @property
    def byom_endpoint_name(self) -> str:
        """The workshop's shared bring-your-own-container endpoint (the serving stack's)."""
        return self.endpoints.get("byom") or f"{self.prefix}-byom"

    @property
    def bank_pipeline_name(self) -> str:
        """The workshop's bank-marketing pipeline (module 8); its model package group, where
        approvals promote into the A/B endpoint, has the same name."""
        return f"{self.prefix}-bank-marketing"


@functools.cache
def environment() -> Environment:
    """The workshop's environment (read once per kernel; see the module docstring)."""
    env_file = Path(os.environ.get("WORKSHOP_ENV_FILE") or ENV_FILE).expanduser()
    if env_file.exists():
        return _from_values(json.loads(env_file.read_text()), str(env_file))
    name, values = _read_ssm_parameter()
    return _from_values(values, f"SSM parameter {name}")


def _with_attendee_entries(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """The shared values plus the attendees' entries from the parameters they name
    (``attendee_parameters``): ``execution_roles`` and ``image_repositories``, attendee → value,
    as the stack published them in one parameter before they outgrew it."""
    names = list(values.get("attendee_parameters") or [])
    if not names:
        return values
    from botocore.exceptions import BotoCoreError, ClientError

    ssm = _settings_client("ssm", values.get("region"))
    merged = {**values, "execution_roles": {}, "image_repositories": {}}
    for start in range(0, len(names), 10):  # GetParameters takes at most 10 names
        batch = names[start : start + 10]
        try:
            answer = ssm.get_parameters(Names=batch)
        except (ClientError, BotoCoreError) as error:
            raise RuntimeError(
                f"cannot read the attendees' SSM parameters {batch}: {error}"
            ) from error
        if answer.get("InvalidParameters"):
            raise RuntimeError(f"no SSM parameters {answer['InvalidParameters']} (redeployed?)")
        for parameter in answer["Parameters"]:
            part = json.loads(parameter["Value"])
            for key in ("execution_roles", "image_repositories"):
                merged[key].update(part.get(key) or {})
    return merged


def _settings_client(service: str, region: str | None = None):
    """A client for reading the settings, before the environment (and its region) is known."""
    import boto3

    return boto3.client(service, region_name=region) if region else boto3.client(service)


def _own_role(values: Mapping[str, Any], attendee: str) -> str | None:
    """Your jobs and endpoints run as your own role (the stack publishes one per attendee)."""
    roles = values.get("execution_roles") or {}
    return roles.get(attendee) or values.get("execution_role_arn")


def _from_values(values: Mapping[str, Any], source: str) -> Environment:
    values = _with_attendee_entries(values)
    prefix = values["prefix"]
    attendee = values.get("attendee") or _attendee_from_notebook(prefix, values)
    return Environment(
        prefix=prefix,
        region=values["region"],
        attendee=attendee,
        raw_bucket=values["raw_bucket"],
        curated_bucket=values["curated_bucket"],
        athena_workgroup=values["athena_workgroup"],
        glue_database=values["glue_database"],
        execution_role_arn=_own_role(values, attendee),
        tags=dict(values.get("tags") or {"workshop": prefix}),
        attendees_prefix=values.get("attendees_prefix", "attendees/"),
        scratch_prefix=values.get("scratch_prefix", "scratch/"),
        model_repository_uri=values.get("model_repository_uri"),
        byom_image_uri=values.get("byom_image_uri"),
        labs_s3_uri=values.get("labs_s3_uri"),
        instance_types={**INSTANCE_TYPES, **(values.get("instance_types") or {})},
        endpoints=dict(values.get("endpoints") or {}),
        glue_jobs=dict(values.get("glue_jobs") or {}),
        image_repositories=dict(values.get("image_repositories") or {}),
        source=source,
    )


def _resource_metadata() -> dict:
    """The notebook instance's or Studio app's ``resource-metadata.json`` (empty elsewhere)."""
    if NOTEBOOK_METADATA.exists():
        return json.loads(NOTEBOOK_METADATA.read_text())
    return {}


def _notebook_name() -> str | None:
    """Your workspace's name, ``<prefix>-<attendee>``: the notebook instance's name, or in
    Studio your user profile's (Studio's metadata names the domain, the space and the profile;
    ``ResourceName`` there is the app's name, not yours)."""
    if os.environ.get("WORKSHOP_NOTEBOOK"):
        return os.environ["WORKSHOP_NOTEBOOK"]
    metadata = _resource_metadata()
    if "DomainId" in metadata:  # Studio
        return metadata.get("UserProfileName") or None
    return metadata.get("ResourceName")


def _attendee_by_role(values: Mapping[str, Any]) -> str | None:
    """In a Studio space whose metadata leaves the profile out, the space runs as its owner's
    execution role, one per attendee: the environment's ``execution_roles`` names whose."""
    role = _resource_metadata().get("ExecutionRoleArn")
    if not role:
        return None
    owners = [a for a, arn in (values.get("execution_roles") or {}).items() if arn == role]
    return owners[0] if len(owners) == 1 else None


def _attendee_from_notebook(prefix: str, values: Mapping[str, Any] | None = None) -> str:
    """Each attendee's notebook (or Studio user profile) is named ``<prefix>-<attendee>``."""
    if os.environ.get("WORKSHOP_ATTENDEE"):
        return os.environ["WORKSHOP_ATTENDEE"]
    name = _notebook_name() or ""
    if name.startswith(f"{prefix}-"):
        return name[len(prefix) + 1 :]
    by_role = _attendee_by_role(values or {})
    if by_role:
        return by_role
    raise RuntimeError(
        "cannot tell which attendee this is: set WORKSHOP_ATTENDEE (the notebook or Studio "
        f"profile is named {name or '(unknown)'}, not {prefix}-<attendee>)"
    )


def _read_ssm_parameter() -> tuple[str, dict]:
    """``/<prefix>/workshop``; without $WORKSHOP_SSM_PARAMETER, the prefix is tried at each '-'
    of the notebook's name (a prefix may hold '-'; the role may read only the right one)."""
    import boto3

    ssm = boto3.client("ssm")
    if os.environ.get("WORKSHOP_SSM_PARAMETER"):
        names = [os.environ["WORKSHOP_SSM_PARAMETER"]]
    else:
        notebook = _notebook_name() or ""
        names = [f"/{notebook[:i]}/workshop" for i, c in enumerate(notebook) if c == "-"]
    for name in names:
        try:
            value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ClientError:
            continue
        return name, json.loads(value)
    raise RuntimeError(
        f"no env.json at {ENV_FILE} and no readable SSM parameter among {names or '(none)'}; "
        "restart the notebook (its lifecycle script writes env.json) or set WORKSHOP_ENV_FILE"
    )


def deployed() -> pd.DataFrame:
    """What the workshop deployed for the labs, as a table (module 1)."""
    env = environment()
    rows = [
        ("read from", env.source, "where these names came from"),
        ("prefix", env.prefix, "every workshop resource name starts with it"),
        ("region", env.region, ""),
        ("attendee", env.attendee, "your name in resource names and S3 keys"),
        ("raw bucket", env.raw_bucket, "the vendored datasets (read only)"),
        ("curated bucket", env.curated_bucket, "prepared data, models, your own prefix"),
        ("your S3 prefix", s3_uri(), "you write here"),
        ("scratch prefix", _uri(env.curated_bucket, env.scratch_prefix), "shared scratch"),
        ("Glue database", env.glue_database, "the tables Athena queries"),
        ("Athena workgroup", env.athena_workgroup, "encrypted results, a scan cutoff"),
        ("execution role", env.execution_role_arn, "what your SageMaker jobs run as"),
        ("model image repository", env.model_repository_uri, "the BYOM container (module 7)"),
        ("A/B endpoint", env.ab_endpoint_name, "bank marketing, two variants (module 7)"),
        ("BYOM endpoint", env.byom_endpoint_name, "the bring-your-own container"),
        ("tags", json.dumps(env.tags), "put on everything you create"),
    ]
    return pd.DataFrame(rows, columns=["what", "name", "why"])


# -- names, tags, S3 -----------------------------------------------------------------------------
def resource_name(suffix: str) -> str:
    """``<prefix>-<attendee>-<suffix>``: the only SageMaker names your role may create."""
    env = environment()
    return f"{env.prefix}-{env.attendee}-{suffix}"


def unique_name(suffix: str, max_length: int = 63) -> str:
    """A resource name with a timestamp (job names must be unique; at most 63 characters,
    32 for tuning jobs). Cuts the end of the base, never the prefix your role checks."""
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%y%m%d-%H%M%S-%f")[:-3] if max_length > 32 else now.strftime("%d%H%M%S")
    base = resource_name(suffix)[: max_length - len(stamp) - 1].rstrip("-")
    env = environment()
    if not f"{base}-".startswith(f"{env.prefix}-{env.attendee}-"):
        raise ValueError(f"the prefix is too long for a {max_length}-character name: {base}")
    return f"{base}-{stamp}"


def tags() -> list[dict[str, str]]:
    """The workshop's tags in the SDK's and boto3's shape; your role requires them on create."""
    return [{"Key": key, "Value": value} for key, value in environment().tags.items()]


def _uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}"


def s3_uri(key: str = "") -> str:
    """``s3://<curated bucket>/attendees/<attendee>/<key>``: your own prefix."""
    env = environment()
    return _uri(env.curated_bucket, f"{env.attendees_prefix}{env.attendee}/{key}")


def raw_uri(key: str = "") -> str:
    """A key in the raw bucket, where the vendored datasets are (e.g. ``bike-sharing/hour.csv``)."""
    return _uri(environment().raw_bucket, key)


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def read_csv(uri: str, **options: Any) -> pd.DataFrame:
    """A CSV object as a DataFrame."""
    bucket, key = _split(uri)
    body = _client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return pd.read_csv(io.BytesIO(body), **options)


def write_csv(frame: pd.DataFrame, uri: str, *, header: bool = False) -> str:
    """Write ``frame`` as CSV without the index (SageMaker's algorithms want no header)."""
    text = frame.to_csv(index=False, header=header)
    bucket, key = _split(uri)
    _client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())
    return uri


def list_objects(uri: str) -> list[str]:
    """Every object under an S3 prefix, as URIs."""
    bucket, prefix = _split(uri)
    pages = _client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [_uri(bucket, o["Key"]) for page in pages for o in page.get("Contents", [])]


# -- Athena, Glue, Comprehend --------------------------------------------------------------------
def athena_query(sql: str) -> pd.DataFrame:
    """Run ``sql`` in the workshop's workgroup and database; the result as a DataFrame."""
    env = environment()
    athena = _client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=env.athena_workgroup,  # enforces the results location and the scan cutoff
        QueryExecutionContext={"Database": env.glue_database},
    )["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(1)
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"query {status['State']}: {status.get('StateChangeReason', '')}")
    columns: list[dict] = []
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        result = page["ResultSet"]
        if not columns:
            columns = result["ResultSetMetadata"]["ColumnInfo"]
            result["Rows"] = result["Rows"][1:]  # a SELECT's first row repeats the header
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in result["Rows"]]
    frame = pd.DataFrame(rows, columns=[c["Name"] for c in columns])
    frame = _typed(frame, {c["Name"]: c["Type"] for c in columns})
    frame.attrs["query_execution_id"] = query_id  # GetQueryExecution tells what it scanned
    return frame


def _typed(frame: pd.DataFrame, types: Mapping[str, str]) -> pd.DataFrame:
    """Athena answers text; give each column the type the query result declares."""
    for name, kind in types.items():
        if kind in ("tinyint", "smallint", "integer", "bigint"):
            frame[name] = pd.to_numeric(frame[name]).astype("Int64")
        elif kind in ("double", "float", "real", "decimal"):
            frame[name] = pd.to_numeric(frame[name])
        elif kind == "boolean":
            frame[name] = frame[name].map({"true": True, "false": False})
        elif kind in ("date", "timestamp"):
            frame[name] = pd.to_datetime(frame[name])
    return frame


def tables() -> pd.DataFrame:
    """The tables of the workshop's Glue database: name, location, columns."""
    env = environment()
    pages = _client("glue").get_paginator("get_tables").paginate(DatabaseName=env.glue_database)
    return pd.DataFrame(
        [
            {
                "table": table["Name"],
                "location": table["StorageDescriptor"].get("Location", ""),
                "columns": len(table["StorageDescriptor"]["Columns"]),
                "partitioned by": ", ".join(k["Name"] for k in table.get("PartitionKeys", [])),
            }
            for page in pages
            for table in page["TableList"]
        ]
    )


def named_queries() -> pd.DataFrame:
    """The Athena named queries the workshop deployed in its workgroup: name, description, SQL."""
    env = environment()
    athena = _client("athena")
    pages = athena.get_paginator("list_named_queries").paginate(WorkGroup=env.athena_workgroup)
    ids = [query_id for page in pages for query_id in page["NamedQueryIds"]]
    found = []
    for start in range(0, len(ids), 50):  # BatchGetNamedQuery takes 50 ids at a time
        found += athena.batch_get_named_query(NamedQueryIds=ids[start : start + 50])["NamedQueries"]
    rows = [
        {"name": q["Name"], "description": q.get("Description", ""), "sql": q["QueryString"]}
        for q in found
    ]
    return pd.DataFrame(rows).sort_values("name", ignore_index=True)


COMPREHEND_BATCH = 25  # BatchDetectSentiment's limit
COMPREHEND_MAX_BYTES = 5_000  # per text, in UTF-8


def comprehend_sentiment(texts: Iterable[str]) -> pd.DataFrame:
    """Sentiment of each text (POSITIVE, NEGATIVE, NEUTRAL or MIXED) with the four scores.

    Comprehend takes 25 texts per call and 5,000 bytes per text: longer texts are cut on a
    character boundary. ``frame.attrs["model"]`` says which model answered.
    """
    texts = [str(text or "").replace("<br />", "\n").strip() for text in texts]
    comprehend = _client("comprehend")
    rows = [{"sentiment": None, "error": "empty text: nothing to score"} for _ in texts]
    sendable = [i for i, text in enumerate(texts) if text]  # Comprehend rejects empty texts
    for start in range(0, len(sendable), COMPREHEND_BATCH):
        batch = sendable[start : start + COMPREHEND_BATCH]
        cut = [texts[i].encode()[:COMPREHEND_MAX_BYTES].decode(errors="ignore") for i in batch]
        answer = comprehend.batch_detect_sentiment(TextList=cut, LanguageCode="en")
        for item in answer["ResultList"]:
            scores = {k.lower(): v for k, v in item["SentimentScore"].items()}
            rows[batch[item["Index"]]] = {"sentiment": item["Sentiment"], **scores}
        for error in answer["ErrorList"]:
            rows[batch[error["Index"]]] = {"sentiment": None, "error": error["ErrorMessage"]}
    frame = pd.DataFrame(rows)
    frame.insert(0, "text", texts)
    # An emulated account labels its local stand-in in a response header.
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}) if sendable else {}
    frame.attrs["model"] = headers.get("x-emulator-model", "Amazon Comprehend (DetectSentiment)")
    return frame


# -- modules 2-4: what the data looks like, what a query and a job cost -------------------------
# Prices as the project's price table states them (lambdas/janitor/prices.json, US East; a
# test keeps these equal to it): https://aws.amazon.com/athena/pricing/ ($5.00 per TB scanned,
# rounded up to the megabyte, 10 MB minimum per query), https://aws.amazon.com/glue/pricing/
# ($0.44 per DPU-hour, per second, 1-minute minimum from Glue 2.0) and
# https://aws.amazon.com/comprehend/pricing/ ($0.0001 per 100-character unit, 3 units minimum
# per document). The labs ship without the project, so the numbers travel with the helper.
ATHENA_USD_PER_TB = 5.0
ATHENA_MINIMUM_MB = 10
GLUE_USD_PER_DPU_HOUR = 0.44
GLUE_MINIMUM_SECONDS = 60
COMPREHEND_USD_PER_UNIT = 0.0001
# DPUs per worker (Glue API reference, Job.WorkerType): G.1X is 1 DPU (4 vCPUs, 16 GB).
GLUE_WORKER_DPUS = {"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "G.12X": 12,
                    "G.16X": 16, "R.1X": 1, "R.2X": 2, "R.4X": 4, "R.8X": 8}  # fmt: skip
MB = 1024 * 1024


def athena_query_cost(bytes_scanned: int) -> dict[str, float]:
    """What Athena bills for one query that scanned ``bytes_scanned``: the bytes rounded up to
    the megabyte, at least 10 MB, at $5 per TB."""
    billed = max(ATHENA_MINIMUM_MB * MB, -(-int(bytes_scanned) // MB) * MB)
    return {"bytes_billed": billed, "usd": billed / 1024**4 * ATHENA_USD_PER_TB}


def glue_run_cost(run: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, Any]:
    """A Glue job run's DPU-seconds and price, from GetJobRuns/GetJob answers: ``DPUSeconds``
    when Glue reports it (Flex or auto scaling), else the run's ``ExecutionTime`` times its
    workers' DPUs; billed per second with a 1-minute minimum."""
    worker_type = run.get("WorkerType") or job.get("WorkerType")
    workers = run.get("NumberOfWorkers") or job.get("NumberOfWorkers")
    if worker_type and workers:
        dpus = workers * GLUE_WORKER_DPUS.get(worker_type, 1)
    else:
        dpus = run.get("MaxCapacity") or job.get("MaxCapacity") or 0
    seconds = float(run.get("ExecutionTime") or 0)
    dpu_seconds = float(run.get("DPUSeconds") or seconds * dpus)
    billed = max(dpu_seconds, GLUE_MINIMUM_SECONDS * dpus)
    return {"DPUs": dpus, "seconds": seconds, "DPU-seconds": dpu_seconds,
            "usd": billed / 3600 * GLUE_USD_PER_DPU_HOUR}  # fmt: skip


def comprehend_cost(texts: Iterable[str]) -> float:
    """What Comprehend bills to analyse ``texts`` once: 100-character units, 3 per document."""
    return sum(max(3, -(-len(text) // 100)) for text in texts if text) * COMPREHEND_USD_PER_UNIT


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def plot_target(counts: pd.Series) -> None:
    """Module 2: the target as recorded and as ``log(1 + count)``, with their skewness."""
    import numpy as np

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    for ax, values, title in (
        (axes[0], counts, "rentals per hour"),
        (axes[1], np.log1p(counts), "log(1 + rentals per hour)"),
    ):
        ax.hist(values, bins=50, color="steelblue")
        ax.set(title=f"{title}: skewness {values.skew():.2f}", ylabel="hours")
    fig.tight_layout()


def plot_seasonality(hour: pd.DataFrame) -> None:
    """Module 2: mean rentals by hour of the day (working days apart), month (each year apart)
    and day of the week."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    by_hour = hour.groupby(["hr", "workingday"])["cnt"].mean().unstack()
    by_hour.columns = ["weekend or holiday", "working day"]
    by_hour.plot(ax=axes[0], title="by hour of the day")
    by_month = hour.groupby(["mnth", "yr"])["cnt"].mean().unstack()
    by_month.columns = ["2011", "2012"]
    by_month.plot(ax=axes[1], marker="o", title="by month")
    days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    by_weekday = hour.groupby("weekday")["cnt"].mean()
    axes[2].bar([days[d] for d in by_weekday.index], by_weekday.to_numpy(), color="steelblue")
    axes[2].set(title="by day of the week")
    for ax in axes:
        ax.set(ylabel="mean rentals per hour")
    fig.tight_layout()


def plot_correlations(frame: pd.DataFrame) -> pd.DataFrame:
    """Module 2: the Pearson correlation of every pair of numeric columns, as a heat map;
    returns the matrix."""
    plt = _pyplot()
    matrix = frame.select_dtypes("number").corr()
    fig, ax = plt.subplots(figsize=(8.5, 7))
    image = ax.imshow(matrix.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(matrix)), matrix.columns, rotation=90)
    ax.set_yticks(range(len(matrix)), matrix.columns)
    for i in range(len(matrix)):
        for j in range(len(matrix)):
            value = matrix.iat[i, j]
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(value) > 0.6 else "black")  # fmt: skip
    fig.colorbar(image, ax=ax, shrink=0.8, label="correlation")
    ax.set_title("Correlation between columns")
    fig.tight_layout()
    return matrix


def plot_depth_sweep(sweep: pd.DataFrame) -> int:
    """Module 3: training and validation error against tree depth (``sweep`` has the columns
    depth, train, validation); marks and returns the depth with the lowest validation error."""
    plt = _pyplot()
    best = int(sweep.loc[sweep["validation"].idxmin(), "depth"])
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(sweep["depth"], sweep["train"], marker="o", label="training days")
    ax.plot(sweep["depth"], sweep["validation"], marker="o", label="validation days")
    ax.axvline(best, color="grey", linestyle="--", label=f"best validation: depth {best}")
    ax.set(xlabel="max_depth of the tree", ylabel="RMSLE (lower is better)",
           title="Deeper fits the training days better; past a point, new days worse")  # fmt: skip
    ax.legend()
    fig.tight_layout()
    return best


def plot_scans(scans: pd.DataFrame, *, scale: int = 1000) -> None:
    """Module 4: bytes scanned per query for each storage layout, and the price of 1,000 such
    queries as deployed and at ``scale`` times the data (``scans`` has the columns layout and
    bytes_scanned). Log scales: the layouts differ by orders of magnitude."""
    import numpy as np

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
    colors = ["indianred", "steelblue", "seagreen", "grey"][: len(scans)]
    positions = np.arange(len(scans))
    axes[0].barh(positions, scans["bytes_scanned"], color=colors)
    axes[0].set(xscale="log", xlabel="bytes scanned (DataScannedInBytes, log scale)",
                title="What each query read")  # fmt: skip
    for y, value in enumerate(scans["bytes_scanned"]):
        axes[0].text(value, y, f" {value / MB:,.2f} MB", va="center")
    bars = [(-0.2, 1, "as deployed", ""), (0.2, scale, f"at {scale:,}x the data", "//")]
    for offset, factor, label, hatch in bars:
        usd = [athena_query_cost(b * factor)["usd"] * 1000 for b in scans["bytes_scanned"]]
        axes[1].barh(positions + offset, usd, height=0.38, color=colors, hatch=hatch,
                     edgecolor="black", label=label)  # fmt: skip
    axes[1].axvline(athena_query_cost(0)["usd"] * 1000, color="black", linestyle="--",
                    label="Athena's 10 MB minimum")  # fmt: skip
    axes[1].set(xscale="log", xlabel="USD per 1,000 queries (log scale)",
                title="What 1,000 such queries cost")  # fmt: skip
    axes[1].legend(loc="lower right", fontsize=8)
    for ax in axes:
        ax.set_yticks(positions, scans["layout"])
        ax.invert_yaxis()
    fig.tight_layout()


def plot_counts(counts: Mapping[str, pd.Series], title: str) -> None:
    """Module 4: one horizontal bar chart per group (e.g. the key phrases of low and high
    ratings), side by side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(counts), figsize=(6 * len(counts), 4), squeeze=False)
    for ax, (group, series) in zip(axes[0], counts.items(), strict=True):
        ax.barh(series.index.astype(str), series.to_numpy(), color="steelblue")
        ax.invert_yaxis()
        ax.set(title=group, xlabel="reviews")
    fig.suptitle(title)
    fig.tight_layout()


# -- SageMaker (modules 5-7) ---------------------------------------------------------------------
# The notebooks hold the SageMaker Python SDK code themselves (trainer, tuner, models, endpoint
# configurations, transformers, scaling policies); the helper below only finds things, names and
# tags them, follows their logs and draws their results.
SDK_REQUIREMENT = "sagemaker==3.27.0"  # the labs' SDK (labs/README.md: why v3)
NAME_KINDS = {  # what each kind of name is for, and the longest name SageMaker takes
    "job": 63,  # training and transform jobs (kept: they end by themselves)
    "tuning-job": 32,
    "model": 63,
    "endpoint-config": 63,
    "endpoint": 63,
}
CLEANED_UP = ("endpoint", "endpoint-config", "model")  # billed or listed until deleted


def check_sdk() -> str:
    """The kernel's SageMaker Python SDK version; a clear error if it is not the labs' v3."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("sagemaker")
    except PackageNotFoundError:
        found = "none"
    if not found.startswith("3."):
        raise RuntimeError(
            f"the labs use the SageMaker Python SDK v3, this kernel has {found}: the notebook's "
            f"start-up script installs it in the background; if it failed, run "
            f"`%pip install '{SDK_REQUIREMENT}'` and restart the kernel"
        )
    return found


@functools.cache
def sagemaker_session():
    """The SDK's session in the workshop's region, with your S3 prefix as its default place
    (the SDK's own default bucket, ``sagemaker-<region>-<account>``, is one your role may not
    create)."""
    check_sdk()
    from sagemaker.core.helper.session_helper import Session

    env = environment()
    return Session(
        boto_session=_boto_session(),
        default_bucket=env.curated_bucket,
        default_bucket_prefix=f"{env.attendees_prefix}{env.attendee}",
    )


def sdk_tags() -> list:
    """The workshop's tags as the SDK v3 wants them (``Tag`` shapes); required on create."""
    from sagemaker.core.shapes import Tag

    return [Tag(key=key, value=value) for key, value in environment().tags.items()]


def new_name(kind: str, suffix: str) -> str:
    """A fresh ``<prefix>-<attendee>-<suffix>-<time>`` name for a SageMaker resource of
    ``kind`` (see NAME_KINDS), within SageMaker's length for it. Endpoints, endpoint
    configurations and models are recorded, so :func:`cleanup` deletes exactly those."""
    if kind not in NAME_KINDS:
        raise ValueError(f"kind {kind!r}: use one of {', '.join(NAME_KINDS)}")
    name = unique_name(suffix, max_length=NAME_KINDS[kind])
    if kind in CLEANED_UP:
        _record(kind, name)
    return name


def scalable_target(endpoint: str, variant: str) -> str:
    """Application Auto Scaling's id of an endpoint variant, recorded so that :func:`cleanup`
    deregisters it before it deletes the endpoint."""
    resource_id = f"endpoint/{endpoint}/variant/{variant}"
    _record("scalable-target", resource_id)
    return resource_id


def byom_image() -> str:
    """The workshop's bring-your-own-container image: as published, else the newest pushed."""
    env = environment()
    if env.byom_image_uri:
        return env.byom_image_uri
    if not env.model_repository_uri:
        raise RuntimeError("this workshop has no model image (features.model_image is off)")
    repository = env.model_repository_uri.split("/", 1)[1]
    images = _client("ecr").describe_images(repositoryName=repository)["imageDetails"]
    newest = max((i for i in images if i.get("imageTags")), key=lambda i: i["imagePushedAt"])
    return f"{env.model_repository_uri}:{newest['imageTags'][0]}"


def own_image_repository() -> str:
    """Your own ECR repository's URI (``<registry>/<repository>``): Module 7 pushes your build
    of the container there. Only you may push to it (ECR authorizes pushes per repository)."""
    env = environment()
    if env.attendee not in env.image_repositories or not env.model_repository_uri:
        raise RuntimeError(
            f"no image repository for {env.attendee!r} in {env.source} (features.model_image "
            "off, or a workshop deployed before attendees pushed their own builds)"
        )
    registry = env.model_repository_uri.split("/", 1)[0]  # the account's one private registry
    return f"{registry}/{env.image_repositories[env.attendee]}"


TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def training_log(job_name: str, *, last: int = 15) -> list[str]:
    """The last ``last`` lines of each instance's log of a training job (CloudWatch Logs,
    stream ``<job>/algo-<n>-<epoch>``), each line prefixed with its instance."""
    logs = _client("logs")
    streams = logs.describe_log_streams(
        logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix=f"{job_name}/"
    )["logStreams"]
    lines = []
    for stream in sorted(streams, key=lambda s: s["logStreamName"]):
        host = stream["logStreamName"].split("/", 1)[1].rsplit("-", 1)[0]
        events = logs.get_log_events(
            logGroupName=TRAINING_LOG_GROUP,
            logStreamName=stream["logStreamName"],
            startFromHead=False,
            limit=last,
        )["events"]
        lines += [f"[{host}] {event['message']}" for event in events]
    return lines


def read_predictions(output_uri: str) -> list[float]:
    """Every line of a batch transform's ``.out`` files under ``output_uri`` (in file order)
    as numbers: one score per input line."""
    scores: list[float] = []
    for uri in sorted(u for u in list_objects(output_uri) if u.endswith(".out")):
        bucket, key = _split(uri)
        body = _client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        scores += [float(line.split(",")[0]) for line in body.splitlines() if line.strip()]
    return scores


# -- plots ---------------------------------------------------------------------------------------
def plot_roc_and_precision_recall(y_true, scores: Mapping[str, Any]) -> pd.DataFrame:
    """ROC and precision-recall curves of one or more models' scores on the same rows, side by
    side; returns each model's ROC AUC and average precision."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    _, (roc, pr) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = []
    for name, score in scores.items():
        auc, precision_at = roc_auc_score(y_true, score), average_precision_score(y_true, score)
        false_positive, true_positive, _ = roc_curve(y_true, score)
        roc.plot(false_positive, true_positive, label=f"{name} (AUC {auc:.3f})")
        precision, recall, _ = precision_recall_curve(y_true, score)
        pr.plot(recall, precision, label=f"{name} (AP {precision_at:.3f})")
        rows.append({"model": name, "ROC AUC": auc, "average precision": precision_at})
    roc.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    base_rate = float(pd.Series(y_true).mean())
    pr.axhline(base_rate, linestyle=":", color="grey", label=f"chance ({base_rate:.2f})")
    pr.set(xlabel="recall", ylabel="precision", title="Precision and recall")
    roc.legend(loc="lower right")
    pr.legend(loc="upper right")
    plt.tight_layout()
    return pd.DataFrame(rows).set_index("model").round(4)


def gains(y_true, score) -> pd.DataFrame:
    """The cumulative gains table: calling the best-scored share of clients first, which share
    of all subscribers is reached (one row per percent of clients called)."""
    order = pd.Series(score).reset_index(drop=True).sort_values(ascending=False).index
    hits = pd.Series(y_true).reset_index(drop=True).iloc[order].to_numpy()
    called = pd.RangeIndex(1, len(hits) + 1) / len(hits)
    reached = hits.cumsum() / max(hits.sum(), 1)
    table = pd.DataFrame({"called": called, "reached": reached})
    percents = [round(p / 100 * len(hits)) - 1 for p in range(1, 101)]
    return table.iloc[[max(i, 0) for i in percents]].reset_index(drop=True)


def plot_gains(y_true, score, *, call_share: float = 0.2) -> float:
    """The cumulative gains chart with the share of subscribers reached by calling the top
    ``call_share`` of clients marked; returns that share."""
    import matplotlib.pyplot as plt

    table = gains(y_true, score)
    reached = float(table.loc[table["called"] >= call_share - 1e-9, "reached"].iloc[0])
    _, ax = plt.subplots(figsize=(6, 4.2))
    ax.plot(table["called"] * 100, table["reached"] * 100, label="model's order")
    ax.plot([0, 100], [0, 100], linestyle=":", color="grey", label="random order")
    ax.plot([call_share * 100] * 2, [0, reached * 100], color="tab:red")
    ax.plot([0, call_share * 100], [reached * 100] * 2, color="tab:red")
    ax.annotate(
        f"call the top {call_share:.0%}: reach {reached:.0%} of subscribers",
        (call_share * 100, reached * 100),
        xytext=(call_share * 100 + 5, reached * 100 - 12),
    )
    ax.set(xlabel="% of clients called", ylabel="% of subscribers reached", title="Gains")
    ax.legend(loc="lower right")
    plt.tight_layout()
    return reached


# -- MLOps (module 8) ----------------------------------------------------------------------------
def plot_pipeline_steps(steps: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Module 8: a pipeline execution's steps (``ListPipelineExecutionSteps``) as a timeline,
    one bar per step from its start to its end, coloured by status; returns the steps as a
    table (seconds from the execution's first start)."""
    plt = _pyplot()
    colours = {"Succeeded": "tab:green", "Failed": "tab:red", "Executing": "tab:blue"}
    first = min(step["StartTime"] for step in steps)
    rows = []
    for step in sorted(steps, key=lambda s: s["StartTime"]):
        end = step.get("EndTime") or datetime.now(first.tzinfo)
        rows.append(
            {
                "step": step["StepName"],
                "status": step["StepStatus"],
                "starts at s": (step["StartTime"] - first).total_seconds(),
                "seconds": (end - step["StartTime"]).total_seconds(),
            }
        )
    table = pd.DataFrame(rows)
    _, ax = plt.subplots(figsize=(9, 0.45 * len(table) + 1.2))
    ax.barh(
        table["step"],
        table["seconds"],
        left=table["starts at s"],
        color=[colours.get(status, "tab:grey") for status in table["status"]],
    )
    ax.invert_yaxis()
    ax.set(xlabel="seconds since the execution started", title="Pipeline steps")
    plt.tight_layout()
    return table.round(1)


def plot_captured_scores(captured: pd.DataFrame) -> None:
    """Module 8: the scores the A/B endpoint answered, as data capture recorded them, one
    histogram per variant (``captured`` has the columns ``variant`` and ``score``)."""
    plt = _pyplot()
    _, ax = plt.subplots(figsize=(7, 3.5))
    for variant, served in captured.groupby("variant"):
        ax.hist(
            served["score"], bins=20, range=(0, 1), alpha=0.6, label=f"{variant} ({len(served)})"
        )
    ax.set(xlabel="score (probability of a yes)", ylabel="captured answers",
           title="What each variant answered (data capture)")  # fmt: skip
    ax.legend()
    plt.tight_layout()


def plot_instance_metrics(datapoints: Mapping[str, list[dict]], *, title: str) -> pd.DataFrame:
    """Module 5: a training instance's metrics as CloudWatch answered them
    (``get_metric_statistics`` with Average and Maximum, by metric name), one panel per
    metric over time; returns each metric's mean and peak, in percent."""
    from datetime import timedelta

    from matplotlib.dates import AutoDateLocator, DateFormatter

    plt = _pyplot()
    _, axes = plt.subplots(1, len(datapoints), figsize=(4 * len(datapoints), 3), squeeze=False)
    summary = {}
    for ax, (metric, points) in zip(axes[0], datapoints.items(), strict=True):
        points = sorted(points, key=lambda point: point["Timestamp"])
        times = [point["Timestamp"] for point in points]
        for statistic, style in (("Average", "o-"), ("Maximum", "^:")):
            ax.plot(times, [point[statistic] for point in points], style, label=statistic)
        ax.set(title=metric, ylabel="percent", ylim=(0, None), xlabel="minute (UTC)")
        if times:  # a short job has one or two minutes: keep a minute either side in view
            ax.set_xlim(min(times) - timedelta(minutes=1), max(times) + timedelta(minutes=1))
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=2, maxticks=4))
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
        ax.legend()
        summary[metric] = {
            "minutes": len(points),
            "mean %": sum(p["Average"] for p in points) / len(points) if points else None,
            "peak %": max((p["Maximum"] for p in points), default=None),
        }
    plt.suptitle(title)
    plt.tight_layout()
    return pd.DataFrame(summary).T


def metric_results(answer: Mapping[str, Any]) -> pd.Series:
    """A ``get_metric_data`` answer as one total per query id (the sum of its points)."""
    return pd.Series(
        {result["Id"]: sum(result["Values"]) for result in answer["MetricDataResults"]}
    )


def plot_variant_metrics(per_variant: pd.DataFrame) -> None:
    """Module 7: per production variant, the requests CloudWatch counted against those the
    client sent, and the latency SageMaker measured (model and overhead, milliseconds)."""
    plt = _pyplot()
    _, (counts, latency) = plt.subplots(1, 2, figsize=(10, 3.5))
    per_variant[["client requests", "Invocations"]].plot.bar(
        ax=counts, rot=0, title="requests per variant"
    )
    per_variant[["ModelLatency ms", "OverheadLatency ms"]].plot.bar(
        ax=latency, rot=0, stacked=True, title="latency SageMaker measured (mean)"
    )
    latency.set(ylabel="milliseconds")
    plt.tight_layout()


# -- clean-up ------------------------------------------------------------------------------------
def cleanup(*, data: bool = False) -> list[str]:
    """Delete every endpoint, endpoint configuration and model the labs named for you with
    :func:`new_name` (their scalable targets first), and with ``data=True`` every object under
    your S3 prefix; returns what was removed. Safe to run twice."""
    sm, autoscaling = _client("sagemaker"), _client("application-autoscaling")
    removed = []
    for resource_id in list(_state().get("scalable-target", [])):
        # Your role may deregister only targets tagged with your name: one that is gone already
        # (a rerun of the clean-up, or its endpoint deleted) cannot be, so ask first.
        listed = autoscaling.describe_scalable_targets(
            ServiceNamespace="sagemaker", ResourceIds=[resource_id]
        )["ScalableTargets"]
        if listed:
            autoscaling.deregister_scalable_target(
                ServiceNamespace="sagemaker",
                ResourceId=resource_id,
                ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            )
            removed.append(f"scalable target {resource_id}")
        _forget("scalable-target", resource_id)
    deletes = {
        "endpoint": lambda name: sm.delete_endpoint(EndpointName=name),
        "endpoint-config": lambda name: sm.delete_endpoint_config(EndpointConfigName=name),
        "model": lambda name: sm.delete_model(ModelName=name),
    }
    for kind in CLEANED_UP:  # endpoints before their configurations and models
        for name in list(_state().get(kind, [])):
            if _ignore_missing(deletes[kind], name):
                removed.append(f"{kind} {name}")
            _forget(kind, name)
    if data:
        objects = list_objects(s3_uri())
        bucket = environment().curated_bucket
        for start in range(0, len(objects), 1000):  # DeleteObjects takes 1,000 keys
            keys = [{"Key": _split(uri)[1]} for uri in objects[start : start + 1000]]
            _client("s3").delete_objects(Bucket=bucket, Delete={"Objects": keys})
        removed += objects
    return removed


# -- state shared by the notebooks ---------------------------------------------------------------
def _state_file() -> Path:
    return Path(os.environ.get("WORKSHOP_STATE_FILE") or STATE_FILE).expanduser()


def _state() -> dict[str, Any]:
    path = _state_file()
    return json.loads(path.read_text()) if path.exists() else {}


def _save(state: dict[str, Any]) -> None:
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True))


def remember(key: str, value: Any) -> None:
    """Keep a value for a later notebook (e.g. module 5's data for module 6.1)."""
    state = _state()
    state.setdefault("remembered", {})[key] = value
    _save(state)


def recall(key: str) -> Any:
    """A value an earlier notebook kept with :func:`remember`."""
    remembered = _state().get("remembered", {})
    if key not in remembered:
        raise KeyError(f"nothing remembered as {key!r}: run the earlier module's notebook first")
    return remembered[key]


def _record(kind: str, name: str) -> None:
    state = _state()
    state.setdefault(kind, [])
    if name not in state[kind]:
        state[kind].append(name)
    _save(state)


def _forget(kind: str, name: str) -> None:
    state = _state()
    if name in state.get(kind, []):
        state[kind].remove(name)
        _save(state)


# -- plumbing ------------------------------------------------------------------------------------
@functools.cache
def _boto_session():
    import boto3

    return boto3.Session(region_name=environment().region)


def _client(service: str):
    return _boto_session().client(service)


def _ignore_missing(call, *arguments) -> bool:
    """Deleting what is already gone is fine in a clean-up; True if something was deleted."""
    try:
        call(*arguments)
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        if code not in ("ValidationException", "ObjectNotFoundException", "ResourceNotFound"):
            raise
        return False
    return True


def show(function) -> None:
    """Print a function's source, e.g. ``workshop.show(workshop.train_bank_xgboost)``."""
    print(inspect.getsource(function))
