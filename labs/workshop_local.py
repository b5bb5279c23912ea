"""The local target's stand-ins for ``workshop.py`` (``WORKSHOP_TARGET=local``, set by ``make up``).

Attendees in AWS never load this file. On one machine, with no AWS account and no Docker, each
call of ``workshop.py`` is routed here and runs the project's own local equivalents:

* S3 → the workspace's folders: ``s3://<bucket>/<key>`` is ``<workspace>/<bucket>/<key>``, the
  buckets being ``raw`` and ``curated`` as the local target lays them out (the workspace is
  ``$WORKSHOP_LOCAL_ROOT``, default ``<repo>/.local``);
* Athena over the Glue tables → DuckDB views over the same files (``workshopctl.local.
  data_lake_step``, ``reviews_step``), the reviews lake built by the module-4 ETL on first use;
* SageMaker training and tuning jobs → the ``training_code`` programs as processes through the
  SageMaker contract (``workshop_artifacts.programs``; the local tuner for Bayesian tuning);
* endpoints → local HTTP servers per production variant (the built-in XGBoost stand-in, or the
  workshop container's own ``serve`` program) behind the weighted router that plays SageMaker's
  variant routing; batch transform → the same servers, fed the input line by line in batches;
* Comprehend → a TF-IDF + logistic-regression model trained on the lake's star ratings (there is
  no local Comprehend; the frame's ``attrs["model"]`` says which model answered).

What has no local equivalent says so instead of pretending: autoscaling is recorded and
described, not enforced, as one machine has no instances to add.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(os.environ.get("WORKSHOP_REPO") or Path(__file__).resolve().parents[1])
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import workshop  # noqa: E402  (the repository must be importable first)

from training_code.contract import unpack_model, write_model_tarball  # noqa: E402
from workshop_artifacts.programs import run_program  # noqa: E402
from workshopctl.local.ab_router import (  # noqa: E402
    INVOKED_VARIANT_HEADER,
    TARGET_VARIANT_HEADER,
    WeightedRouter,
)
from workshopctl.local.byom_step import (  # noqa: E402
    BYOM_DIR,
    _free_loopback_port,
    _stop,
    _wait_for_ping,
)
from workshopctl.local.workspace import Workspace  # noqa: E402
from workshopctl.local.xgboost_server import XGBoostServer  # noqa: E402

ROUTER_SEED = 1729  # seeded routing: a rehearsal's split is repeatable
ROUND_LINE = re.compile(r"^\[(\d+)\]#011(.*)$")  # the built-in XGBoost's per-round log line
TRANSFORM_BATCH_LINES = 1_000  # records per request of a local batch transform
REVIEWS_SCALE = float(os.environ.get("WORKSHOP_REVIEWS_SCALE") or 1.0)


def log(line: str) -> None:
    print(line, flush=True)


# -- the environment and the buckets -------------------------------------------------------------
@functools.cache
def workspace() -> Workspace:
    return Workspace(Path(os.environ.get("WORKSHOP_LOCAL_ROOT") or REPO / ".local").resolve())


def environment() -> workshop.Environment:
    """The same names as in AWS, from the project's config; buckets are workspace folders."""
    from workshop_spec.config import load_project_config

    config = load_project_config()
    return workshop.Environment(
        target="local",
        prefix=config.prefix,
        region="local",
        attendee=os.environ.get("WORKSHOP_ATTENDEE") or "local",
        raw_bucket="raw",
        curated_bucket="curated",
        athena_workgroup=config.athena_workgroup_name,
        glue_database=config.glue_database_name,
        execution_role_arn=None,
        tags=config.tags,
        endpoints={"ab": config.ab_endpoint_name, "byom": config.byom_endpoint_name},
        source=f"local target, workspace {workspace().root}",
    )


@functools.cache
def _landed_raw_data() -> Path:
    from workshopctl.local.data_lake_step import land_raw_data

    raw = workspace().bucket("raw")
    land_raw_data(raw)  # copies only what is missing: cheap after the first time
    return raw


