"""The endpoints' first XGBoost models load and predict in the serving version's xgboost.

``workshop_artifacts/serving_models.py`` trains the A/B endpoint's champion and challenger at synth
time; the built-in XGBoost 1.7-1 container serves them and reads model files of xgboost 1.7 and
older only. These tests take the very ``model.tar.gz`` bytes the serving stack ships, load them
in the XGBoost 1.7-1 runtime venv the way the container does, predict on real prepared rows,
and check the predictions against the project's own (newer) xgboost reading the same file.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from workshop_artifacts.serving_models import build_serving_artifacts

PROBE = Path(__file__).with_name("serving_probe.py")
ROWS = 20


@pytest.fixture(scope="module")
def artifacts():
    """The serving stack's artifacts (trained on first use, then from the artifacts cache)."""
    return build_serving_artifacts()


def _model_file(tarball: Path, scratch: Path) -> Path:
    with tarfile.open(tarball) as tar:
        assert tar.getnames() == ["xgboost-model"]  # the file name the built-in looks for
        tar.extractall(scratch, filter="data")
    return scratch / "xgboost-model"


@pytest.mark.parametrize("variant", ["champion", "challenger"])
def test_serving_model_predicts_in_the_builtin_xgboost(
    xgboost_python, bank_prepared, artifacts, tmp_path, variant
):
    model_file = _model_file(getattr(artifacts, variant), tmp_path)
    rows = bank_prepared / "test" / "test.csv"
    probe = subprocess.run(
        [str(xgboost_python), str(PROBE), str(model_file), str(rows), str(ROWS)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    served = json.loads(probe.stdout)
    assert served["xgboost"].startswith("1.7.") and served["format"] == "xgboost"

    features = np.loadtxt(rows, delimiter=",", max_rows=ROWS, ndmin=2)[:, 1:]
    assert served["num_features"] == features.shape[1]
    booster = xgb.Booster()
    booster.load_model(bytearray(model_file.read_bytes()))  # newer versions read older files
    expected = booster.predict(xgb.DMatrix(features))
    np.testing.assert_allclose(served["predictions"], expected, rtol=1e-5, atol=1e-6)
    assert min(served["predictions"]) > 0.0 and max(served["predictions"]) < 1.0
