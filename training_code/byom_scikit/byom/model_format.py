"""The model artifact: a JSON manifest plus plain numeric arrays, never a pickle.

Why not pickle/joblib: unpickling runs arbitrary code from the artifact, and a pickle made by
one scikit-learn version may silently misbehave in another. A fitted decision tree is just a
handful of arrays, so we store exactly those and nothing executable.

Layout of a model folder (what ``/opt/ml/model`` holds, and what SageMaker tars up)::

    manifest.json   {"format": "byom-sklearn-decision-tree", "format_version": 1,
                     "artifact": "tree.npz", "sha256": <hex of tree.npz>,
                     "n_features": 4, "classes": ["setosa", ...], "node_count": N,
                     "max_depth": D, "sklearn_version": ..., "numpy_version": ...,
                     "hyperparameters": {...}, "training": {...}, "created_at": ...}
    tree.npz        arrays, one entry per tree node (sklearn's node ids):
                    children_left, children_right (int64; -1 marks a leaf),
                    feature (int64), threshold (float64), leaf_class (int64: the index
                    into ``classes`` that sklearn's ``predict`` returns at that node)

Loading checks, in order: the format name and version are supported; the artifact's sha256
matches the manifest (read once, hashed, then parsed from the same bytes); ``np.load`` runs
with ``allow_pickle=False``; every array has the expected dtype and length; every child index
points *forward* (sklearn builds depth-first, so a child id is always greater than its
parent's), which makes cycles impossible; feature indexes are in range; thresholds are finite.
A malformed or tampered artifact is refused with :class:`ModelFormatError`.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT_NAME = "byom-sklearn-decision-tree"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = frozenset({1})
MANIFEST_NAME = "manifest.json"
ARTIFACT_NAME = "tree.npz"
# A manifest is a few KB; refusing big ones keeps a hostile file from exhausting memory.
MAX_MANIFEST_BYTES = 1_000_000

_INT_ARRAYS = ("children_left", "children_right", "feature", "leaf_class")
_FLOAT_ARRAYS = ("threshold",)


class ModelFormatError(ValueError):
    """The model folder is missing, malformed, tampered with, or of an unsupported format."""


@dataclass(frozen=True)
class TreeArrays:
    """A fitted binary decision tree as plain arrays (see the module docstring)."""

    children_left: np.ndarray
    children_right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    leaf_class: np.ndarray

    @property
    def node_count(self) -> int:
        return int(self.children_left.shape[0])

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in (*_INT_ARRAYS, *_FLOAT_ARRAYS))


@dataclass(frozen=True)
class LoadedModel:
    """A validated model: its tree, its class labels and the manifest it came with."""

    tree: TreeArrays
    classes: tuple[str, ...]
    n_features: int
    max_depth: int
    manifest: dict


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(
    model_dir: Path,
    tree: TreeArrays,
    classes: list[str],
    n_features: int,
    metadata: dict,
) -> dict:
    """Write ``tree.npz`` and ``manifest.json`` into ``model_dir``; return the manifest."""
    max_depth = validate_tree(tree, n_features=n_features, n_classes=len(classes))
    buffer = io.BytesIO()
    np.savez(buffer, **{name: getattr(tree, name) for name in (*_INT_ARRAYS, *_FLOAT_ARRAYS)})
    artifact = buffer.getvalue()
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "artifact": ARTIFACT_NAME,
        "sha256": sha256_of(artifact),
        "n_features": n_features,
        "classes": list(classes),
        "node_count": tree.node_count,
        "max_depth": max_depth,
        "numpy_version": np.__version__,
        **metadata,
    }
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / ARTIFACT_NAME).write_bytes(artifact)
    # The manifest goes last: a folder with a manifest is a complete model.
    (model_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_model(model_dir: Path) -> LoadedModel:
    """Read and validate a model folder written by :func:`save_model`."""
    manifest = _read_manifest(Path(model_dir))
    artifact_path = Path(model_dir) / manifest["artifact"]
    try:
        artifact = artifact_path.read_bytes()
    except OSError as error:
        raise ModelFormatError(f"cannot read {artifact_path}: {error.strerror}") from None
    if sha256_of(artifact) != manifest["sha256"]:
        raise ModelFormatError(f"{artifact_path} does not match the sha256 in its manifest")
    tree = _parse_tree(artifact)
    n_features = manifest["n_features"]
    classes = tuple(manifest["classes"])
    max_depth = validate_tree(tree, n_features=n_features, n_classes=len(classes))
    return LoadedModel(tree, classes, n_features, max_depth, manifest)


def validate_tree(tree: TreeArrays, *, n_features: int, n_classes: int) -> int:
    """Check the tree is well formed and return its depth; raise ModelFormatError if not."""
    count = tree.node_count
    if count < 1:
        raise ModelFormatError("the tree has no nodes")
    for name in (*_INT_ARRAYS, *_FLOAT_ARRAYS):
        array = getattr(tree, name)
        if array.ndim != 1 or array.shape[0] != count:
            raise ModelFormatError(f"array {name} must be 1-D with {count} entries")
    left, right = tree.children_left, tree.children_right
    is_leaf = left == -1
    if not np.array_equal(is_leaf, right == -1):
        raise ModelFormatError("a node has exactly one child")
    node_ids = np.arange(count)
    internal = ~is_leaf
    if np.any(left[internal] <= node_ids[internal]) or np.any(
        right[internal] <= node_ids[internal]
    ):
        raise ModelFormatError("a child index does not point forward (possible cycle)")
    if np.any(left[internal] >= count) or np.any(right[internal] >= count):
        raise ModelFormatError("a child index is out of range")
    features = tree.feature[internal]
    if np.any(features < 0) or np.any(features >= n_features):
        raise ModelFormatError("a split uses a feature index out of range")
    if not np.all(np.isfinite(tree.threshold[internal])):
        raise ModelFormatError("a split threshold is not finite")
    if np.any(tree.leaf_class < 0) or np.any(tree.leaf_class >= n_classes):
        raise ModelFormatError("a leaf's class index is out of range")
    return _depth(left, right)


def _depth(left: np.ndarray, right: np.ndarray) -> int:
    # Children point forward, so one pass in id order settles every node's depth.
    depth = np.zeros(left.shape[0], dtype=np.int64)
    for node in range(left.shape[0]):
        if left[node] != -1:
            depth[left[node]] = depth[right[node]] = depth[node] + 1
    return int(depth.max())


def _read_manifest(model_dir: Path) -> dict:
    path = model_dir / MANIFEST_NAME
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ModelFormatError(f"{path} is larger than {MAX_MANIFEST_BYTES} bytes")
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelFormatError(f"no {MANIFEST_NAME} in {model_dir}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFormatError(f"cannot read {path}: {error}") from None
    if not isinstance(manifest, dict):
        raise ModelFormatError(f"{path} is not a JSON object")
    if manifest.get("format") != FORMAT_NAME:
        raise ModelFormatError(f"unsupported model format {manifest.get('format')!r}")
    if manifest.get("format_version") not in SUPPORTED_FORMAT_VERSIONS:
        raise ModelFormatError(
            f"unsupported format_version {manifest.get('format_version')!r}; "
            f"this server reads {sorted(SUPPORTED_FORMAT_VERSIONS)}"
        )
    artifact = manifest.get("artifact")
    if not isinstance(artifact, str) or Path(artifact).name != artifact or artifact in ("", "."):
        raise ModelFormatError("manifest 'artifact' must be a plain file name in the model folder")
    if not isinstance(manifest.get("sha256"), str):
        raise ModelFormatError("manifest has no sha256")
    n_features = manifest.get("n_features")
    if not isinstance(n_features, int) or isinstance(n_features, bool) or n_features < 1:
        raise ModelFormatError("manifest 'n_features' must be a positive integer")
    classes = manifest.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise ModelFormatError("manifest 'classes' must be a non-empty list of strings")
    return manifest


def _parse_tree(artifact: bytes) -> TreeArrays:
    try:
        with np.load(io.BytesIO(artifact), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in (*_INT_ARRAYS, *_FLOAT_ARRAYS)}
    except KeyError as error:
        raise ModelFormatError(f"the artifact lacks array {error}") from None
    except (ValueError, OSError) as error:
        raise ModelFormatError(f"the artifact is not a readable npz archive: {error}") from None
    for name in _INT_ARRAYS:
        if arrays[name].dtype != np.int64:
            raise ModelFormatError(f"array {name} must be int64, not {arrays[name].dtype}")
    for name in _FLOAT_ARRAYS:
        if arrays[name].dtype != np.float64:
            raise ModelFormatError(f"array {name} must be float64, not {arrays[name].dtype}")
    return TreeArrays(**arrays)
