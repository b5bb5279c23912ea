"""The emulated account, deployed from the default config's cloud assembly, once per session
(moto's state is global to the process, so one account serves every test here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workshopctl.cloud_assembly import CloudAssembly
from workshopctl.emulator.account import EmulatedAccount
from workshopctl.emulator.deploy import Deployment, deploy


@pytest.fixture(scope="session")
def assembly(synth) -> CloudAssembly:
    return CloudAssembly(synth().outdir)


@pytest.fixture(scope="session")
def emulated(assembly, tmp_path_factory) -> EmulatedAccount:
    account = EmulatedAccount(assembly, tmp_path_factory.mktemp("emulator")).start()
    try:
        account.deployment = deploy(account)
        yield account
    finally:
        account.stop()
    # Every server an executor started (endpoints, transform jobs) names the account's folder.
    assert processes_naming(account.workdir) == [], "processes outlived the emulated account"


@pytest.fixture(scope="session")
def deployment(emulated) -> Deployment:
    return emulated.deployment


def attendee_role_arn(assembly: CloudAssembly, index: int = 0) -> str:
    """The role the n-th attendee's notebook runs as (what the labs' kernel gets)."""
    notebooks = sorted(assembly.resources("AWS::SageMaker::NotebookInstance"), key=lambda r: r.name)
    return notebooks[index].properties["RoleArn"]


def processes_naming(folder: Path) -> list[str]:
    """Command lines of live processes that name ``folder`` (the emulator's model servers do)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if str(folder) in command:
            found.append(command)
    return found
