"""The ``training_code`` programs, run on this machine through their SageMaker contract.

``run_program`` starts ``python -m <program>`` as a subprocess (from the repo root, with the
repo on ``PYTHONPATH``), streams its output and raises on a failure; ``train_and_pack`` lays out
an ``/opt/ml`` tree for one training job, runs it and packs ``model.tar.gz`` as SageMaker
would. Nothing here imports ``training_code``: the programs are seen only as SageMaker sees
them. Two callers: what synth builds (``serving_models``) and the local target's steps.

Jobs run with ``OMP_NUM_THREADS=1`` unless the caller sets it: on a busy 2-core machine
OpenMP's spinning threads made one gradient-boosting fit 20x slower (79 s instead of 3.4 s).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT

Log = Callable[[str], None]
ROUND_LINE = re.compile(r"^\[\d+\]#011")  # per-round XGBoost lines: too many to show all

WORKSHOP_SPLIT_SEED = 1729  # the original notebook's shuffle seed
# The workshop's XGBoost hyperparameters (module 5), spelled out as SageMaker passes them.
WORKSHOP_XGBOOST = {
    "objective": "binary:logistic", "eval_metric": "auc", "num_round": "100", "max_depth": "5",
    "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
}  # fmt: skip


def run_program(
    module: str,
    args: list[object],
    log: Log,
    *,
    cwd: Path = PROJECT_ROOT,
    python_path: tuple[Path, ...] = (),
) -> list[str]:
    """Run ``python -m module args`` (from the repo root unless ``cwd`` says otherwise, e.g. the
    BYOM container's folder); stream output; raise on failure. ``python_path`` goes first on
    ``PYTHONPATH``, e.g. a package overlay that replaces the venv's xgboost for this run."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [*map(str, python_path), str(PROJECT_ROOT), env.get("PYTHONPATH")])
    )
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    command = [sys.executable, "-m", module, *map(str, args)]
    log(f"$ python -m {module} {' '.join(map(str, args))}")
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.rstrip("\n")
        lines.append(line)
        if not ROUND_LINE.match(line):
            log(f"  {line}")
    if process.wait() != 0:
        rounds = [line for line in lines if ROUND_LINE.match(line)]
        tail = "\n".join((rounds[-1:] + lines)[-15:])
        raise RuntimeError(f"{module} failed with exit code {process.returncode}:\n{tail}")
    rounds = [line for line in lines if ROUND_LINE.match(line)]
    if rounds:
        log(f"  {rounds[-1]}  (last of {len(rounds)} rounds)")
    return lines


def stage_training_job(root: Path, hyperparameters: dict[str, str], channels: dict[str, Path]):
    """Lay out ``/opt/ml`` for one training job: config files and channel folders."""
    if root.exists():
        shutil.rmtree(root)  # a rerun must not see the previous model or failure file
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=2))
    (config / "inputdataconfig.json").write_text(
        json.dumps({name: {"ContentType": "text/csv"} for name in channels}, indent=2)
    )
    for name, source in channels.items():
        target = root / "input" / "data" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target)  # File mode copies the channel into the container
    return root


def train_and_pack(
    module: str,
    root: Path,
    hyperparameters: dict,
    channels: dict,
    model_key: Path,
    log: Log,
    *,
    python_path: tuple[Path, ...] = (),
) -> Path:
    """Run a training job, then pack its model dir as SageMaker would; returns the tarball."""
    stage_training_job(root, hyperparameters, channels)
    run_program(module, ["--opt-ml", root], log, python_path=python_path)
    tarball = model_key / "model.tar.gz"
    run_program("training_code.contract", ["pack-model", root / "model", tarball], log)
    return tarball


def run_bank_prepare(
    raw: Path, prepared: Path, opt_ml: Path, feature_set: str, split_seed: int, log: Log
) -> Path:
    """Run the bank prepare job on ``raw`` (the vendored CSV) into ``prepared``; returns it."""
    log(f"bank-marketing: prepare ({feature_set} features, 70/20/10 split, seed {split_seed})")
    run_program(
        "training_code.bank.prepare",
        ["--opt-ml", opt_ml, "--input", raw, "--output", prepared,
         "--feature-set", feature_set, "--seed", split_seed],
        log,
    )  # fmt: skip
    return prepared
