"""Fixtures for the runtime tests: a venv per SageMaker runtime and a runner for its programs.

Each venv is built once per machine from its lock file (``workshop_artifacts/runtimes.py``,
cached in ``.cache/artifacts/runtime-venv/``); a machine without the image's Python minor
version skips the tests that need it, saying which interpreter is missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from workshop_artifacts import runtimes
from workshop_spec.datasets import BANK_FEATURE_SET

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"


def _venv_or_skip(name: str) -> Path:
    runtime = runtimes.lock(name)
    try:
        return runtimes.runtime_venv(runtime)
    except runtimes.RuntimeUnavailable as missing:
        pytest.skip(f"{runtime.name} (Python {runtime.python}) not reproducible here: {missing}")


@pytest.fixture(scope="session")
def sklearn_python() -> Path:
    """Python 3.10 with the scikit-learn 1.4-2 image's libraries."""
    return _venv_or_skip("sklearn-1.4-2")


@pytest.fixture(scope="session")
def xgboost_python() -> Path:
    """Python 3.9 with the built-in XGBoost 1.7-1 algorithm image's libraries."""
    return _venv_or_skip("xgboost-1.7-1")


@pytest.fixture(scope="session")
def bank_prepared(sklearn_python, tmp_path_factory) -> Path:
    """The whole bank file prepared in the scikit-learn image, with the features the serving
    endpoint and the bank pipeline use (workshop_spec.datasets.BANK_FEATURE_SET)."""
    out = tmp_path_factory.mktemp("bank") / "prepared"
    raw = DATA / "bank-marketing" / "bank-additional-full.csv"
    assert_ran(run_on(sklearn_python, "training_code.bank.prepare", "--opt-ml",
                      out.parent / "opt_ml", "--input", raw, "--output", out,
                      "--feature-set", BANK_FEATURE_SET))  # fmt: skip
    return out


def run_on(python: Path, target: str, *args, script: bool = False) -> subprocess.CompletedProcess:
    """Run a program as SageMaker does (``python -m module``, or a script-mode entry point's
    path) with a runtime's interpreter, from the repository root as the code tarball's root."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONPATH": str(REPO)}
    env.pop("SM_ROOT", None)
    env.pop("PYTHONHOME", None)
    command = [str(python), str(REPO / target)] if script else [str(python), "-m", target]
    return subprocess.run(
        [*command, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def assert_ran(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, (
        f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
