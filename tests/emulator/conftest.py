"""The emulated account, deployed from the default config's cloud assembly, once per session
(moto's state is global to the process, so one account serves every test here)."""

from __future__ import annotations

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
    account.deployment = deploy(account)
    yield account
    account.stop()


@pytest.fixture(scope="session")
def deployment(emulated) -> Deployment:
    return emulated.deployment


def attendee_role_arn(assembly: CloudAssembly, index: int = 0) -> str:
    """The role the n-th attendee's notebook runs as (what the labs' kernel gets)."""
    notebooks = sorted(assembly.resources("AWS::SageMaker::NotebookInstance"), key=lambda r: r.name)
    return notebooks[index].properties["RoleArn"]
