"""Model steps of a pipeline, locally: create a model, register it, batch-transform with it.

* CreateModel records the model (name → image and model data) for later transform steps.
* RegisterModel writes a model-registry entry as JSON under the registry folder:
  ``<registry>/<group>/<version>.json`` with the approval status, model and metrics URIs and
  the headline metrics of the attached evaluation report.
* Transform runs the model over the input as a batch transform job does (``SplitType Line``,
  CSV ``InputFilter`` / ``JoinSource`` / ``OutputFilter``): the built-in XGBoost's model with
  the booster in process, the workshop's model image through its own ``serve`` program.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from training_code.contract import unpack_model
from workshopctl.local.byom_step import _free_loopback_port, _request, _stop, _wait_for_ping
from workshopctl.local.pipeline_jobs import (
    BYOM_DIR,
    JobContext,
    JobFailed,
    image_kind,
    job_environment,
)

DEFAULT_MAX_PAYLOAD_MB = 6
_FILTER = re.compile(r"^\$(?:\[(.*)\])?$")

Predict = Callable[[list[str]], list[str]]  # CSV records in, CSV predictions out


def create_model(step: str, arguments: dict, ctx: JobContext) -> tuple[dict, dict]:
    """Record a model (PrimaryContainer only) under a generated name."""
    container = arguments.get("PrimaryContainer")
    if not container:
        raise JobFailed("only single-container models (PrimaryContainer) run locally")
    name = ctx.job_name(step)
    ctx.models[name] = container
    record = ctx.work / "models" / f"{name}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"ModelName": name, **arguments}, indent=2, default=str))
    outputs = {"model_name": name, "image": container["Image"],
               "model_data": container.get("ModelDataUrl")}  # fmt: skip
    return {"ModelName": name, "ModelArn": f"local:model/{name}"}, outputs


def register_model(
    step: str, arguments: dict, ctx: JobContext, registry: Path
) -> tuple[dict, dict]:
    """Add a version to the model package group's local registry."""
    group = arguments.get("ModelPackageGroupName")
    if not group:
        raise JobFailed("only versioned model packages (ModelPackageGroupName) run locally")
    containers = arguments["InferenceSpecification"]["Containers"]
    folder = registry / group
    folder.mkdir(parents=True, exist_ok=True)
    version = 1 + max((int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()), default=0)
    statistics = arguments.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
    metrics_uri = statistics.get("S3Uri")
    entry = {
        "model_package_group": group,
        "version": version,
        "arn": f"local:model-package/{group}/{version}",
        "approval_status": arguments.get("ModelApprovalStatus", "PendingManualApproval"),
        "description": arguments.get("ModelPackageDescription", ""),
        "model_uri": containers[0].get("ModelDataUrl"),
        "image": containers[0].get("Image"),
        "metrics_uri": metrics_uri,
        "metrics": headline_metrics(_fetched(ctx, metrics_uri, "metrics")) if metrics_uri else {},
        "pipeline_execution": ctx.execution_id,
        "content_types": arguments["InferenceSpecification"].get("SupportedContentTypes", []),
    }
    (folder / f"{version}.json").write_text(json.dumps(entry, indent=2) + "\n")
    properties = {
        "ModelPackageArn": entry["arn"],
        "ModelPackageVersion": version,
        "ModelApprovalStatus": entry["approval_status"],
    }
    return properties, entry


def _fetched(ctx: JobContext, uri: str, purpose: str) -> Path:
    """A local copy of one object (a missing one: a path that does not exist)."""
    target = ctx.work / purpose / uri.removeprefix("s3://")
    try:
        return ctx.s3.fetch(uri, target)
    except JobFailed:
        return target


def headline_metrics(report: Path) -> dict[str, float]:
    """The ``value`` of every metric in a SageMaker model-quality report."""
    if not report.is_file():
        raise JobFailed(f"model metrics {report} do not exist")
    document = json.loads(report.read_text(encoding="utf-8"))
    return {
        name: metric["value"]
        for family, metrics in document.items()
        if family.endswith("_metrics") and isinstance(metrics, dict)
        for name, metric in metrics.items()
        if isinstance(metric, dict) and isinstance(metric.get("value"), int | float)
    }


# -- batch transform --------------------------------------------------------------------------


def select_columns(columns: list[str], expression: str | None) -> list[str]:
    """A CSV record's columns picked by a transform filter: ``$``, ``$[1:]``, ``$[0,-1]``."""
    if not expression:
        return columns
    match = _FILTER.match(expression.strip())
    if not match:
        raise JobFailed(f"filter {expression!r}: only $, $[i,j,...] and $[a:b] run locally")
    inside = (match.group(1) or "").strip()
    if not inside:
        return columns
    if ":" in inside:
        low, _, high = inside.partition(":")
        return columns[int(low) if low.strip() else None : int(high) if high.strip() else None]
    try:
        return [columns[int(index)] for index in inside.split(",")]
    except (ValueError, IndexError):
        raise JobFailed(
            f"filter {expression!r} does not fit a record of {len(columns)} columns"
        ) from None


