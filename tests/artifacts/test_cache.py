"""The one cache of what synth builds: keys follow the inputs, entries are built once and whole."""

from __future__ import annotations

import pytest

from workshop_artifacts import cache


@pytest.fixture
def inputs(tmp_path):
    root = tmp_path / "project"
    (root / "code" / "__pycache__").mkdir(parents=True)
    (root / "code" / "a.py").write_text("A = 1\n")
    (root / "code" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (root / "data.csv").write_text("x\n1\n")
    return root


def test_the_key_follows_bytes_paths_and_values_only(inputs):
    def key(**values):
        return cache.key(files=["code", "data.csv"], values=values, root=inputs)

    first = key(seed=1)
    assert key(seed=1) == first
    (inputs / "code" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\1")
    assert key(seed=1) == first, "__pycache__ is not an input"
    assert key(seed=2) != first
    (inputs / "data.csv").write_text("x\n2\n")
    assert key(seed=1) != first


def test_an_entry_is_built_once_then_reused(tmp_path):
    builds = []

    def build(out):
        builds.append(out)
        (out / "artifact.txt").write_text("built\n")

    folder = cache.entry("kind", "k1", build, tmp_path)
    assert folder == tmp_path / "kind" / "k1"
    assert (folder / "artifact.txt").read_text() == "built\n"
    assert cache.entry("kind", "k1", build, tmp_path) == folder
    assert len(builds) == 1, "the second call must reuse the entry"


def test_a_failed_build_leaves_no_entry_and_no_scratch(tmp_path):
    def build(out):
        (out / "half.txt").write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        cache.entry("kind", "k1", build, tmp_path)
    assert list((tmp_path / "kind").iterdir()) == []


def test_a_concurrent_build_of_the_same_key_keeps_the_first(tmp_path):
    def build(out):
        (out / "mine.txt").write_text("mine")
        # Another process finishes the same key while this build runs.
        (tmp_path / "kind" / "k1").mkdir()
        (tmp_path / "kind" / "k1" / "theirs.txt").write_text("theirs")

    folder = cache.entry("kind", "k1", build, tmp_path)
    assert [p.name for p in folder.iterdir()] == ["theirs.txt"]
    assert [p.name for p in (tmp_path / "kind").iterdir()] == ["k1"]
