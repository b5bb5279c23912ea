"""``train``: fit a DecisionTreeClassifier on the ``training`` channel, per SageMaker's contract.

Reads every ``*.csv`` in ``<root>/input/data/training/`` (label in the first column, numeric
features after it; an optional header row is detected and skipped), hyperparameters from
``<root>/input/config/hyperparameters.json``, and writes the model to ``<root>/model`` in the
format of :mod:`byom.model_format`. On any error it writes the reason to
``<root>/output/failure`` (SageMaker shows it as the job's FailureReason) and exits 1.

Before writing, it checks that the server's tree walk predicts exactly what scikit-learn
predicts on the training rows, so a served model can never disagree with the fitted one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from byom import __version__
from byom.hyperparameters import HyperparameterError, parse_hyperparameters
from byom.model_format import ModelFormatError, TreeArrays, load_model, save_model
from byom.paths import SageMakerPaths, resolve_root
from byom.tree_predictor import TreePredictor

CHANNEL = "training"
# SageMaker keeps the first 1 KB of the failure file as FailureReason.
_FAILURE_REASON_LIMIT = 1024


class TrainingError(Exception):
    """A problem with the job's inputs, reported as-is in the failure file."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="train", description=__doc__.splitlines()[0])
    parser.add_argument("--opt-ml", help="the /opt/ml root (default: $SM_ROOT or /opt/ml)")
    args = parser.parse_args(argv)
    paths = SageMakerPaths(resolve_root(args.opt_ml))
    try:
        manifest = train(paths)
    except (TrainingError, HyperparameterError, ModelFormatError) as error:
        return _fail(paths, str(error))
    except Exception as error:  # anything else: still tell SageMaker why, then fail
        traceback.print_exc()
        return _fail(paths, f"{type(error).__name__}: {error}")
    # SageMaker metric definitions can scrape this line (regex: train_accuracy=([0-9.]+)).
    print(f"train_accuracy={manifest['training']['train_accuracy']:.6f}")
    print(f"model written to {paths.model_dir} ({manifest['node_count']} nodes)")
    return 0


def train(paths: SageMakerPaths) -> dict:
    """Fit, self-check and save the model; return its manifest."""
    started = time.perf_counter()
    hyperparameters = parse_hyperparameters(_read_hyperparameters(paths.hyperparameters_file))
    files = _training_files(paths.channel_dir(CHANNEL))
    labels, features = _read_training_data(files)
    # Imported only now: bad inputs fail fast, without paying for scikit-learn's import.
    from sklearn import __version__ as sklearn_version
    from sklearn.tree import DecisionTreeClassifier

    print(
        f"training on {features.shape[0]} rows x {features.shape[1]} features from "
        f"{len(files)} file(s); hyperparameters {json.dumps(hyperparameters)}"
    )
    try:
        model = DecisionTreeClassifier(**hyperparameters).fit(features, labels)
    except ValueError as error:  # sklearn's InvalidParameterError is a ValueError
        raise TrainingError(f"cannot fit: {error}") from None
    tree = _export_tree(model)
    classes = [str(label) for label in model.classes_]
    metadata = {
        "sklearn_version": sklearn_version,
        "producer": f"byom train {__version__}",
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "hyperparameters": hyperparameters,
        "training": {
            "rows": int(features.shape[0]),
            "files": [file.name for file in files],
            "train_accuracy": float(model.score(features, labels)),
            "seconds": round(time.perf_counter() - started, 3),
        },
    }
    manifest = save_model(paths.model_dir, tree, classes, features.shape[1], metadata)
    _check_served_predictions_match(paths.model_dir, model, features)
    return manifest


def _read_hyperparameters(path: Path) -> dict:
    if not path.exists():
        return {}  # SageMaker always writes the file; local runs may not
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise TrainingError(f"cannot read {path}: {error}") from None


def _training_files(channel_dir: Path) -> list[Path]:
    if not channel_dir.is_dir():
        raise TrainingError(f"no '{CHANNEL}' channel: {channel_dir} does not exist")
    files = sorted(p for p in channel_dir.rglob("*.csv") if p.is_file())
    if not files:
        present = sorted(p.name for p in channel_dir.iterdir())[:10]
        raise TrainingError(f"no .csv files in {channel_dir} (found: {present or 'nothing'})")
    return files


def _read_training_data(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    labels, features = [], []
    for file in files:
        file_labels, file_features = _read_csv(file)
        if features and file_features.shape[1] != features[0].shape[1]:
            raise TrainingError(
                f"{file.name} has {file_features.shape[1]} features; "
                f"earlier files have {features[0].shape[1]}"
            )
        labels.append(file_labels)
        features.append(file_features)
    return np.concatenate(labels), np.concatenate(features)


def _read_csv(file: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        cells = np.loadtxt(file, delimiter=",", dtype=str, ndmin=2, comments=None)
    except ValueError as error:
        raise TrainingError(f"{file.name}: malformed CSV: {error}") from None
    if cells.shape[0] == 0:
        raise TrainingError(f"{file.name} is empty")
    if cells.shape[1] < 2:
        raise TrainingError(f"{file.name}: need a label column and at least one feature")
    if cells.shape[0] > 1 and not _is_numeric(cells[0, 1:]) and _is_numeric(cells[1, 1:]):
        print(f"{file.name}: first row looks like a header; skipping it")
        cells = cells[1:]
    labels = np.char.strip(cells[:, 0])
    try:
        features = cells[:, 1:].astype(np.float64)
    except ValueError:
        row, column = _first_non_numeric(cells[:, 1:])
        raise TrainingError(
            f"{file.name}: row {row + 1}, column {column + 2} is not a number: "
            f"{str(cells[row, column + 1])!r}"
        ) from None
    if not np.isfinite(features).all():
        raise TrainingError(f"{file.name}: features must be finite (found NaN or infinity)")
    return labels, features


def _is_numeric(values: np.ndarray) -> bool:
    try:
        values.astype(np.float64)
    except ValueError:
        return False
    return True


def _first_non_numeric(cells: np.ndarray) -> tuple[int, int]:
    for row in range(cells.shape[0]):
        for column in range(cells.shape[1]):
            if not _is_numeric(cells[row : row + 1, column]):
                return row, column
    return 0, 0


def _export_tree(model) -> TreeArrays:
    tree = model.tree_
    # value[node, output, class]: one output here; argmax (first on ties) is what sklearn's
    # predict returns at that node.
    leaf_class = np.argmax(tree.value[:, 0, :], axis=1).astype(np.int64)
    return TreeArrays(
        children_left=tree.children_left.astype(np.int64),
        children_right=tree.children_right.astype(np.int64),
        feature=np.where(tree.children_left == -1, 0, tree.feature).astype(np.int64),
        threshold=np.where(tree.children_left == -1, 0.0, tree.threshold).astype(np.float64),
        leaf_class=leaf_class,
    )


def _check_served_predictions_match(model_dir: Path, model, features: np.ndarray) -> None:
    served = TreePredictor(load_model(model_dir))
    ours = np.asarray(served.predict_labels(features))
    theirs = model.predict(features).astype(str)
    mismatches = int(np.count_nonzero(ours != theirs))
    if mismatches:
        raise TrainingError(f"self-check failed: served model disagrees on {mismatches} rows")


def _fail(paths: SageMakerPaths, reason: str) -> int:
    print(f"training failed: {reason}", file=sys.stderr)
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(reason[:_FAILURE_REASON_LIMIT] + "\n")
    except OSError as error:
        print(f"(could not write {paths.failure_file}: {error})", file=sys.stderr)
    return 1