def path(uri: str) -> Path:
    """The workspace file or folder standing in for ``s3://<bucket>/<key>``."""
    bucket, key = uri.removeprefix("s3://").partition("/")[::2]
    root = _landed_raw_data() if bucket == "raw" else workspace().bucket(bucket)
    return root / key


def uri_of(file: Path) -> str:
    relative = file.resolve().relative_to(workspace().root)
    return "s3://" + relative.as_posix()


def write_text(uri: str, text: str) -> None:
    target = path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def list_objects(uri: str) -> list[str]:
    """Files whose key starts with the URI's key, as S3 lists a prefix."""
    target = path(uri)
    if uri.endswith("/"):
        files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else []
    else:
        siblings = target.parent.rglob("*") if target.parent.is_dir() else []
        files = sorted(p for p in siblings if p.is_file() and str(p).startswith(str(target)))
    return [uri_of(p) for p in files]


def delete_objects(uris: Sequence[str]) -> None:
    for uri in uris:
        path(uri).unlink(missing_ok=True)


def state_file() -> Path:
    return workspace().bucket("work") / "labs" / "state.json"


def stage_job(root: Path, hyperparameters: Mapping[str, Any], channels: Mapping[str, str]) -> Path:
    """Lay out ``/opt/ml`` for one training job: config files, and each channel's objects."""
    if root.exists():
        shutil.rmtree(root)  # a rerun must not see the previous model or failure file
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(
        json.dumps({name: str(value) for name, value in hyperparameters.items()}, indent=2)
    )
    (config / "inputdataconfig.json").write_text(
        json.dumps({name: {"ContentType": "text/csv"} for name in channels}, indent=2)
    )
    for name, uri in channels.items():
        _copy_channel(uri, root / "input" / "data" / name)
    return root


def _copy_channel(uri: str, folder: Path) -> Path:
    """What File mode does: every object under the URI copied into the channel's folder."""
    source = path(uri)
    folder.mkdir(parents=True, exist_ok=True)
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    if not files:
        raise FileNotFoundError(f"no objects under {uri}")
    for file in files:
        relative = file.name if file == source else file.relative_to(source)
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, folder / relative)
    return folder


# -- Athena, Glue, Comprehend --------------------------------------------------------------------
def _uses_reviews(sql: str) -> bool:
    return "reviews_" in sql.lower()


def _reviews_lake() -> Path:
    """The curated reviews Parquet; built on first use by module 4's generator and Spark ETL."""
    from training_code.reviews import schema
    from workshopctl.local.reviews_step import ReviewsStep

    parquet = workspace().bucket("curated") / schema.CURATED_PREFIX
    if not any(parquet.glob("*/*.parquet")):
        log(f"local: building the reviews lake (generate at scale {REVIEWS_SCALE:g}, Spark ETL)")
        ReviewsStep(scale=REVIEWS_SCALE).run(workspace(), lambda line: None)
    return parquet


def _connection(sql: str):
    from workshopctl.local.data_lake_step import connect

    if _uses_reviews(sql):
        from workshopctl.local.reviews_step import connect_reviews

        _reviews_lake()
        return connect_reviews(_landed_raw_data(), workspace().bucket("curated"))
    return connect(_landed_raw_data())


def athena_query(sql: str) -> pd.DataFrame:
    """DuckDB plays Athena over the same files and table definitions."""
    return _connection(sql).execute(sql).df()


def tables() -> pd.DataFrame:
    from training_code.reviews import schema
    from workshop_spec.datasets import CSV_DATASETS

    rows = [
        {
            "table": d.table,
            "location": workshop.raw_uri(f"{d.raw_prefix}/"),
            "columns": len(d.columns),
            "partitioned by": "",
        }
        for d in CSV_DATASETS
    ]
    rows += [
        {
            "table": schema.RAW_TABLE,
            "location": workshop.raw_uri(f"{schema.RAW_PREFIX}/"),
            "columns": len(schema.RAW_COLUMNS),
            "partitioned by": "",
        },
        {
            "table": schema.CURATED_TABLE,
            "location": uri_of(workspace().bucket("curated") / schema.CURATED_PREFIX) + "/",
            "columns": len(schema.RAW_COLUMNS),
            "partitioned by": schema.PARTITION_COLUMN.name,
        },
    ]
    return pd.DataFrame(rows)


