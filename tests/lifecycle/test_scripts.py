"""The rendered lifecycle scripts, run for real on a stand-in notebook instance.

The sandbox (workshopctl.local.attendee_step) gives each test a temporary ec2-user home,
local bare repositories behind file:// URLs, and recording stand-ins for aws, dnf, crontab and
the kernel env's pip (and a yum that fails: Amazon Linux 2023 has none).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from notebook_lifecycle.render import AUTOSTOP, render_on_create, render_on_start
from workshopctl.local.attendee_step import (
    BLOCK_START,
    CRON_MARK,
    Sandbox,
    ScriptRun,
    repository_name,
    run_script,
)

FEW_SECONDS = 10


def on_create(sandbox: Sandbox, overrides: dict[str, str] | None = None, **values) -> ScriptRun:
    return run_script(sandbox, "on-create.sh", render_on_create(values), overrides)


def on_start(sandbox: Sandbox, **values: str) -> ScriptRun:
    return run_script(sandbox, "on-start.sh", render_on_start(values))


def wait_for(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def cron_entries(sandbox: Sandbox) -> list[str]:
    return [line for line in sandbox.crontab() if CRON_MARK in line]


# -- on-create -----------------------------------------------------------------------------


def test_repositories_are_cloned_once(sandbox: Sandbox, lab_repositories: list[str]) -> None:
    first = on_create(sandbox, LAB_REPOSITORIES=" ".join(lab_repositories))
    clones = [sandbox.notebook_dir / repository_name(url) for url in lab_repositories]
    for clone in clones:
        assert (clone / "README.md").is_file(), first.output
        (clone / "attendee-notes.txt").write_text("my work")  # a second clone would lose it

    second = on_create(sandbox, LAB_REPOSITORIES=" ".join(lab_repositories))
    for clone in clones:
        assert f"{clone.name}: already present" in second.output
        assert (clone / "attendee-notes.txt").read_text() == "my work"
    assert sorted(path.name for path in sandbox.notebook_dir.iterdir()) == sorted(
        [".workshop", *(clone.name for clone in clones)]
    )  # no .partial folder left behind
    assert first.seconds < FEW_SECONDS and second.seconds < FEW_SECONDS


def test_a_failed_clone_is_logged_and_not_fatal(
    sandbox: Sandbox, lab_repositories: list[str], tmp_path: Path
) -> None:
    missing = (tmp_path / "nowhere.git").as_uri()
    run = on_create(sandbox, LAB_REPOSITORIES=f"{missing} {lab_repositories[0]}")
    assert "nowhere: clone of" in run.output and "failed" in run.output
    assert not (sandbox.notebook_dir / "nowhere").exists()
    assert not (sandbox.notebook_dir / ".nowhere.partial").exists()
    assert (sandbox.notebook_dir / repository_name(lab_repositories[0]) / ".git").is_dir()


def test_a_slow_clone_finishes_in_the_background(
    sandbox: Sandbox, lab_repositories: list[str]
) -> None:
    """The script returns after CLONE_WAIT_SECONDS; the clone completes afterwards."""
    slow_git = sandbox.root / "bin" / "git"
    slow_git.write_text(f'#!/bin/bash\nsleep 2\nexec {shutil.which("git")} "$@"\n')
    slow_git.chmod(0o755)
    run = on_create(sandbox, {"CLONE_WAIT_SECONDS": "1"}, LAB_REPOSITORIES=lab_repositories[0])
    assert run.seconds < 2
    assert "still running in the background" in run.output
    clone = sandbox.notebook_dir / repository_name(lab_repositories[0])
    assert wait_for(lambda: (clone / "README.md").is_file())


def test_no_repositories_clones_nothing(sandbox: Sandbox) -> None:
    on_create(sandbox, LAB_REPOSITORIES="")
    assert [path.name for path in sandbox.notebook_dir.iterdir()] == [".workshop"]


def _labs_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "labs.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("module_2/bike_sharing.ipynb", '{"cells": []}')
    return archive


def test_labs_are_unpacked_once_and_edits_survive(sandbox: Sandbox, tmp_path: Path) -> None:
    uri = "s3://workshop-curated/labs/labs.zip"
    sandbox.put_s3_object(uri, _labs_archive(tmp_path))
    on_create(sandbox, LAB_REPOSITORIES="", LABS_S3_URI=uri)
    notebook = sandbox.notebook_dir / "labs" / "module_2" / "bike_sharing.ipynb"
    assert json.loads(notebook.read_text()) == {"cells": []}

    notebook.write_text('{"cells": ["my answer"]}')
    second = on_create(sandbox, LAB_REPOSITORIES="", LABS_S3_URI=uri)
    assert "labs: already present" in second.output
    assert "my answer" in notebook.read_text()
    [copy] = sandbox.calls("aws")
    assert copy["args"][:2] == ["s3", "cp"] and uri in copy["args"]
    assert copy["region"] == "eu-west-1"  # from the instance's ARN


def test_a_missing_labs_archive_is_not_fatal(sandbox: Sandbox) -> None:
    run = on_create(sandbox, LAB_REPOSITORIES="", LABS_S3_URI="s3://workshop-curated/none.zip")
    assert "labs: copy of s3://workshop-curated/none.zip failed" in run.output
    assert not (sandbox.notebook_dir / "labs").exists()
    assert not (sandbox.notebook_dir / "labs.partial").exists()


# -- on-start ------------------------------------------------------------------------------


def test_on_start_twice_sets_everything_up_once(sandbox: Sandbox) -> None:
    sandbox.bashrc.write_text("alias gs='git status'\n")
    (sandbox.root / "crontab").write_text("0 3 * * * /usr/bin/backup # attendee's own\n")
    values = {"IDLE_MINUTES": "45", "WORKSHOP_TARGET": "local", "WORKSHOP_BUCKET": "b-1"}
    runs = [on_start(sandbox, **values), on_start(sandbox, **values)]

    bashrc = sandbox.bashrc.read_text()
    assert bashrc.count(BLOCK_START) == 1
    assert bashrc.startswith("alias gs='git status'\n")
    shell = subprocess.run(
        ["bash", "-c", f"source {sandbox.bashrc}; alias ll; echo $EDITOR $WORKSHOP_ENV_FILE"],
        capture_output=True,
        text=True,
        env={"HOME": str(sandbox.home), "PATH": "/usr/bin:/bin"},
    )
    assert shell.returncode == 0, shell.stderr
    assert "ls -lah" in shell.stdout
    assert f"vim {sandbox.env_file}" in shell.stdout

    environment = json.loads(sandbox.env_file.read_text())
    assert environment == {
        "target": "local",
        "bucket": "b-1",
        "idle_minutes": 45,
        "lab_repositories": [],
        "labs_s3_uri": None,
    }

    [entry] = cron_entries(sandbox)
    assert entry.startswith("*/5 * * * * ")
    assert "--idle-minutes 45 --ignore-connections" in entry
    assert "0 3 * * * /usr/bin/backup # attendee's own" in sandbox.crontab()
    assert (sandbox.autostop_dir / "autostop.py").read_bytes() == AUTOSTOP.read_bytes()

    if shutil.which("htop") is None:
        assert wait_for(lambda: len(sandbox.calls("dnf")) == 2)
        assert {tuple(call["args"]) for call in sandbox.calls("dnf")} == {("install", "-y", "htop")}
    assert all(run.seconds < FEW_SECONDS for run in runs)


def test_the_cron_command_runs(sandbox: Sandbox) -> None:
    """The installed entry's command works as cron runs it (sh, its own PATH) and logs one
    JSON line. Run with --dry-run added: on a real notebook instance it would stop it."""
    on_start(sandbox, IDLE_MINUTES="60")
    [entry] = cron_entries(sandbox)
    command = entry.split(" ", 5)[5].replace(
        "--ignore-connections", "--ignore-connections --dry-run"
    )
    subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)
    [line] = (sandbox.autostop_dir / "autostop.log").read_text().splitlines()
    record = json.loads(line)
    assert record["dry_run"] is True
    assert "reason" in record or "error" in record  # no Jupyter server here: an error


def test_env_json_comes_from_the_ssm_parameter(sandbox: Sandbox) -> None:
    parameter = {"bucket": "mlws-curated", "workgroup": "mlws-workgroup", "region": "eu-west-1"}
    sandbox.put_ssm_parameter("/mlws/attendee-01/environment", json.dumps(parameter))
    on_start(sandbox, WORKSHOP_SSM_PARAMETER="/mlws/attendee-01/environment")
    assert json.loads(sandbox.env_file.read_text()) == parameter
    [call] = sandbox.calls("aws")
    assert call["args"][:4] == ["ssm", "get-parameter", "--name", "/mlws/attendee-01/environment"]


@pytest.mark.parametrize("stored", [None, "not json", "[1, 2]"])
def test_an_unusable_ssm_parameter_falls_back_to_the_environment(
    sandbox: Sandbox, stored: str | None
) -> None:
    if stored is not None:
        sandbox.put_ssm_parameter("/p", stored)
    run = on_start(sandbox, WORKSHOP_SSM_PARAMETER="/p", WORKSHOP_TARGET="local")
    assert "cannot read a JSON object from /p" in run.output
    assert json.loads(sandbox.env_file.read_text())["target"] == "local"
    assert not list(sandbox.env_file.parent.glob(".env.json.*"))  # no draft left behind


def test_zero_idle_minutes_removes_the_auto_stop(sandbox: Sandbox) -> None:
    on_start(sandbox, IDLE_MINUTES="60")
    assert len(cron_entries(sandbox)) == 1
    run = on_start(sandbox, IDLE_MINUTES="0")
    assert cron_entries(sandbox) == []
    assert "auto-stop is off" in run.output


def test_a_bad_idle_value_falls_back_to_sixty(sandbox: Sandbox) -> None:
    on_start(sandbox, IDLE_MINUTES="soon")
    [entry] = cron_entries(sandbox)
    assert "--idle-minutes 60 " in entry


def _labs_sdk_pin() -> str:
    """The sagemaker pin of the labs' kernel lock: what the rehearsal runs the labs on."""
    from workshop_artifacts.runtimes import KERNEL_LOCK, read_lock

    return f"sagemaker=={read_lock(KERNEL_LOCK).pins['sagemaker']}"


