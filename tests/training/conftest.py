"""Shared fixtures: small slices of the vendored data and a runner for the job programs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"


def run_job(target: str, *args, script: bool = False) -> subprocess.CompletedProcess:
    """Run a program as SageMaker would: ``python -m module`` (or the plain script path)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = str(REPO)
    env.pop("SM_ROOT", None)
    command = [sys.executable, str(REPO / target)] if script else [sys.executable, "-m", target]
    return subprocess.run(
        [*command, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def stage_training(root: Path, hyperparameters: dict, channels: dict[str, Path]) -> Path:
    """An /opt/ml tree for a training job, as SageMaker lays it out."""
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    for name, source in channels.items():
        (root / "input" / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "input" / "data" / name).symlink_to(source, target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def bike_small(tmp_path_factory) -> Path:
    """Two months of hour.csv (about 1,400 rows): enough for every split, fast to train."""
    hours = pd.read_csv(DATA / "bike-sharing" / "hour.csv", dtype=str)
    path = tmp_path_factory.mktemp("raw") / "hour.csv"
    hours[hours["dteday"] < "2011-03-01"].to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def bike_prepared(bike_small, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bike") / "prepared"
    result = run_job("training_code.bike.prepare", "--opt-ml", out.parent / "opt_ml",
                     "--input", bike_small, "--output", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def bank_small(tmp_path_factory) -> Path:
    """Every 8th row of the bank file (about 5,100 rows), keeping the original layout."""
    lines = (DATA / "bank-marketing" / "bank-additional-full.csv").read_text().splitlines()
    path = tmp_path_factory.mktemp("raw") / "bank.csv"
    path.write_text("\n".join([lines[0], *lines[1::8]]) + "\n")
    return path


@pytest.fixture(scope="session")
def bank_prepared(bank_small, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bank") / "prepared"
    result = run_job("training_code.bank.prepare", "--opt-ml", out.parent / "opt_ml",
                     "--input", bank_small, "--output", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out