def named_queries() -> pd.DataFrame:
    from workshop_spec.datasets import NAMED_QUERIES

    rows = [{"name": q.name, "description": q.description, "sql": q.sql} for q in NAMED_QUERIES]
    return pd.DataFrame(rows).sort_values("name", ignore_index=True)


def comprehend_sentiment(texts: Sequence[str]) -> pd.DataFrame:
    """No Comprehend on one machine: a sentiment model trained here on the lake's own labels.

    Star ratings label the reviews (1-2 NEGATIVE, 3 NEUTRAL, 4-5 POSITIVE); the texts being
    scored are left out of its training data. It has no MIXED class (that score is NaN).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    lake = athena_query(
        "SELECT review_body, star_rating FROM reviews_parquet WHERE length(review_body) > 0"
    )
    lake = lake[~lake["review_body"].str.replace("<br />", "\n").str.strip().isin(set(texts))]
    labels = pd.cut(lake["star_rating"], [0, 2, 3, 5], labels=["NEGATIVE", "NEUTRAL", "POSITIVE"])
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegression(max_iter=1000, class_weight="balanced")
    model.fit(vectorizer.fit_transform(lake["review_body"]), labels.astype(str))
    scored = [i for i, text in enumerate(texts) if text]
    if not scored:
        raise ValueError("every text is empty: nothing to score")
    probabilities = model.predict_proba(vectorizer.transform([texts[i] for i in scored]))
    frame = pd.DataFrame({"text": list(texts)})
    for column, name in enumerate(model.classes_):
        frame.loc[scored, name.lower()] = probabilities[:, column]
    frame["mixed"] = float("nan")
    frame.loc[scored, "sentiment"] = model.classes_[probabilities.argmax(axis=1)]
    frame.loc[[i for i, t in enumerate(texts) if not t], "error"] = "empty text: nothing to score"
    frame.attrs["model"] = (
        f"local stand-in for Comprehend: TF-IDF + logistic regression trained on {len(lake):,} "
        "star-rated reviews of the lake (no MIXED class)"
    )
    columns = ["text", "sentiment", "positive", "negative", "neutral", "mixed"]
    return frame[columns + [c for c in frame.columns if c not in columns]]


# -- training and tuning -------------------------------------------------------------------------
def _final_metrics(lines: Sequence[str]) -> dict[str, float]:
    """The last round's values under SageMaker's metric names (``validation:auc``)."""
    rounds = [match for line in lines if (match := ROUND_LINE.match(line))]
    if not rounds:
        return {}
    metrics = {}
    for part in rounds[-1].group(2).split("#011"):
        name, _, value = part.partition(":")
        channel, _, metric = name.partition("-")
        metrics[f"{channel}:{metric}"] = float(value)
    return metrics


def _job_root(job_name: str) -> Path:
    return workspace().bucket("work") / "labs-jobs" / job_name


def train_xgboost(
    job_name: str,
    channels: Mapping[str, str],
    hyperparameters: Mapping[str, Any],
    output_uri: str,
    instance_count: int,
) -> workshop.TrainingJob:
    """The built-in XGBoost's local stand-in, through the training-job contract."""
    started = time.perf_counter()
    if instance_count > 1:
        log(
            f"{job_name}: one local process stands in for {instance_count} instances "
            "(it reads every shard of the train channel)"
        )
    root = stage_job(_job_root(job_name), hyperparameters, channels)
    lines = run_program("training_code.bank.train_xgboost", ["--opt-ml", root], log)
    tarball = path(f"{output_uri}{job_name}/output/model.tar.gz")
    write_model_tarball(root / "model", tarball)
    return workshop.TrainingJob(
        job_name,
        uri_of(tarball),
        _final_metrics(lines),
        instance_count,
        time.perf_counter() - started,
    )


