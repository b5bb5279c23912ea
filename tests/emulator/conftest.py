"""The emulated account of the session (tests/conftest.py ``rehearsal``), by its parts."""

from __future__ import annotations

import pytest

from workshopctl.cloud_assembly import CloudAssembly
from workshopctl.emulator.account import EmulatedAccount
from workshopctl.emulator.deploy import Deployment


@pytest.fixture(scope="session")
def assembly(rehearsal) -> CloudAssembly:
    return rehearsal.assembly


@pytest.fixture(scope="session")
def emulated(rehearsal) -> EmulatedAccount:
    return rehearsal.account


@pytest.fixture(scope="session")
def deployment(rehearsal) -> Deployment:
    return rehearsal.deployment


def attendee_role_arn(assembly: CloudAssembly, index: int = 0) -> str:
    """The role the n-th attendee's notebook runs as (what the labs' kernel gets)."""
    notebooks = sorted(assembly.resources("AWS::SageMaker::NotebookInstance"), key=lambda r: r.name)
    return notebooks[index].properties["RoleArn"]