def transform(step: str, arguments: dict, ctx: JobContext) -> tuple[dict, dict]:
    """Run a batch transform job over every object of its input prefix."""
    model_name = arguments["ModelName"]
    if model_name not in ctx.models:
        raise JobFailed(f"model {model_name} was not created in this execution")
    container = ctx.models[model_name]
    source = arguments["TransformInput"]
    if source.get("SplitType") != "Line" or "csv" not in source.get("ContentType", ""):
        raise JobFailed("only text/csv input split by Line runs locally")
    processing = arguments.get("DataProcessing", {})
    max_payload = int(arguments.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB)) * 1024 * 1024
    root = ctx.fresh_root(step)
    inputs = ctx.s3.download(source["DataSource"]["S3DataSource"]["S3Uri"], root / "input")
    output_uri = arguments["TransformOutput"]["S3OutputPath"].rstrip("/")
    records_done, written = 0, []
    with predictor(container, root, ctx) as predict:
        for path in sorted(p for p in inputs.rglob("*") if p.is_file()):
            lines = transform_records(path.read_text().splitlines(), predict, processing,
                                      max_payload)  # fmt: skip
            relative = f"{path.relative_to(inputs).as_posix()}.out"
            target = root / "output" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n")
            uri = f"{output_uri}/{relative}"
            ctx.s3.upload(target, uri)
            written.append(uri)
            records_done += len(lines)
    properties = {
        **arguments,
        "TransformJobName": ctx.job_name(step),
        "TransformJobStatus": "Completed",
    }
    return properties, {"records": records_done, "outputs": written}


def transform_records(
    records: list[str], predict: Predict, processing: dict, max_payload: int
) -> list[str]:
    """One input object's output lines: filter, predict in mini-batches, join, filter."""
    rows = [record.split(",") for record in records if record.strip()]
    features = [",".join(select_columns(row, processing.get("InputFilter"))) for row in rows]
    predictions = [p for batch in _batches(features, max_payload) for p in predict(batch)]
    if len(predictions) != len(rows):
        raise JobFailed(f"{len(rows)} records got {len(predictions)} predictions")
    joined = (
        row + prediction.split(",") if processing.get("JoinSource") == "Input"
        else prediction.split(",")
        for row, prediction in zip(rows, predictions, strict=True)
    )  # fmt: skip
    return [",".join(select_columns(line, processing.get("OutputFilter"))) for line in joined]


def _batches(records: list[str], max_bytes: int) -> Iterator[list[str]]:
    """MultiRecord mini-batches no larger than MaxPayloadInMB."""
    batch: list[str] = []
    size = 0
    for record in records:
        if batch and size + len(record) + 1 > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record) + 1
    if batch:
        yield batch


@contextlib.contextmanager
def predictor(container: dict, root: Path, ctx: JobContext) -> Iterator[Predict]:
    """The model of a container, ready to answer CSV records."""
    kind = image_kind(container["Image"], ctx.byom_image_uri)
    model_file = ctx.s3.fetch(container["ModelDataUrl"], root / "model.tar.gz")
    model_dir = unpack_model(model_file, root / "model")
    if kind == "xgboost":
        yield _xgboost_predictor(model_dir)
    elif kind == "byom":
        with _byom_server(root) as predict:
            yield predict
    else:
        raise JobFailed(f"no local batch transform for {container['Image']}")


def _xgboost_predictor(model_dir: Path) -> Predict:
    """The built-in XGBoost's CSV inference: one score per record."""
    import numpy as np
    import xgboost as xgb

    from training_code.bank.train_xgboost import MODEL_FILE, load_booster

    if not (model_dir / MODEL_FILE).is_file():
        raise JobFailed(f"{model_dir}: no {MODEL_FILE}; not a built-in XGBoost model")
    booster = load_booster(model_dir / MODEL_FILE)

    def predict(records: list[str]) -> list[str]:
        features = np.array([[float(v) for v in r.split(",")] for r in records], dtype=np.float32)
        return [repr(float(p)) for p in booster.predict(xgb.DMatrix(features))]

    return predict


@contextlib.contextmanager
def _byom_server(root: Path) -> Iterator[Predict]:
    """The model image's ``serve`` program on a loopback port, stopped with SIGTERM."""
    port = _free_loopback_port()
    log_file = root / "serve.log"
    command = [sys.executable, str(BYOM_DIR / "serve"), "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1"]  # fmt: skip
    with open(log_file, "wb") as output:
        server = subprocess.Popen(
            command, env=job_environment(root, BYOM_DIR), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_ping(port, server)

        def predict(records: list[str]) -> list[str]:
            body = ("\n".join(records) + "\n").encode()
            headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
            status, payload, _ = _request(port, "POST", "/invocations", body, headers)
            if status != 200:
                raise JobFailed(f"the model server answered {status}: {payload[:300]!r}")
            return payload.decode().splitlines()

        yield predict
    finally:
        _stop(server)
