"""The labs' one helper: where the workshop's resources are, and the AWS calls the labs make.

Every notebook starts with ``import workshop`` and ``env = workshop.environment()``. The
environment is read once, from the first of:

1. ``~/SageMaker/.workshop/env.json`` (or ``$WORKSHOP_ENV_FILE``), which the notebook's lifecycle
   script writes at every start from the SSM parameter ``/<prefix>/workshop``;
2. that SSM parameter itself, found from the notebook's name ``<prefix>-<attendee>``.

Nothing here names an account, a region, a bucket or a role: they all come from the environment.
The functions below are the code the labs teach (SageMaker Python SDK v2 and boto3), and there is
no other code path: the rehearsal (``make up``) runs them unchanged against an emulated AWS on
localhost, reached through the standard endpoint settings (``AWS_ENDPOINT_URL``).
``workshop.show(function)`` prints a function's source in a notebook.

Rules the workshop's IAM role enforces, followed by every function here: SageMaker resources are
named ``<prefix>-<attendee>-...`` (:func:`resource_name`) and tagged ``workshop=<prefix>`` on
create (:func:`tags`); S3 writes go under ``attendees/<attendee>/`` (:func:`s3_uri`) or
``scratch/``. Everything a lab creates is recorded in a small state file, so :func:`cleanup`
can remove exactly that.
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
XGBOOST_VERSION = "1.7-1"  # the built-in algorithm's version the labs train with
# What the workshop's container prints when it trains (training_code/byom_scikit/byom/train.py);
# SageMaker publishes a metric of a custom image only when the job defines its regex.
BYOM_METRIC_DEFINITIONS = [{"Name": "train:accuracy", "Regex": r"train_accuracy=([0-9.]+)"}]
# The workshop's defaults (workshop_spec/config.py), used when the environment names none.
INSTANCE_TYPES = {"training": "ml.m5.xlarge", "endpoint": "ml.m5.large"}
# The v2 SDK warns on import that v3 exists; the labs pin v2 on purpose (see labs/README.md).
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
logging.getLogger("sagemaker.config").setLevel(logging.WARNING)  # "no config file" notices


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
    source: str = ""  # where the values were read from

    @property
    def ab_endpoint_name(self) -> str:
        """The workshop's shared bank-marketing A/B endpoint (the serving stack's)."""
        return self.endpoints.get("ab") or f"{self.prefix}-bank-ab"

    @property
    def byom_endpoint_name(self) -> str:
        """The workshop's shared bring-your-own-container endpoint (the serving stack's)."""
        return self.endpoints.get("byom") or f"{self.prefix}-byom"


@functools.cache
def environment() -> Environment:
    """The workshop's environment (read once per kernel; see the module docstring)."""
    env_file = Path(os.environ.get("WORKSHOP_ENV_FILE") or ENV_FILE).expanduser()
    if env_file.exists():
        return _from_values(json.loads(env_file.read_text()), str(env_file))
    name, values = _read_ssm_parameter()
    return _from_values(values, f"SSM parameter {name}")


def _own_role(values: Mapping[str, Any], attendee: str) -> str | None:
    """Your jobs and endpoints run as your own role (the stack publishes one per attendee)."""
    roles = values.get("execution_roles") or {}
    return roles.get(attendee) or values.get("execution_role_arn")


def _from_values(values: Mapping[str, Any], source: str) -> Environment:
    prefix = values["prefix"]
    attendee = values.get("attendee") or _attendee_from_notebook(prefix)
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
        source=source,
    )


def _notebook_name() -> str | None:
    if os.environ.get("WORKSHOP_NOTEBOOK"):
        return os.environ["WORKSHOP_NOTEBOOK"]
    if NOTEBOOK_METADATA.exists():
        return json.loads(NOTEBOOK_METADATA.read_text()).get("ResourceName")
    return None


def _attendee_from_notebook(prefix: str) -> str:
    """Each attendee's notebook is named ``<prefix>-<attendee>``."""
    if os.environ.get("WORKSHOP_ATTENDEE"):
        return os.environ["WORKSHOP_ATTENDEE"]
    name = _notebook_name() or ""
    if not name.startswith(f"{prefix}-"):
        raise RuntimeError(
            "cannot tell which attendee this is: set WORKSHOP_ATTENDEE (the notebook is named "
            f"{name or '(unknown)'}, not {prefix}-<attendee>)"
        )
    return name[len(prefix) + 1 :]


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


