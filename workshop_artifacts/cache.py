"""The one cache of what synth builds: ``.cache/artifacts/<kind>/<key>/``, content-addressed.

A key is the sha256 of everything an artifact is made from: the bytes of its code and data files
(with their paths) and plain values such as versions, seeds and hyperparameters. A changed input
gives a new key and so a fresh entry; unchanged inputs find the entry the first build left, so a
second synth reuses it. The key, not the entry's bytes, is what the stacks give the CDK as a
custom asset hash where a build is not byte-reproducible (trained models).

An entry is built in a scratch folder beside it and renamed into place in one step, so a folder
at ``<kind>/<key>/`` is always complete: an interrupted build leaves only its scratch folder
(``.tmp-*``, removed on the way out), and of two concurrent builds of one key the first rename
wins and the second is discarded (same inputs, same artifact).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from workshop_spec.config import PROJECT_ROOT

CACHE_ROOT = PROJECT_ROOT / ".cache" / "artifacts"
_NOT_INPUTS = ("__pycache__",)  # what running the code leaves next to it


def input_files(paths: Iterable[Path | str], root: Path = PROJECT_ROOT) -> list[Path]:
    """Each path (relative to ``root`` unless absolute), a folder expanded to its files in sorted
    order; ``__pycache__`` folders are not inputs."""
    files: list[Path] = []
    for item in paths:
        path = root / item
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files += [f for f in found if not any(part in _NOT_INPUTS for part in f.parts)]
    return files


def key(*, files: Iterable[Path | str] = (), values: Any = None, root: Path = PROJECT_ROOT) -> str:
    """sha256 over ``values`` (as JSON) and each input file's path and bytes, in order.

    A file's path counts relative to ``root`` (so the key is the same in every checkout), its
    absolute path when it lies outside.
    """
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode())
    for file in input_files(files, root):
        label = file.relative_to(root).as_posix() if file.is_relative_to(root) else str(file)
        digest.update(label.encode())
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def entry(
    kind: str, key: str, build: Callable[[Path], None], cache_root: Path = CACHE_ROOT
) -> Path:
    """The folder ``<cache_root>/<kind>/<key>/``, made by ``build(folder)`` on first use.

    ``build`` gets an empty folder and fills it; work files that are not part of the artifact
    belong in a temporary folder of the builder's own.
    """
    folder = cache_root / kind / key
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".tmp-") as scratch:
        staging = Path(scratch) / key
        staging.mkdir()
        build(staging)
        try:
            staging.rename(folder)
        except OSError:
            if not folder.is_dir():
                raise
            # Another process built the same key first: same inputs, so its entry serves.
    return folder
