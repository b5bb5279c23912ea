"""``train``: SageMaker's training contract, the failure file, and the model format."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from byom.hyperparameters import parse_hyperparameters
from byom.model_format import ModelFormatError, load_model

from .conftest import run_train


def make_root(tmp_path, csv_text: str | None = None, name: str = "data.csv"):
    root = tmp_path / "opt_ml"
    channel = root / "input" / "data" / "training"
    channel.mkdir(parents=True)
    if csv_text is not None:
        (channel / name).write_text(csv_text)
    return root


def test_trained_model_has_a_versioned_manifest(trained_root):
    manifest = json.loads((trained_root / "model" / "manifest.json").read_text())
    assert manifest["format"] == "byom-sklearn-decision-tree"
    assert manifest["format_version"] == 1
    assert manifest["classes"] == ["setosa", "versicolor", "virginica"]
    assert manifest["n_features"] == 4
    assert manifest["hyperparameters"]["max_leaf_nodes"] == 5
    assert len(manifest["sha256"]) == 64
    assert manifest["sklearn_version"]
    assert not list((trained_root / "model").glob("*.pkl"))


def test_every_csv_in_the_channel_is_read_and_a_header_is_skipped(tmp_path):
    root = make_root(tmp_path, "species,a,b\nx,1,2\ny,5,6\n", "part-1.csv")
    (root / "input" / "data" / "training" / "part-2.csv").write_text("x,1.5,2\ny,5.5,6\n")
    done = run_train(root)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((root / "model" / "manifest.json").read_text())
    assert manifest["training"]["rows"] == 4
    assert manifest["training"]["files"] == ["part-1.csv", "part-2.csv"]


@pytest.mark.parametrize(
    ("csv_text", "hyperparameters", "reason"),
    [
        (None, {}, "no .csv files"),
        ("x,1,2\ny,abc,3\n", {}, "row 2, column 2 is not a number: 'abc'"),
        ("x,1,2\ny,3\n", {}, "malformed CSV"),
        ("x\ny\n", {}, "at least one feature"),
        ("x,1,2\ny,nan,3\n", {}, "finite"),
        ("x,1,2\ny,3,4\n", {"max_leaf_node": "5"}, "unknown hyperparameter 'max_leaf_node'"),
        ("x,1,2\ny,3,4\n", {"max_leaf_nodes": "five"}, "max_leaf_nodes='five'"),
        ("x,1,2\ny,3,4\n", {"max_leaf_nodes": "1"}, "max_leaf_nodes"),
        ("x,1,2\ny,3,4\n", {"criterion": "nonsense"}, "criterion"),
    ],
)
def test_failures_write_the_reason_and_exit_non_zero(tmp_path, csv_text, hyperparameters, reason):
    root = make_root(tmp_path, csv_text)
    done = run_train(root, hyperparameters)
    assert done.returncode != 0
    failure = (root / "output" / "failure").read_text()
    assert reason in failure
    assert not (root / "model" / "manifest.json").exists()


def test_missing_channel_is_a_failure(tmp_path):
    root = tmp_path / "empty"
    done = run_train(root)
    assert done.returncode == 1
    assert "no 'training' channel" in (root / "output" / "failure").read_text()


def test_sagemaker_passes_strings_and_bookkeeping_keys():
    parsed = parse_hyperparameters(
        {
            "max_leaf_nodes": "5",
            "max_depth": "None",
            "min_samples_split": "0.25",
            "min_samples_leaf": "2",
            "ccp_alpha": "0.01",
            "max_features": "sqrt",
            "_tuning_objective_metric": "validation:accuracy",
            "sagemaker_region": '"eu-west-1"',
        }
    )
    assert parsed == {
        "random_state": 0,
        "max_leaf_nodes": 5,
        "max_depth": None,
        "min_samples_split": 0.25,
        "min_samples_leaf": 2,
        "ccp_alpha": 0.01,
        "max_features": "sqrt",
    }


def test_tampered_artifact_is_refused(trained_root, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(trained_root / "model", model)
    artifact = model / "tree.npz"
    data = bytearray(artifact.read_bytes())
    data[-10] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="sha256"):
        load_model(model)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "unsupported format_version"),
        ({"format": "pickle"}, "unsupported model format"),
        ({"artifact": "../../etc/passwd"}, "plain file name"),
        ({"n_features": 0}, "n_features"),
        ({"classes": []}, "classes"),
    ],
)
def test_manifest_is_validated(trained_root, tmp_path, change, message):
    model = tmp_path / "model"
    shutil.copytree(trained_root / "model", model)
    manifest = json.loads((model / "manifest.json").read_text())
    (model / "manifest.json").write_text(json.dumps({**manifest, **change}))
    with pytest.raises(ModelFormatError, match=message):
        load_model(model)


def test_structurally_broken_tree_is_refused(trained_root, tmp_path):
    from byom.model_format import TreeArrays, save_model

    loaded = load_model(trained_root / "model")
    left = loaded.tree.children_left.copy()
    left[0] = 0  # a root that is its own child: a cycle
    others = ("children_right", "feature", "threshold", "leaf_class")
    broken = TreeArrays(left, *[getattr(loaded.tree, name) for name in others])
    with pytest.raises(ModelFormatError, match="point forward"):
        save_model(tmp_path / "m", broken, list(loaded.classes), 4, {})


def test_iris_predictions_match_sklearn_exactly(trained_root):
    from byom.iris_data import iris_rows
    from byom.tree_predictor import TreePredictor
    from sklearn.tree import DecisionTreeClassifier

    labels = np.array([species for species, _ in iris_rows()])
    features = np.array([values for _, values in iris_rows()])
    reference = DecisionTreeClassifier(max_leaf_nodes=5, random_state=0).fit(features, labels)
    predictor = TreePredictor(load_model(trained_root / "model"))
    assert predictor.predict_labels(features) == list(reference.predict(features))