# -- SageMaker training and tuning ---------------------------------------------------------------
@dataclass(frozen=True)
class TrainingJob:
    """A finished training job: its name, model artifact and final metrics."""

    name: str
    model_data: str  # s3://.../model.tar.gz
    metrics: dict[str, float]
    instance_count: int
    seconds: float


@functools.cache
def sagemaker_session():
    """The SDK's session, bound to the workshop's region and your S3 prefix (no bucket of its
    own: the SDK's default bucket is one your role may not create)."""
    import sagemaker

    if not sagemaker.__version__.startswith("2."):  # v3 moved and renamed what the labs use
        raise RuntimeError(
            f"the labs use the SageMaker Python SDK v2, this kernel has {sagemaker.__version__}: "
            "pip install 'sagemaker>=2.257,<3' and restart the kernel"
        )
    env = environment()
    return sagemaker.Session(
        boto_session=_boto_session(),
        default_bucket=env.curated_bucket,
        default_bucket_prefix=f"{env.attendees_prefix}{env.attendee}",
    )


def xgboost_image() -> str:
    """The built-in XGBoost algorithm's image in the workshop's region (SDK v2 ``image_uris``)."""
    from sagemaker import image_uris

    sagemaker_session()  # checks the SDK's version first
    return image_uris.retrieve("xgboost", region=environment().region, version=XGBOOST_VERSION)


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


def _estimator(
    image_uri: str,
    instance_count: int,
    output_uri: str,
    hyperparameters: Mapping,
    metric_definitions: list[dict[str, str]] | None = None,
):
    from sagemaker.estimator import Estimator

    env = environment()
    return Estimator(
        image_uri=image_uri,
        role=env.execution_role_arn,
        instance_count=instance_count,
        instance_type=env.instance_types["training"],
        output_path=output_uri,
        hyperparameters={name: str(value) for name, value in hyperparameters.items()},
        metric_definitions=metric_definitions,
        tags=tags(),
        sagemaker_session=sagemaker_session(),
    )


def train_bank_xgboost(
    train_uri: str,
    validation_uri: str,
    hyperparameters: Mapping[str, Any],
    *,
    instance_count: int = 2,
) -> TrainingJob:
    """Train the built-in XGBoost on CSV channels (label first, no header) and wait.

    With ``instance_count`` > 1 the training channel is sharded by S3 key: each instance reads
    its own share of the files, so the channel needs at least that many files.
    """
    job_name = unique_name("bank-xgb")
    output_uri = s3_uri("bank-marketing/models/")
    from sagemaker.inputs import TrainingInput

    estimator = _estimator(xgboost_image(), instance_count, output_uri, hyperparameters)
    estimator.fit(
        {
            "train": TrainingInput(
                train_uri, content_type="text/csv", distribution="ShardedByS3Key"
            ),
            "validation": TrainingInput(validation_uri, content_type="text/csv"),
        },
        job_name=job_name,
        logs="None",  # the final metrics come back below; the full log is in CloudWatch
    )
    return _finished_job(job_name, instance_count)


def train_byom(train_uri: str, hyperparameters: Mapping[str, Any]) -> TrainingJob:
    """Train the workshop's own container on the ``training`` channel and wait (module 7)."""
    job_name = unique_name("byom")
    output_uri = s3_uri("byom/models/")
    from sagemaker.inputs import TrainingInput

    estimator = _estimator(
        byom_image(), 1, output_uri, hyperparameters, metric_definitions=BYOM_METRIC_DEFINITIONS
    )
    estimator.fit(
        {"training": TrainingInput(train_uri, content_type="text/csv")},
        job_name=job_name,
        logs="None",
    )
    return _finished_job(job_name, 1)


