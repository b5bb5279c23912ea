"""The SageMaker container contract, as the emulator's jobs run it: local processes.

Each job gets its own folder standing in for ``/opt/ml`` (``SM_ROOT``): inputs are copied in
from S3 through :class:`EmulatedS3` (an S3 API client acting as the job's role, so every read
and write is a call the emulator authorizes), the program runs as a subprocess, outputs are
copied back. Which program runs is decided by the job's image, as in SageMaker:

* the SageMaker scikit-learn and XGBoost images run what the definition says: a processing
  job's own entrypoint and arguments (``/opt/ml`` paths relocated), a script-mode training
  job's ``sagemaker_program`` from its ``sagemaker_submit_directory`` tarball;
* the built-in XGBoost algorithm (its image without a script) is played by the local trainer
  ``training_code.bank.train_xgboost``, and a tuning job by the local Bayesian tuner
  ``training_code.tuning.local_tuner`` over the definition's own ranges, objective and budget;
* the workshop's model image runs its ``train`` program (``python -m byom train``) or the
  processing entrypoint, with the image's ``/opt/program`` on the path.

Any other image is an error naming it. Jobs never reach the network: pip may only look at
what is installed (``PIP_NO_INDEX``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BYOM_DIR = REPO_ROOT / "training_code" / "byom_scikit"
OPT_ML = "/opt/ml"
FAILURE_REASON_BYTES = 1024  # what SageMaker keeps of a failure file
ROUND_LINE = re.compile(r"^\[\d+\]#011")  # built-in XGBoost's per-round lines: summarised
# What the built-in XGBoost publishes for a metric "<data>:<metric>" (validation:auc), read
# from its "[n]#011train-auc:0.9#011validation-auc:0.8" lines.
BUILTIN_XGBOOST_METRIC = r".*\[[0-9]+\].*#011{data}-{metric}:([-+]?[0-9]*\.?[0-9]+).*"
IMAGE_REPOSITORIES = {"sagemaker-scikit-learn": "sklearn", "sagemaker-xgboost": "xgboost"}
IMAGE_CODE_PATH = {"byom": BYOM_DIR}  # the model image's /opt/program

Log = Callable[[str], None]


class JobFailed(RuntimeError):
    """A job exited non-zero; the message is its failure reason, as SageMaker reports it."""


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key); anything else is a ValueError."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or ".." in Path(key).parts:
        raise ValueError(f"bad S3 URI: {uri!r}")
    return bucket, key


def _sharded(names: list[str], shard: tuple[int, int] | None) -> list[str]:
    """The i-th of n shares of ``names`` (sorted, dealt round-robin), or all of them."""
    if shard is None:
        return names
    index, count = shard
    return sorted(names)[index::count]


@dataclass(frozen=True)
class EmulatedS3:
    """The same through an S3 API client (boto3's), e.g. one acting as a job's role: every
    read and write is then a call the emulator authorizes as that role."""

    client: Any

    def objects(self, uri: str) -> list[tuple[str, str]]:
        """(key, path relative to the prefix) of every object under an S3Prefix URI.

        As SageMaker lays them out: below a prefix ending in ``/`` (or a whole "folder"
        name), each object keeps the rest of its key; an object whose key is the URI itself
        keeps its file name.
        """
        bucket, prefix = split_uri(uri)
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                rest = key[len(prefix) :]
                if key.endswith("/"):
                    continue  # a console "folder" marker, not data
                if not rest:
                    relative = key.rsplit("/", 1)[-1]
                elif prefix.endswith("/") or rest.startswith("/"):
                    relative = rest.lstrip("/")
                else:  # a prefix cutting a name ("data/tr" of "data/train.csv")
                    relative = key[len(prefix.rpartition("/")[0]) :].lstrip("/")
                found.append((key, relative))
        return found

    def download(self, uri: str, target: Path, shard: tuple[int, int] | None = None) -> Path:
        bucket, _ = split_uri(uri)
        objects = dict((relative, key) for key, relative in self.objects(uri))
        if not objects:
            raise JobFailed(f"no object under {uri}")
        target.mkdir(parents=True, exist_ok=True)
        for relative in _sharded(list(objects), shard):
            self._get(bucket, objects[relative], target / relative)
        return target

    def upload(self, source: Path, uri: str) -> None:
        bucket, key = split_uri(uri)
        if source.is_file():
            self._put(source, bucket, key)
            return
        prefix = key if not key or key.endswith("/") else key + "/"
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            self._put(path, bucket, prefix + path.relative_to(source).as_posix())

    def _put(self, path: Path, bucket: str, key: str) -> None:
        with path.open("rb") as body:  # one PutObject, never a multipart upload
            self.client.put_object(Bucket=bucket, Key=key, Body=body)

    def fetch(self, uri: str, target: Path) -> Path:
        bucket, key = split_uri(uri)
        return self._get(bucket, key, target)

    def _get(self, bucket: str, key: str, target: Path) -> Path:
        """One GetObject (no ranged, parallel transfer: one call per object to authorize)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        with target.open("wb") as out:
            shutil.copyfileobj(body, out)
        return target


def image_kind(image_uri: str, byom_image_uri: str | None) -> str:
    """``"sklearn"``, ``"xgboost"`` or ``"byom"``; any other image is an error naming it."""
    if byom_image_uri and image_uri == byom_image_uri:
        return "byom"
    repository = image_uri.split("/")[-1].split(":")[0].split("@")[0]
    if repository in IMAGE_REPOSITORIES:
        return IMAGE_REPOSITORIES[repository]
    raise JobFailed(
        f"image {image_uri} is neither a SageMaker scikit-learn/XGBoost image nor the "
        f"workshop's model image ({byom_image_uri or 'none given'}); no local program for it"
    )


def relocate(value: object, root: Path) -> object:
    """A string naming a path under /opt/ml, moved under ``root``; anything else unchanged."""
    if isinstance(value, str) and (value == OPT_ML or value.startswith(OPT_ML + "/")):
        return str(root) + value[len(OPT_ML) :]
    return value


def job_environment(root: Path, code_path: Path | None = None) -> dict[str, str]:
    """A job's environment: its root as SM_ROOT, this venv's Python first on PATH.

    ``code_path`` is what the image itself has on PYTHONPATH: the model image's
    ``/opt/program`` (here ``training_code/byom_scikit``), or this repository for the
    built-in algorithm's local stand-in. Script-mode and tarball jobs bring their own code.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_") and k != "PYTHONPATH"}
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(
        SM_ROOT=str(root),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        TMPDIR=str(root / "tmp"),
        MPLBACKEND="Agg",
        PIP_NO_INDEX="1",  # requirements must already be installed: no network
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    if code_path:
        env["PYTHONPATH"] = str(code_path)
    # On a busy 2-core machine OpenMP's spinning threads slow a fit down many times.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_process(
    command: list[str],
    env: dict,
    cwd: Path,
    root: Path,
    each_line: Log,
    started: Callable[[subprocess.Popen], None] | None = None,
) -> list[str]:
    """Run a job's program with stdout and stderr merged; ``each_line`` sees every line as it
    comes (the job's log), ``started`` the process (to stop it). Returns the lines; raises
    :class:`JobFailed` with the job's failure reason when it exits non-zero."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if started:
        started(process)
    lines: list[str] = []
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.rstrip("\n")
        lines.append(line)
        each_line(line)
    if process.wait() != 0:
        raise JobFailed(_failure_reason(root, lines, process.returncode))
    return lines


def _shown(part: str) -> str:
    return part if len(part) < 120 else part[:60] + " … " + part[-40:]


def _failure_reason(root: Path, lines: list[str], code: int) -> str:
    for name in ("failure", "message"):
        path = root / "output" / name
        if path.is_file() and path.read_text(encoding="utf-8", errors="replace").strip():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            return text[:FAILURE_REASON_BYTES]
    tail = "\n".join(lines[-10:])
    return f"exited with code {code}:\n{tail}"


# -- processing -------------------------------------------------------------------------------


def processing_command(root: Path, app: dict) -> list[str]:
    """The processing job's own entrypoint and arguments, ``/opt/ml`` paths moved to ``root``."""
    entrypoint = app.get("ContainerEntrypoint")
    if not entrypoint:
        raise JobFailed("a processing job without ContainerEntrypoint runs the image's own "
                        "entrypoint, which has no local equivalent")  # fmt: skip
    return [str(relocate(part, root)) for part in [*entrypoint, *app.get("ContainerArguments", [])]]


def stage_processing(
    root: Path, arguments: dict, s3: EmulatedS3, shard: tuple[int, int] = (0, 1)
) -> None:
    """Copy the S3 inputs to their local paths and make the output folders (``shard``: this
    instance's index and the instance count, for ``ShardedByS3Key`` inputs)."""
    for item in arguments.get("ProcessingInputs", []):
        if "S3Input" not in item:
            raise JobFailed(f"input {item.get('InputName')}: only S3 inputs run locally")
        s3_input = item["S3Input"]
        sharded = s3_input.get("S3DataDistributionType") == "ShardedByS3Key" and shard[1] > 1
        target = Path(relocate(s3_input["LocalPath"], root))
        s3.download(s3_input["S3Uri"], target, shard if sharded else None)
    for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
        Path(relocate(item["S3Output"]["LocalPath"], root)).mkdir(parents=True, exist_ok=True)


def upload_processing_outputs(root: Path, arguments: dict, s3: EmulatedS3) -> dict[str, str]:
    """Copy each output folder to its S3 URI; returns output name → URI."""
    uploaded = {}
    for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
        s3_output = item["S3Output"]
        s3.upload(Path(relocate(s3_output["LocalPath"], root)), s3_output["S3Uri"])
        uploaded[item["OutputName"]] = s3_output["S3Uri"]
    return uploaded


# -- training ---------------------------------------------------------------------------------


def stage_training(
    root: Path,
    arguments: dict,
    s3: EmulatedS3,
    host: str = "algo-1",
    hosts: tuple[str, ...] = ("algo-1",),
) -> dict[str, str]:
    """Write hyperparameters.json, inputdataconfig.json and resourceconfig.json and copy the
    channels in, as SageMaker prepares instance ``host`` of ``hosts``: a ``ShardedByS3Key``
    channel gets this host's share of the objects, any other channel all of them."""
    hyperparameters = {k: str(v) for k, v in arguments.get("HyperParameters", {}).items()}
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=2))
    resources = {"current_host": host, "hosts": list(hosts), "network_interface_name": "eth0"}
    (config / "resourceconfig.json").write_text(json.dumps(resources, indent=2))
    channels = {}
    for channel in arguments.get("InputDataConfig", []):
        name = channel["ChannelName"]
        source = channel["DataSource"]["S3DataSource"]
        distribution = source.get("S3DataDistributionType", "FullyReplicated")
        channels[name] = {
            "ContentType": channel.get("ContentType", "application/octet-stream"),
            "TrainingInputMode": channel.get("InputMode", "File"),
            "S3DistributionType": distribution,
        }
        sharded = distribution == "ShardedByS3Key" and len(hosts) > 1
        shard = (hosts.index(host), len(hosts)) if sharded else None
        s3.download(source["S3Uri"], root / "input" / "data" / name, shard)
    (config / "inputdataconfig.json").write_text(json.dumps(channels, indent=2))
    return hyperparameters