def train_byom(
    job_name: str, train_uri: str, hyperparameters: Mapping[str, Any], output_uri: str
) -> workshop.TrainingJob:
    """The workshop container's own ``train`` program, as SageMaker runs it (without Docker)."""
    started = time.perf_counter()
    root = stage_job(_job_root(job_name), hyperparameters, {"training": train_uri})
    lines = run_program("byom", ["train", "--opt-ml", root], log, cwd=BYOM_DIR)
    tarball = path(f"{output_uri}{job_name}/output/model.tar.gz")
    write_model_tarball(root / "model", tarball)
    metrics = {
        name: float(value)
        for line in lines
        for name, value in re.findall(r"(train_accuracy)=([0-9.]+)", line)
    }
    return workshop.TrainingJob(
        job_name, uri_of(tarball), metrics, 1, time.perf_counter() - started
    )


def _tuning_folder(job_name: str) -> Path:
    return path(workshop.s3_uri(f"bank-marketing/tuning/{job_name}/"))


def tune(
    job_name: str,
    channels: Mapping[str, str],
    ranges: Mapping[str, Any],
    static_hyperparameters: Mapping[str, Any],
    objective_metric: str,
    objective_type: str,
    max_jobs: int,
) -> None:
    """The local tuner (optuna's TPE) over the same ranges, trials one after another."""
    grouped: dict[str, list] = {
        f"{k}ParameterRanges": [] for k in ("Continuous", "Integer", "Categorical")
    }
    for name, parameter_range in ranges.items():
        kind = type(parameter_range).__name__.removesuffix("Parameter")
        grouped[f"{kind}ParameterRanges"].append(parameter_range.as_tuning_range(name))
    channel, _, metric = objective_metric.partition(":")
    spec = {
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {
                "Type": objective_type,
                "MetricName": objective_metric,
            },
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": grouped,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {k: str(v) for k, v in static_hyperparameters.items()}
        },
        # The regex SageMaker's built-in XGBoost declares for this metric, over its log lines.
        "LocalTuner": {
            "Seed": ROUTER_SEED,
            "ObjectiveRegex": rf".*\[[0-9]+\].*#011{channel}-{metric}:([-+]?[0-9]*\.?[0-9]+).*",
        },
    }
    output = _tuning_folder(job_name)
    output.mkdir(parents=True, exist_ok=True)
    (output / "spec.json").write_text(json.dumps(spec, indent=2))
    root = _job_root(job_name)
    staged = {name: _copy_channel(uri, root / "channels" / name) for name, uri in channels.items()}
    log(
        f"{job_name}: {max_jobs} training jobs, one after another (MaxParallelTrainingJobs "
        "is honoured in AWS only)"
    )
    run_program(
        "training_code.tuning.local_tuner",
        [
            "--spec",
            output / "spec.json",
            "--train",
            staged["train"],
            "--validation",
            staged["validation"],
            "--output",
            output,
            "--work",
            root / "jobs",
            "--max-jobs",
            max_jobs,
            "--job-prefix",
            job_name,
        ],
        log,
    )


def tuning_results(job_name: str) -> pd.DataFrame:
    results = pd.read_csv(_tuning_folder(job_name) / "tuning_results.csv")
    for column in ("TrainingStartTime", "TrainingEndTime"):  # datetimes, as the SDK gives them
        results[column] = pd.to_datetime(results[column], format="ISO8601")
    return results


def best_training_job(job_name: str) -> dict[str, Any]:
    folder = _tuning_folder(job_name)
    best = json.loads((folder / "best.json").read_text())
    spec = json.loads((folder / "spec.json").read_text())
    ranges = spec["HyperParameterTuningJobConfig"]["ParameterRanges"].values()
    tuned = {r["Name"] for group in ranges for r in group}
    return {
        "name": best["best_training_job"],
        "objective": best["best_objective_value"],
        "hyperparameters": {k: v for k, v in best["best_hyperparameters"].items() if k in tuned},
        "model_data": uri_of(folder / "best" / "model.tar.gz"),
    }


# -- endpoints -----------------------------------------------------------------------------------
class _ByomServer:
    """The workshop container's ``serve`` program as a local process (one worker)."""

    def __init__(self, opt_ml: Path, multi_model: bool = False):
        self.port = _free_loopback_port()
        environment = {**os.environ, "SAGEMAKER_MULTI_MODEL": str(multi_model).lower()}
        command = [
            sys.executable,
            str(BYOM_DIR / "serve"),
            "--opt-ml",
            str(opt_ml),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        with open(opt_ml / "serve.log", "wb") as output:
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=environment
            )
        try:
            _wait_for_ping(self.port, self.process)
        except RuntimeError:
            _stop(self.process)
            raise

    def stop(self) -> None:
        _stop(self.process)