def _finished_job(job_name: str, instance_count: int) -> TrainingJob:
    job = _client("sagemaker").describe_training_job(TrainingJobName=job_name)
    return TrainingJob(
        name=job_name,
        model_data=job["ModelArtifacts"]["S3ModelArtifacts"],
        metrics={m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])},
        instance_count=instance_count,
        seconds=float(job.get("TrainingTimeInSeconds", 0)),
    )


def tune(
    train_uri: str,
    validation_uri: str,
    ranges: Mapping[str, Any],
    *,
    static_hyperparameters: Mapping[str, Any],
    objective_metric: str = "validation:auc",
    objective_type: str = "Maximize",
    max_jobs: int = 20,
    max_parallel_jobs: int = 3,
) -> str:
    """Bayesian tuning of the built-in XGBoost over ``ranges`` (SDK parameter ranges); waits and
    returns the tuning job's name."""
    job_name = unique_name("hpo", max_length=32)
    channels = {"train": train_uri, "validation": validation_uri}
    from sagemaker.inputs import TrainingInput
    from sagemaker.tuner import HyperparameterTuner

    estimator = _estimator(
        xgboost_image(), 1, s3_uri("bank-marketing/tuning/"), static_hyperparameters
    )
    tuner = HyperparameterTuner(
        estimator,
        objective_metric_name=objective_metric,
        hyperparameter_ranges=dict(ranges),
        strategy="Bayesian",
        objective_type=objective_type,
        max_jobs=max_jobs,
        max_parallel_jobs=max_parallel_jobs,
        tags=tags(),
    )
    tuner.fit(
        {name: TrainingInput(uri, content_type="text/csv") for name, uri in channels.items()},
        job_name=job_name,
        include_cls_metadata=False,
        wait=True,
    )
    remember("tuning_job", job_name)
    return job_name


def tuning_results(job_name: str | None = None) -> pd.DataFrame:
    """One row per training job of a tuning job (yours last run, by default): its
    hyperparameters, ``FinalObjectiveValue``, status and times (the SDK's analytics frame)."""
    job_name = job_name or recall("tuning_job")
    from sagemaker.analytics import HyperparameterTuningJobAnalytics

    return HyperparameterTuningJobAnalytics(job_name, sagemaker_session()).dataframe()


def best_training_job(job_name: str | None = None) -> dict[str, Any]:
    """The tuning job's best training job: name, objective value, hyperparameters, model."""
    job_name = job_name or recall("tuning_job")
    sm = _client("sagemaker")
    tuning = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=job_name)
    best = tuning["BestTrainingJob"]
    job = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    return {
        "name": best["TrainingJobName"],
        "objective": best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
        "hyperparameters": best["TunedHyperParameters"],
        "model_data": job["ModelArtifacts"]["S3ModelArtifacts"],
    }


# -- endpoints and batch transform ---------------------------------------------------------------
def _image(kind: str) -> str:
    if kind not in ("xgboost", "byom"):
        raise ValueError(f"kind {kind!r}: use 'xgboost' (built-in) or 'byom' (the workshop's)")
    return xgboost_image() if kind == "xgboost" else byom_image()


def deploy(
    models: Mapping[str, str] | str,
    *,
    kind: str,
    suffix: str,
    weights: Mapping[str, float] | None = None,
) -> str:
    """Create an endpoint serving ``models`` (variant name → model.tar.gz URI; a single URI
    makes one variant, ``AllTraffic``) with ``weights`` (default equal); waits until it is in
    service and returns its name. ``kind`` is ``xgboost`` or ``byom``."""
    variants = {"AllTraffic": models} if isinstance(models, str) else dict(models)
    weights = dict(weights or dict.fromkeys(variants, 1.0))
    endpoint = unique_name(suffix)
    _record("endpoints", endpoint)
    from sagemaker.model import Model
    from sagemaker.session import production_variant

    env, session = environment(), sagemaker_session()
    production_variants = []
    for variant, model_data in variants.items():
        model = Model(
            image_uri=_image(kind),
            model_data=model_data,
            role=env.execution_role_arn,
            name=unique_name(f"{suffix}-{variant.lower()}"),
            sagemaker_session=session,
        )
        model.create(instance_type=env.instance_types["endpoint"], tags=tags())
        _record("models", model.name)
        production_variants.append(
            production_variant(
                model_name=model.name,
                instance_type=env.instance_types["endpoint"],
                initial_instance_count=1,
                variant_name=variant,
                initial_weight=weights[variant],
            )
        )
    # The endpoint config gets the endpoint's (unique) name: configs are immutable.
    session.endpoint_from_production_variants(
        endpoint, production_variants, tags=tags(), wait=False
    )
    _wait_in_service(endpoint)
    return endpoint


