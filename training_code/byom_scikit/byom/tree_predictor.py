"""Predictions from a :class:`~byom.model_format.LoadedModel`, tuned at load time.

The server does not import scikit-learn: it walks the tree's arrays itself, reproducing
``DecisionTreeClassifier.predict`` exactly (``train`` checks this on the training data before
it writes the model, and the tests check it on random data):

* sklearn casts inputs to float32 and then compares ``x[feature] <= threshold`` with the
  float64 threshold; we do the same cast and the same comparison;
* the label at a leaf is the class with the largest weight, first on ties (``argmax``),
  which ``train`` stores per node as ``leaf_class``.

What load time pre-computes, so a request pays only for its rows:

* leaves point to themselves, so a batch walks exactly ``max_depth`` vectorised steps with
  no per-row branching or "still active" bookkeeping; each step is three gathers from flat
  tables (the row's value of the node's feature, the node's threshold, the chosen child from
  one ``[left, right]`` table indexed by ``2 * node + goes_right``);
* thresholds as float32: for a float32 ``x``, ``x <= t`` (t float64) holds exactly when
  ``x <= t32``, with ``t32`` the largest float32 not above ``t``, so the batch compares
  float32 with float32 and never widens the feature matrix;
* plain-Python copies of the arrays for small batches, where a few list look-ups beat
  numpy's per-call overhead (a 1-row request costs a few microseconds);
* every class's CSV line and JSON string, so rendering a response is a gather plus a join.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from byom.model_format import LoadedModel

# Below this many rows a Python walk is faster than numpy's vectorised steps (measured:
# a numpy step costs ~1-2 µs of call overhead whatever the batch size).
_SMALL_BATCH_ROWS = 8


class TreePredictor:
    """Turns a float64 feature matrix into class labels, rendered as CSV or JSON."""

    def __init__(self, model: LoadedModel) -> None:
        tree = model.tree
        self.n_features = model.n_features
        self.classes = model.classes
        self.max_depth = model.max_depth
        is_leaf = tree.children_left == -1
        node_ids = np.arange(tree.node_count)
        self._left = np.where(is_leaf, node_ids, tree.children_left)
        self._right = np.where(is_leaf, node_ids, tree.children_right)
        self._feature = np.where(is_leaf, 0, tree.feature)
        self._threshold = np.where(is_leaf, 0.0, tree.threshold)
        self._leaf_class = tree.leaf_class.copy()
        self._threshold32 = _float32_at_most(self._threshold)
        # children[2 * node] is the left child, children[2 * node + 1] the right one.
        self._children = np.stack((self._left, self._right), axis=1).ravel()
        self._py_left = tree.children_left.tolist()
        self._py_right = tree.children_right.tolist()
        self._py_feature = tree.feature.tolist()
        self._py_threshold = tree.threshold.tolist()
        self._py_leaf_class = tree.leaf_class.tolist()
        self._csv_lines = [_csv_line(label) for label in model.classes]
        self._csv_lines_array = np.array(self._csv_lines, dtype=object)
        self._json_strings = [json.dumps(label) for label in model.classes]
        self._json_strings_array = np.array(self._json_strings, dtype=object)

    @property
    def nbytes(self) -> int:
        """Rough memory held by this predictor (used for the multi-model memory budget)."""
        arrays = (self._left, self._right, self._feature, self._threshold, self._leaf_class)
        # Python lists: ~8 bytes per slot plus the boxed numbers they hold (~32 bytes).
        return sum(a.nbytes for a in arrays) + 5 * 40 * self._left.shape[0]

    def predict_indices(self, features: np.ndarray) -> np.ndarray | list[int]:
        """Class index per row of a finite float64 matrix with ``n_features`` columns."""
        as_float32 = features.astype(np.float32, copy=False)
        if as_float32.shape[0] <= _SMALL_BATCH_ROWS:
            return [self._walk(row) for row in as_float32.tolist()]
        n_rows = as_float32.shape[0]
        values = np.ascontiguousarray(as_float32).ravel()
        row_starts = np.arange(0, n_rows * self.n_features, self.n_features)
        node = np.zeros(n_rows, dtype=np.intp)
        for _ in range(self.max_depth):
            value = values.take(row_starts + self._feature.take(node))
            goes_right = value > self._threshold32.take(node)
            node = self._children.take(node * 2 + goes_right)
        return self._leaf_class.take(node)

    def predict_labels(self, features: np.ndarray) -> list[str]:
        return [self.classes[i] for i in self.predict_indices(features)]

    def render_csv(self, indices: np.ndarray | list[int]) -> bytes:
        """One label per line, as the 2020 sample answered."""
        if isinstance(indices, list):
            return "".join([self._csv_lines[i] for i in indices]).encode()
        return "".join(self._csv_lines_array[indices].tolist()).encode()

    def render_json(self, indices: np.ndarray | list[int]) -> bytes:
        """``{"predictions": [label, ...]}``."""
        if isinstance(indices, list):
            parts = [self._json_strings[i] for i in indices]
        else:
            parts = self._json_strings_array[indices].tolist()
        return ('{"predictions":[' + ",".join(parts) + "]}").encode()

    def _walk(self, row: list[float]) -> int:
        left, right = self._py_left, self._py_right
        feature, threshold = self._py_feature, self._py_threshold
        node = 0
        while left[node] != -1:
            node = left[node] if row[feature[node]] <= threshold[node] else right[node]
        return self._py_leaf_class[node]


def _float32_at_most(thresholds: np.ndarray) -> np.ndarray:
    """Per threshold, the largest float32 that is not above it (see the module docstring)."""
    rounded = thresholds.astype(np.float32)
    above = rounded.astype(np.float64) > thresholds
    rounded[above] = np.nextafter(rounded[above], np.float32(-np.inf))
    return rounded


def _csv_line(label: str) -> str:
    # Labels with commas, quotes or newlines get CSV quoting; plain ones stay as they are.
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([label])
    return buffer.getvalue()