SDK_PIN = ["install", "--quiet", _labs_sdk_pin()]


def test_the_sdk_is_pinned_in_the_kernel_env_as_the_notebook_user(sandbox: Sandbox) -> None:
    """Root-owned files in the conda env would stop the attendee from repairing it."""
    sandbox.install_user_tools()
    run = run_script(sandbox, "on-start.sh", render_on_start({}), {"SUDO_AS": "ec2-user"})
    assert wait_for(lambda: sandbox.calls("pip")), run.output
    [pip] = sandbox.calls("pip")
    assert pip["args"] == SDK_PIN
    [as_user] = [
        call for call in sandbox.calls("sudo") if str(sandbox.kernel_env_pip) in call["args"]
    ]
    assert as_user["args"][:4] == ["-u", "ec2-user", "-H", "--"]
    assert as_user["args"][-4:] == [str(sandbox.kernel_env_pip), *SDK_PIN]


def test_without_the_kernel_env_the_sdk_is_not_pinned(sandbox: Sandbox) -> None:
    sandbox.kernel_env_pip.unlink()
    run = on_start(sandbox)
    assert "no conda_python3 env found" in run.output
    assert sandbox.calls("pip") == []


def test_no_script_calls_yum(sandbox: Sandbox, lab_repositories: list[str]) -> None:
    """Amazon Linux 2023 has dnf only: the stand-in yum fails and records every call."""
    on_create(sandbox, LAB_REPOSITORIES=lab_repositories[0])
    on_start(sandbox)
    time.sleep(0.5)  # the background installs have started by now
    assert sandbox.calls("yum") == []