def _wait_in_service(endpoint: str) -> None:
    """Wait for an endpoint, asking every 5 seconds (the SDK's own wait sleeps 30 s first)."""
    _client("sagemaker").get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 5, "MaxAttempts": 240}
    )


def deploy_multi_model(models: Mapping[str, str], *, suffix: str) -> str:
    """One endpoint, one container, many models: each ``name.tar.gz`` under your multi-model
    prefix is loaded on its first invocation (``invoke(..., target_model="name.tar.gz")``)."""
    endpoint = unique_name(suffix)
    prefix = s3_uri(f"byom/multi-model/{endpoint}/")
    _record("endpoints", endpoint)
    from sagemaker.multidatamodel import MultiDataModel

    env = environment()
    multi_model = MultiDataModel(
        name=unique_name(f"{suffix}-model"),
        model_data_prefix=prefix,
        image_uri=byom_image(),
        role=env.execution_role_arn,
        sagemaker_session=sagemaker_session(),
        env={"SAGEMAKER_MULTI_MODEL": "true"},  # the workshop's server reads its mode from it
    )
    for name, model_data in models.items():
        multi_model.add_model(model_data_source=model_data, model_data_path=name)
    _record("models", multi_model.name)  # deploy creates the model first
    multi_model.deploy(
        initial_instance_count=1,
        instance_type=env.instance_types["endpoint"],
        endpoint_name=endpoint,
        tags=tags(),
        wait=False,
    )
    _wait_in_service(endpoint)
    return endpoint


@dataclass(frozen=True)
class Answer:
    """An endpoint's answer and the production variant that gave it."""

    body: str
    variant: str | None


def invoke(
    endpoint: str,
    body: str,
    *,
    content_type: str = "text/csv",
    accept: str | None = None,
    target_variant: str | None = None,
    target_model: str | None = None,
) -> Answer:
    """One real-time request. ``target_variant`` pins a production variant; ``target_model``
    names the model of a multi-model endpoint."""
    options = {"ContentType": content_type}
    if accept:
        options["Accept"] = accept
    if target_variant:
        options["TargetVariant"] = target_variant
    if target_model:
        options["TargetModel"] = target_model
    answer = _client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, Body=body.encode(), **options
    )
    return Answer(answer["Body"].read().decode(), answer.get("InvokedProductionVariant"))


def predict_csv(endpoint: str, rows: pd.DataFrame, *, batch_rows: int = 500) -> list[str]:
    """Every row through the endpoint, ``batch_rows`` per request (well under the 6 MB limit);
    one answer line per row."""
    answers: list[str] = []
    for start in range(0, len(rows), batch_rows):
        body = rows.iloc[start : start + batch_rows].to_csv(index=False, header=False)
        answers += invoke(endpoint, body).body.splitlines()
    return answers


def endpoint_weights(endpoint: str) -> dict[str, float]:
    """Each production variant's current weight."""
    described = _client("sagemaker").describe_endpoint(EndpointName=endpoint)
    return {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}


def set_weights(endpoint: str, weights: Mapping[str, float]) -> dict[str, float]:
    """Shift traffic between variants without redeploying; waits, returns the new weights."""
    sm = _client("sagemaker")
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": variant, "DesiredWeight": float(weight)}
            for variant, weight in weights.items()
        ],
    )
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint)
    return endpoint_weights(endpoint)


