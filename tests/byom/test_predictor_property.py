"""Property: the server's tree walk predicts what scikit-learn predicts, on any data."""

from __future__ import annotations

import numpy as np
from byom.model_format import load_model, save_model
from byom.train import _export_tree
from byom.tree_predictor import TreePredictor
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.tree import DecisionTreeClassifier


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(2, 300),
    columns=st.integers(1, 6),
    classes=st.integers(2, 5),
    max_depth=st.one_of(st.none(), st.integers(1, 12)),
    rounding=st.sampled_from([None, 0, 1, 3]),
)
def test_tree_walk_equals_sklearn_predict(
    tmp_path_factory, seed, rows, columns, classes, max_depth, rounding
):
    rng = np.random.default_rng(seed)
    features = rng.normal(scale=10.0 ** rng.integers(-3, 4), size=(rows, columns))
    if rounding is not None:  # ties on thresholds are where float32 handling matters
        features = np.round(features, rounding)
    labels = np.array([f"class-{i}" for i in rng.integers(0, classes, size=rows)])
    model = DecisionTreeClassifier(max_depth=max_depth, random_state=0).fit(features, labels)
    folder = tmp_path_factory.mktemp("model")
    classes_ = [str(c) for c in model.classes_]
    save_model(folder, _export_tree(model), classes_, columns, {})
    predictor = TreePredictor(load_model(folder))
    probe = np.concatenate([features, rng.normal(scale=features.std() + 1, size=(50, columns))])
    for batch in (probe, probe[:1], probe[:5]):  # the vectorised and the small-batch paths
        assert predictor.predict_labels(batch) == list(model.predict(batch))
