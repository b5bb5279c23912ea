"""The first model artifacts the endpoints serve, built from the vendored data at synth time.

An endpoint must answer right after `cdk deploy`, before any pipeline has run, so the serving
stack ships three `model.tar.gz` files as assets, trained here by the same SageMaker-contract
programs the local target and the pipelines run:

* ``champion``   — bank marketing, the workshop's XGBoost hyperparameters (variant A);
* ``challenger`` — bank marketing, the best of the local Bayesian tuning (variant B);
* ``byom``       — the bring-your-own container's decision tree on iris (Module 7).

The two XGBoost models are trained with the xgboost of the built-in algorithm that serves them
(1.7.4 in 1.7-1, pinned in ``workshop_artifacts/runtime_locks/xgboost-1.7-1.txt``), not the
project's own 3.x: that container reads model files of its own version and older, and a 3.x file
is not even refused, it is misread (3.x writes ``base_score`` as a vector, ``[4.48E-1]``, which
1.7 drops for its default 0.5, so every prediction shifts). The training programs run as
subprocesses of this project's interpreter with that xgboost first on ``PYTHONPATH``
(``runtimes.py`` installs it once from the package index, ~5 s); everything else, optuna and
numpy included, is the project's venv. ``tests/runtimes/`` loads the artifacts in a venv of the
serving image's own Python and libraries and predicts with them.

Training takes ~2 minutes once per machine (xgboost 1.7 defaults to a slower tree method
than 3.x): the artifacts are cached under ``.cache/artifacts/serving-models/`` (``cache.py``)
by a fingerprint of everything they are made from (programs, data, hyperparameters, tuning
spec, the serving xgboost's lock). The fingerprint, not the artifacts' bytes, is what the
templates carry as asset hash, so templates depend only on code and config even if another
machine's XGBoost writes other bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workshop_artifacts import cache
from workshop_artifacts.programs import (
    WORKSHOP_SPLIT_SEED,
    WORKSHOP_XGBOOST,
    Log,
    run_bank_prepare,
    run_program,
    train_and_pack,
)
from workshop_artifacts.runtimes import lock, package_overlay
from workshop_spec.config import PROJECT_ROOT
from workshop_spec.datasets import BANK_FEATURE_SET

KIND = "serving-models"  # the cache's folder: .cache/artifacts/serving-models/<key>/
FEATURE_SET = BANK_FEATURE_SET  # the bank pipeline's: its approved models become the challenger
BYOM_HYPERPARAMETERS = {"max_leaf_nodes": "8"}
SERVING_RUNTIME = "xgboost-1.7-1"  # the lock of the built-in algorithm behind the A/B endpoint
BANK_CSV = "data/bank-marketing/bank-additional-full.csv"
# Everything the artifacts are made from: a change to any of it rebuilds them.
INPUTS = (
    "training_code/contract.py",
    "training_code/datachecks.py",
    "training_code/bank",
    "training_code/tuning",
    "training_code/byom_scikit/byom",
    "training_code/byom_scikit/train",
    BANK_CSV,
    "workshop_artifacts/serving_models.py",
    # the xgboost version the models are written by
    f"workshop_artifacts/runtime_locks/{SERVING_RUNTIME}.txt",
)


@dataclass(frozen=True)
class ServingArtifacts:
    champion: Path
    challenger: Path
    byom: Path
    fingerprint: str  # sha256 of the inputs: the assets' hash in the templates

    def asset_hash(self, name: str) -> str:
        return hashlib.sha256(f"{self.fingerprint}:{name}".encode()).hexdigest()


def fingerprint() -> str:
    """sha256 over the hyperparameters and every input file's relative path and bytes."""
    return cache.key(files=INPUTS, values=[WORKSHOP_XGBOOST, BYOM_HYPERPARAMETERS, FEATURE_SET])


def build_serving_artifacts(
    cache_root: Path = cache.CACHE_ROOT, log: Log = lambda line: None
) -> ServingArtifacts:
    """The three artifacts, trained on first use and cached by the inputs' fingerprint."""
    key = fingerprint()
    folder = cache.entry(KIND, key, lambda out: _train_all(out, log), cache_root)
    return ServingArtifacts(
        champion=folder / "champion" / "model.tar.gz",
        challenger=folder / "challenger" / "model.tar.gz",
        byom=folder / "byom" / "model.tar.gz",
        fingerprint=key,
    )


def _train_all(out: Path, log: Log) -> None:
    with tempfile.TemporaryDirectory(prefix="serving-models-") as work:
        _train_into(Path(work), out, log)


def _train_into(work: Path, out: Path, log: Log) -> None:
    serving_xgboost = (package_overlay(lock(SERVING_RUNTIME), "xgboost"),)
    prepared = run_bank_prepare(
        PROJECT_ROOT / BANK_CSV, work / "prepared", work / "prepare", FEATURE_SET,
        WORKSHOP_SPLIT_SEED, log,
    )  # fmt: skip
    channels = {"train": prepared / "train", "validation": prepared / "validation"}
    log("serving artifacts: champion (the workshop's XGBoost hyperparameters)")
    train_and_pack(
        "training_code.bank.train_xgboost", work / "champion", WORKSHOP_XGBOOST, channels,
        out / "champion", log, python_path=serving_xgboost,
    )  # fmt: skip
    log("serving artifacts: challenger (best of the local Bayesian tuning)")
    tuning = work / "tuning"
    run_program(
        "training_code.tuning.local_tuner",
        ["--train", channels["train"], "--validation", channels["validation"],
         "--output", tuning, "--job-prefix", "serving-challenger"],
        log, python_path=serving_xgboost,
    )  # fmt: skip
    (out / "challenger").mkdir(parents=True)
    shutil.copyfile(tuning / "best" / "model.tar.gz", out / "challenger" / "model.tar.gz")
    log("serving artifacts: byom (Module 7's decision tree on iris)")
    _train_byom(work / "byom", out / "byom", log)


def _train_byom(root: Path, out: Path, log: Log) -> None:
    byom = PROJECT_ROOT / "training_code" / "byom_scikit"
    training = root / "input" / "data" / "training"
    training.mkdir(parents=True)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(BYOM_HYPERPARAMETERS))
    run_program("byom.iris_data", [training / "iris.csv"], log, cwd=byom)
    run_program("byom", ["train", "--opt-ml", root], log, cwd=byom)
    run_program("training_code.contract", ["pack-model", root / "model", out / "model.tar.gz"], log)