def _serve(kind: str, model_data: str, folder: Path):
    """One production variant's server: its port, and ``stop()``."""
    if kind == "xgboost":
        return XGBoostServer(path(model_data)).start()
    if kind != "byom":
        raise ValueError(f"kind {kind!r}: use 'xgboost' or 'byom'")
    if folder.exists():
        shutil.rmtree(folder)
    unpack_model(path(model_data), folder / "model")  # what SageMaker does into /opt/ml/model
    return _ByomServer(folder)


@dataclass
class LocalEndpoint:
    """An endpoint on this machine: its variants' servers, and the router in front of them."""

    name: str
    servers: dict[str, Any]
    router: WeightedRouter | None = None
    models_prefix: str | None = None  # multi-model endpoints: where the archives are
    scaling: dict[str, dict] = field(default_factory=dict)

    def stop(self) -> None:
        if self.router is not None:
            self.router.stop()
        for server in self.servers.values():
            server.stop()


ENDPOINTS: dict[str, LocalEndpoint] = {}


def _endpoint_folder(endpoint: str) -> Path:
    return workspace().bucket("work") / "labs-endpoints" / endpoint


def deploy(
    endpoint: str, kind: str, variants: Mapping[str, str], weights: Mapping[str, float]
) -> None:
    """A server per variant, started one by one; the router splits traffic by weight."""
    folder = _endpoint_folder(endpoint)
    servers: dict[str, Any] = {}
    try:
        for variant, model_data in variants.items():
            servers[variant] = _serve(kind, model_data, folder / variant)
            log(f"{endpoint}: {variant} serving {model_data} on :{servers[variant].port}")
        router = WeightedRouter({v: s.port for v, s in servers.items()}, weights, ROUTER_SEED)
    except Exception:
        for server in servers.values():
            server.stop()
        raise
    ENDPOINTS[endpoint] = LocalEndpoint(endpoint, servers, router.start())
    log(f"{endpoint}: in service, router on :{router.port}, weights {router.weights}")


def deploy_multi_model(endpoint: str, models: Mapping[str, str], prefix: str) -> None:
    """One ``serve`` process in multi-model mode; archives copied under the prefix."""
    for name, model_data in models.items():
        target = path(prefix + name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path(model_data), target)
    folder = _endpoint_folder(endpoint)
    folder.mkdir(parents=True, exist_ok=True)
    ENDPOINTS[endpoint] = LocalEndpoint(
        endpoint, {"AllTraffic": _ByomServer(folder, multi_model=True)}, models_prefix=prefix
    )
    log(f"{endpoint}: multi-model endpoint in service over {prefix}")


def _endpoint(endpoint: str) -> LocalEndpoint:
    if endpoint not in ENDPOINTS:
        raise KeyError(f"no local endpoint {endpoint!r} in this kernel; deploy it first")
    return ENDPOINTS[endpoint]


def _post(port: int, route: str, body: bytes, headers: Mapping[str, str]):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", route, body=body, headers=dict(headers))
        response = connection.getresponse()
        return response.status, response.read(), response.getheader(INVOKED_VARIANT_HEADER)
    finally:
        connection.close()


def invoke(
    endpoint: str,
    body: str,
    content_type: str,
    accept: str | None,
    target_variant: str | None,
    target_model: str | None,
) -> workshop.Answer:
    local = _endpoint(endpoint)
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    if local.models_prefix is not None:
        if not target_model:
            raise ValueError(f"{endpoint} is a multi-model endpoint: name a target_model")
        status, answer = _invoke_model(local, target_model, body.encode(), headers)
        variant = "AllTraffic"
    else:
        if target_variant:
            headers[TARGET_VARIANT_HEADER] = target_variant
        assert local.router is not None
        status, answer, variant = _post(local.router.port, "/invocations", body.encode(), headers)
    if status != 200:
        raise RuntimeError(f"{endpoint} answered {status}: {answer.decode(errors='replace')}")
    return workshop.Answer(answer.decode(), variant)


