"""Model-quality reports in the JSON shape SageMaker Model Monitor / Clarify write.

Every metric is ``{"value": v, "standard_deviation": s}``, the standard deviation coming from a
seeded bootstrap of the evaluation set (as Model Monitor does), so the same seed gives the same
file. SageMaker Pipelines attaches this file to a model package as ModelQuality statistics.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn import metrics

REPORT_VERSION = 0.0


def _metric(fn: Callable, y: np.ndarray, p: np.ndarray, rng: np.random.Generator, n_boot: int):
    value = float(fn(y, p))
    samples = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        try:
            samples.append(float(fn(y[idx], p[idx])))
        except ValueError:  # a resample with one class only has no AUC; skip it
            continue
    std = float(np.std(samples)) if samples else 0.0
    return {"value": value, "standard_deviation": std}


def rmsle(y: np.ndarray, p: np.ndarray) -> float:
    """Root mean squared log error (Kaggle's bike-sharing metric); negatives count as zero."""
    return float(np.sqrt(np.mean((np.log1p(y) - np.log1p(np.clip(p, 0, None))) ** 2)))


def regression_report(y_true, y_pred, seed: int = 0, n_boot: int = 100) -> dict:
    """``regression_metrics`` (mse, rmse, mae, r2 and rmsle) with bootstrap deviations."""
    y, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    rng = np.random.default_rng(seed)
    fns = {
        "mse": metrics.mean_squared_error,
        "rmse": metrics.root_mean_squared_error,
        "mae": metrics.mean_absolute_error,
        "r2": metrics.r2_score,
        "rmsle": rmsle,
    }
    return {
        "version": REPORT_VERSION,
        "dataset": {"item_count": len(y)},
        "regression_metrics": {name: _metric(fn, y, p, rng, n_boot) for name, fn in fns.items()},
    }


def binary_classification_report(
    y_true, probability, threshold: float = 0.5, seed: int = 0, n_boot: int = 100
) -> dict:
    """``binary_classification_metrics`` with curves, confusion matrix and bootstrap deviations.

    Labels are 0/1; predicted label = probability >= threshold. ``pr_auc`` (average precision)
    is our addition to SageMaker's key set.
    """
    y = np.asarray(y_true, dtype=int)
    prob = np.asarray(probability, dtype=float)
    rng = np.random.default_rng(seed)

    def at_threshold(fn):
        return lambda t, s: fn(t, (s >= threshold).astype(int), zero_division=0)

    def rate(actual: int, predicted: int):
        def fn(t, s):
            pred = (s >= threshold).astype(int)
            total = np.sum(t == actual)
            return np.sum((t == actual) & (pred == predicted)) / total if total else 0.0

        return fn

    fns = {
        "recall": at_threshold(metrics.recall_score),
        "precision": at_threshold(metrics.precision_score),
        "accuracy": lambda t, s: metrics.accuracy_score(t, (s >= threshold).astype(int)),
        "true_positive_rate": rate(1, 1),
        "true_negative_rate": rate(0, 0),
        "false_positive_rate": rate(0, 1),
        "false_negative_rate": rate(1, 0),
        "auc": metrics.roc_auc_score,
        "pr_auc": metrics.average_precision_score,
        "f0_5": lambda t, s: metrics.fbeta_score(
            t, (s >= threshold).astype(int), beta=0.5, zero_division=0
        ),
        "f1": at_threshold(metrics.f1_score),
        "f2": lambda t, s: metrics.fbeta_score(
            t, (s >= threshold).astype(int), beta=2, zero_division=0
        ),
    }
    report = {name: _metric(fn, y, prob, rng, n_boot) for name, fn in fns.items()}

    # The best constant classifier predicts the majority class (for accuracy) or always the
    # positive class (for recall/precision/F), as Model Monitor defines it.
    positive_share = float(y.mean())
    always_yes = np.ones_like(y)
    report["recall_best_constant_classifier"] = {"value": 1.0, "standard_deviation": 0.0}
    report["precision_best_constant_classifier"] = {
        "value": positive_share,
        "standard_deviation": 0.0,
    }
    report["accuracy_best_constant_classifier"] = {
        "value": max(positive_share, 1 - positive_share),
        "standard_deviation": 0.0,
    }
    for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
        report[f"{name}_best_constant_classifier"] = {
            "value": float(metrics.fbeta_score(y, always_yes, beta=beta, zero_division=0)),
            "standard_deviation": 0.0,
        }

    matrix = metrics.confusion_matrix(y, (prob >= threshold).astype(int), labels=[0, 1])
    # Model Monitor keys the matrix actual label -> predicted label -> count.
    report["confusion_matrix"] = {
        str(a): {str(p): int(matrix[a, p]) for p in (0, 1)} for a in (0, 1)
    }
    fpr, tpr, _ = metrics.roc_curve(y, prob)
    precision, recall, _ = metrics.precision_recall_curve(y, prob)
    report["receiver_operating_characteristic_curve"] = {
        "false_positive_rates": _thin(fpr),
        "true_positive_rates": _thin(tpr),
    }
    report["precision_recall_curve"] = {"precisions": _thin(precision), "recalls": _thin(recall)}
    return {
        "version": REPORT_VERSION,
        "dataset": {"item_count": len(y), "threshold": threshold},
        "binary_classification_metrics": report,
    }


def _thin(values: np.ndarray, points: int = 101) -> list[float]:
    """At most ``points`` evenly spaced values, so the report stays small but plottable."""
    idx = np.unique(np.linspace(0, len(values) - 1, min(points, len(values))).astype(int))
    return [round(float(v), 6) for v in values[idx]]


def write_report(report: dict, path: Path) -> Path:
    """Write the report as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
