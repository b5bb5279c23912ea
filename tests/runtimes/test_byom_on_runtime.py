"""The bring-your-own container's train and serve programs on the image's own runtime.

The image installs ``training_code/byom_scikit/requirements.txt`` on the base image's Python
(3.13); the other BYOM tests use the project's interpreter and libraries. Here the same
programs run in a venv made from that file with that Python, and the server answers over HTTP.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.byom.conftest import IRIS_SETOSA, IRIS_VIRGINICA, ServerProcess, run_train
from workshop_artifacts import runtimes
from workshop_spec import platforms

DOCKERFILE = runtimes.BYOM_LOCK.parent / "Dockerfile"


@pytest.fixture(scope="module")
def byom_python() -> Path:
    lock = runtimes.byom_lock()
    try:
        return runtimes.runtime_venv(lock)
    except runtimes.RuntimeUnavailable as missing:
        pytest.skip(f"the BYOM image's Python {lock.python} is not here: {missing}")


def test_the_lock_is_the_image_the_dockerfile_builds_from():
    lock = runtimes.byom_lock()
    entry = platforms.matrix()[lock.platform]
    assert lock.image == entry.identifier
    assert lock.python == entry.implies["python"]
    assert f"ARG PYTHON_IMAGE={entry.identifier}" in DOCKERFILE.read_text()


def test_train_and_serve_on_the_images_runtime(byom_python, tmp_path):
    from byom.iris_data import write_iris_csv

    root = tmp_path / "opt_ml"
    write_iris_csv(root / "input" / "data" / "training" / "iris.csv")
    trained = run_train(root, {"max_leaf_nodes": "5"}, python=str(byom_python))
    assert trained.returncode == 0, trained.stderr
    server = ServerProcess(root, tmp_path / "serve.log", python=str(byom_python))
    try:
        status, _, body = server.invoke(f"{IRIS_SETOSA}\n{IRIS_VIRGINICA}\n")
        assert status == 200, body
        assert body.decode().split() == ["setosa", "virginica"]
        assert server.invoke("not,a,number,row")[0] == 400  # and it keeps serving
        assert server.request("GET", "/ping")[0] == 200
    finally:
        assert server.stop() == 0
