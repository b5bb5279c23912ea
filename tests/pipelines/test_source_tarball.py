"""The source tarball the stack uploads: the same source gives the same bytes."""

from __future__ import annotations

import gzip
import os
import shutil
import tarfile

import pytest

from workshop_artifacts.source_tarball import build_source_tarball, code_tarball


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "training_code"
    (root / "bank").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "bank" / "train.py").write_text("print('train')\n")
    (root / "bank" / "run.sh").write_text("#!/bin/sh\n")
    (root / "bank" / "run.sh").chmod(0o775)
    (root / "bank" / "__pycache__").mkdir()
    (root / "bank" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    (root / "bank" / "stale.pyc").write_bytes(b"\0")
    return root


def test_same_source_same_bytes_whatever_the_timestamps(source, tmp_path):
    first = build_source_tarball(source, tmp_path / "a" / "sourcedir.tar.gz").read_bytes()
    for path in source.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    copy = tmp_path / "elsewhere" / "training_code"
    shutil.copytree(source, copy)  # another checkout: other inodes, other mtimes
    assert build_source_tarball(source, tmp_path / "b.tar.gz").read_bytes() == first
    assert build_source_tarball(copy, tmp_path / "c.tar.gz").read_bytes() == first


def test_archive_holds_the_folder_sorted_without_caches(source, tmp_path):
    tarball = build_source_tarball(source, tmp_path / "sourcedir.tar.gz")
    with gzip.open(tarball) as gz:
        assert gz.read(1)  # a valid gzip stream
    with open(tarball, "rb") as raw:
        header = raw.read(10)
    assert header[4:8] == b"\0\0\0\0"  # gzip mtime 0
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert names == [
        "training_code",
        "training_code/__init__.py",
        "training_code/bank",
        "training_code/bank/run.sh",
        "training_code/bank/train.py",
    ]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    modes = {m.name: m.mode for m in members}
    assert modes["training_code/bank/run.sh"] == 0o755
    assert modes["training_code/bank/train.py"] == 0o644


def test_a_missing_source_folder_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="is not a folder"):
        build_source_tarball(tmp_path / "nope", tmp_path / "out.tar.gz")


def test_the_cached_tarball_is_the_built_one_and_is_reused(source, tmp_path):
    cache_root = tmp_path / "cache"
    cached = code_tarball(source, cache_root)
    assert cached.read_bytes() == build_source_tarball(source, tmp_path / "x.tar.gz").read_bytes()
    assert code_tarball(source, cache_root) == cached
    (source / "bank" / "run.sh").chmod(0o644)  # a mode the archive records: a new entry
    assert code_tarball(source, cache_root) != cached