def _invoke_model(local: LocalEndpoint, name: str, body: bytes, headers: Mapping[str, str]):
    """As a multi-model endpoint does: load the archive on its first invocation, then invoke."""
    port = local.servers["AllTraffic"].port
    status, answer, _ = _post(port, f"/models/{name}/invoke", body, headers)
    if status == 404:
        unpacked = _endpoint_folder(local.name) / "models" / name.removesuffix(".tar.gz")
        if not unpacked.exists():
            unpack_model(path(f"{local.models_prefix}{name}"), unpacked)
        request = json.dumps({"model_name": name, "url": str(unpacked)}).encode()
        loaded, message, _ = _post(port, "/models", request, {"Content-Type": "application/json"})
        if loaded not in (200, 409):  # 409: another request loaded it first
            raise RuntimeError(f"loading {name} answered {loaded}: {message.decode()}")
        status, answer, _ = _post(port, f"/models/{name}/invoke", body, headers)
    return status, answer


def endpoint_weights(endpoint: str) -> dict[str, float]:
    router = _endpoint(endpoint).router
    return router.weights if router is not None else {"AllTraffic": 1.0}


def set_weights(endpoint: str, weights: Mapping[str, float]) -> None:
    router = _endpoint(endpoint).router
    if router is None:
        raise ValueError(f"{endpoint} has no production variants to weigh")
    router.set_weights({variant: float(weight) for variant, weight in weights.items()})


def enable_autoscaling(endpoint: str, variant: str, scaling: dict[str, Any]) -> dict[str, Any]:
    """Checked and recorded like Application Auto Scaling would; not enforced on one machine."""
    local = _endpoint(endpoint)
    if variant not in local.servers:
        raise ValueError(f"{endpoint} has no variant {variant!r}: {', '.join(local.servers)}")
    if not 1 <= scaling["MinCapacity"] <= scaling["MaxCapacity"]:
        raise ValueError("need 1 <= min_instances <= max_instances")
    if scaling["TargetValue"] <= 0:
        raise ValueError("invocations_per_instance must be positive")
    local.scaling[variant] = scaling
    return {**scaling, "enforced": "no: the local target has one machine and no autoscaler"}


def batch_transform(
    job_name: str, model_data: str, input_uri: str, output_uri: str, kind: str
) -> list[str]:
    """A transform job's work: every input line to a server in batches, one answer per line."""
    folder = _endpoint_folder(job_name)
    server = _serve(kind, model_data, folder / "model-server")
    written = []
    try:
        for source in list_objects(input_uri):
            lines = [line for line in path(source).read_text().splitlines() if line.strip()]
            answers: list[str] = []
            for start in range(0, len(lines), TRANSFORM_BATCH_LINES):
                body = "\n".join(lines[start : start + TRANSFORM_BATCH_LINES]).encode()
                status, answer, _ = _post(
                    server.port, "/invocations", body, {"Content-Type": "text/csv"}
                )
                if status != 200:
                    raise RuntimeError(f"{job_name}: {source} answered {status}: {answer!r}")
                answers += answer.decode().splitlines()
            relative = source.removeprefix(input_uri).lstrip("/") or source.rsplit("/", 1)[1]
            target = f"{output_uri.rstrip('/')}/{relative}.out"
            write_text(target, "\n".join(answers) + "\n")
            written.append(target)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    log(f"{job_name}: {len(written)} file(s) transformed into {output_uri}")
    return written


def delete_endpoint(endpoint: str) -> None:
    local = ENDPOINTS.pop(endpoint, None)
    if local is not None:
        local.stop()
    shutil.rmtree(_endpoint_folder(endpoint), ignore_errors=True)


@atexit.register
def _stop_every_endpoint() -> None:
    """A kernel that exits without the clean-up cell must not leave servers behind."""
    for endpoint in list(ENDPOINTS):
        with contextlib.suppress(Exception):
            delete_endpoint(endpoint)