def enable_autoscaling(
    endpoint: str,
    variant: str,
    *,
    min_instances: int = 1,
    max_instances: int = 2,
    invocations_per_instance: float = 100.0,
) -> dict[str, Any]:
    """Target-tracking autoscaling of one variant on invocations per instance per minute;
    returns the registered target and policy."""
    resource_id = f"endpoint/{endpoint}/variant/{variant}"
    scaling = {
        "ResourceId": resource_id,
        "MinCapacity": min_instances,
        "MaxCapacity": max_instances,
        "TargetValue": float(invocations_per_instance),
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance",
    }
    autoscaling = _client("application-autoscaling")
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": resource_id,
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    # Your role may change only scalable targets tagged with your name.
    autoscaling.register_scalable_target(
        **target,
        MinCapacity=min_instances,
        MaxCapacity=max_instances,
        Tags={**environment().tags, "attendee": environment().attendee},
    )
    _record("scalable_targets", resource_id)
    policy = autoscaling.put_scaling_policy(
        **target,
        PolicyName=resource_name("invocations-per-instance"),
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": float(invocations_per_instance),
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleOutCooldown": 60,  # add capacity quickly under load
            "ScaleInCooldown": 300,  # and remove it slowly, so a lull does not flap
        },
    )
    return {**scaling, "PolicyARN": policy["PolicyARN"]}


def batch_transform(model_data: str, input_uri: str, output_uri: str, *, kind: str) -> list[str]:
    """Predict every line of the CSV files under ``input_uri`` with a batch transform job
    (no endpoint); returns the output files (``<input file>.out``, one answer per line)."""
    job_name = unique_name("transform")
    from sagemaker.model import Model

    env = environment()
    model = Model(
        image_uri=_image(kind),
        model_data=model_data,
        role=env.execution_role_arn,
        name=unique_name("transform-model"),
        sagemaker_session=sagemaker_session(),
    )
    transformer = model.transformer(
        instance_count=1,
        instance_type=env.instance_types["endpoint"],
        strategy="MultiRecord",  # many lines per request, up to max_payload
        assemble_with="Line",
        output_path=output_uri,
        accept="text/csv",
        tags=tags(),
    )
    _record("models", model.name)
    transformer.transform(
        input_uri,
        content_type="text/csv",
        split_type="Line",
        job_name=job_name,
        wait=True,
        logs=False,
    )
    return [uri for uri in list_objects(output_uri) if uri.endswith(".out")]


def delete_endpoint(endpoint: str) -> None:
    """Delete an endpoint you created, its autoscaling and its endpoint config."""
    _delete_aws_endpoint(endpoint)
    _forget("endpoints", endpoint)


def _delete_aws_endpoint(endpoint: str) -> None:
    sm, autoscaling = _client("sagemaker"), _client("application-autoscaling")
    for resource_id in _state().get("scalable_targets", []):
        if resource_id.startswith(f"endpoint/{endpoint}/"):
            target = {
                "ServiceNamespace": "sagemaker",
                "ResourceId": resource_id,
                "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            }
            # Your role may deregister only targets tagged with your name: one that is gone
            # already (a rerun of the clean-up) cannot be, so ask first.
            listed = autoscaling.describe_scalable_targets(
                ServiceNamespace="sagemaker", ResourceIds=[resource_id]
            )["ScalableTargets"]
            if listed:
                _ignore_missing(autoscaling.deregister_scalable_target, **target)
            _forget("scalable_targets", resource_id)
    _ignore_missing(sm.delete_endpoint, EndpointName=endpoint)
    _ignore_missing(sm.delete_endpoint_config, EndpointConfigName=endpoint)


def cleanup(*, data: bool = False) -> list[str]:
    """Delete every endpoint and model the labs created for you (and with ``data=True`` every
    object under your S3 prefix); returns what was removed. Safe to run twice."""
    removed = []
    for endpoint in list(_state().get("endpoints", [])):
        delete_endpoint(endpoint)
        removed.append(f"endpoint {endpoint}")
    for model in list(_state().get("models", [])):
        _ignore_missing(_client("sagemaker").delete_model, ModelName=model)
        _forget("models", model)
        removed.append(f"model {model}")
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


def _ignore_missing(call, **arguments) -> None:
    """Deleting what is already gone is fine in a clean-up."""
    try:
        call(**arguments)
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        if code not in ("ValidationException", "ObjectNotFoundException", "ResourceNotFound"):
            raise


def show(function) -> None:
    """Print a function's source, e.g. ``workshop.show(workshop.train_bank_xgboost)``."""
    print(inspect.getsource(function))