def training_command(
    root: Path, kind: str, hyperparameters: dict[str, str], s3: EmulatedS3
) -> tuple[list[str], Path, Path | None]:
    """The command a training image runs, its working folder and the code on its path."""
    python = sys.executable
    program = hyperparameters.get("sagemaker_program")
    if kind == "byom":  # the image's ENTRYPOINT, minus the privilege drop
        return [python, "-m", "byom", "train"], root, BYOM_DIR
    if program is None:
        if kind == "xgboost":  # the built-in algorithm: its local stand-in
            return [python, "-m", "training_code.bank.train_xgboost"], root, REPO_ROOT
        raise JobFailed(f"a {kind} training job needs sagemaker_program (script mode)")
    # Script mode: unpack sagemaker_submit_directory into /opt/ml/code, run the program with
    # the hyperparameters as --name value, as the framework containers do.
    program = json.loads(program)
    code = root / "code"
    submit = json.loads(hyperparameters["sagemaker_submit_directory"])
    with tarfile.open(s3.fetch(submit, root / "sourcedir.tar.gz"), "r:gz") as tar:
        tar.extractall(code, filter="data")
    arguments = [
        part for name, value in sorted(hyperparameters.items()) if not name.startswith("sagemaker_")
        for part in (f"--{name}", _unquoted(value))
    ]  # fmt: skip
    return [python, str(code / program), *arguments], code, None


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


def final_metrics(lines: list[str], definitions: list[dict]) -> dict[str, float]:
    """Each metric definition's last match in the job's output (what CloudWatch would hold)."""
    metrics = {}
    for definition in definitions:
        pattern = re.compile(definition["Regex"])
        values = [float(m.group(1)) for line in lines if (m := pattern.search(line))]
        if values:
            metrics[definition["Name"]] = values[-1]
    return metrics


def model_artifact_uri(s3_output_path: str, job_name: str) -> str:
    """Where SageMaker puts a training job's model: ``<S3OutputPath>/<job>/output/model.tar.gz``
    (DescribeTrainingJob's ModelArtifacts.S3ModelArtifacts)."""
    return f"{s3_output_path.rstrip('/')}/{job_name}/output/model.tar.gz"


# -- tuning -----------------------------------------------------------------------------------
