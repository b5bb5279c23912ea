"""The exercises' solutions (labs/solutions/) give the right answers, on data whose answer is
known; the one that builds SDK v3 objects runs in the labs' own kernel (Python 3.10, SDK v3)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from workshopctl.local.labs_step import LABS_DIR

if str(LABS_DIR) not in sys.path:
    sys.path.insert(0, str(LABS_DIR))

from solutions import module_5, module_6_2, module_7


def test_the_money_threshold_calls_exactly_the_clients_worth_a_call():
    # Scores equal to the chance of a yes: a call is worth it when 100 * p > 5, p > 0.05.
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 0.2, 20_000)
    y = rng.uniform(0, 1, scores.size) < scores

    best = module_5.best_threshold(y, scores, call_cost=5, deposit_value=100)

    assert best["threshold"] == pytest.approx(0.05, abs=0.01)
    assert best["profit"] > best["profit calling everyone"]
    assert best["calls"] == pytest.approx((scores >= best["threshold"]).sum())


def test_with_free_calls_the_threshold_earns_what_calling_everyone_earns():
    best = module_5.best_threshold([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.3], call_cost=0)
    assert best["profit"] == best["profit calling everyone"] == 200
    assert best["threshold"] <= 0.3  # it reaches both subscribers


def test_the_best_quarter_of_the_trials_gives_the_narrower_ranges():
    results = pd.DataFrame(
        {
            "TrainingJobStatus": ["Completed"] * 8 + ["Failed"],
            "FinalObjectiveValue": [0.70, 0.71, 0.72, 0.73, 0.74, 0.75, 0.78, 0.79, 0.99],
            "eta": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.2, 0.1, 0.0],
            "max_depth": [1, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    table = module_6_2.ranges_of_the_best(results, ["eta", "max_depth"])

    assert table.loc["eta", ["low", "high"]].tolist() == [0.1, 0.2]
    assert table.loc["max_depth", ["low", "high"]].tolist() == [7, 8]
    assert table.loc["eta", "best on the edge"]  # 0.1 is the lowest eta tried: widen


def test_the_bootstrap_tells_a_real_gap_from_chance():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    noise = rng.normal(0, 1, (2, y.size))
    weak, strong = y + 2.0 * noise[0], y + 0.5 * noise[1]

    real = module_7.bootstrap_auc_difference(y, weak, strong)
    same = module_7.bootstrap_auc_difference(y, weak, weak + 1e-9 * noise[1])

    assert real["difference"] > 0.1 and not real["includes 0"]
    assert abs(same["difference"]) < 1e-3 and same["includes 0"]


LOG_RANGES = """
import json, sys
sys.path.insert(0, sys.argv[1])
from solutions.module_6_1 import log_ranges
print(json.dumps({name: r.as_tuning_range(name) for name, r in log_ranges().items()}))
"""


def test_the_logarithmic_ranges_are_valid_sdk_v3_ranges_above_zero():
    from workshop_artifacts.runtimes import KERNEL_LOCK, RuntimeUnavailable, read_lock, runtime_venv

    try:
        python = runtime_venv(read_lock(KERNEL_LOCK))
    except RuntimeUnavailable as missing:
        pytest.skip(str(missing))
    ranges = json.loads(
        subprocess.run(
            [str(python), "-c", LOG_RANGES, str(LABS_DIR)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip

    for name in ("eta", "alpha"):
        assert ranges[name]["ScalingType"] == "Logarithmic"
        assert float(ranges[name]["MinValue"]) > 0
    assert (ranges["max_depth"]["MinValue"], ranges["max_depth"]["MaxValue"]) == ("3", "8")


def test_the_stability_index_flags_a_shifted_feature_and_passes_a_resampled_one():
    from solutions import module_8

    rng = np.random.default_rng(2)
    baseline = pd.DataFrame({"age": rng.normal(40, 10, 5000), "called": rng.integers(0, 2, 5000)})
    same = pd.DataFrame({"age": rng.normal(40, 10, 800), "called": rng.integers(0, 2, 800)})
    older = pd.DataFrame({"age": rng.normal(55, 10, 800), "called": np.ones(800, dtype=int)})

    assert module_8.population_stability_index(baseline["age"], baseline["age"]) == 0
    assert module_8.drift_report(baseline, same)["PSI"].max() < 0.1
    drifted = module_8.drift_report(baseline, older)
    assert drifted["drifted"].all() and drifted["PSI"].min() > 0.2
    assert drifted.index[0] in {"age", "called"}
