"""Fixtures for the lifecycle tests: a stand-in notebook instance and local lab repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshopctl.local.attendee_step import Sandbox, make_bare_repository, make_sandbox


@pytest.fixture(scope="session")
def lab_repositories(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two one-commit bare repositories, as file:// URLs (one with a .git suffix, one without
    in its folder name, as GitHub URLs come both ways)."""
    remotes = tmp_path_factory.mktemp("remotes")
    return [
        make_bare_repository(remotes / "lab-guides.git", source=None),
        make_bare_repository(remotes / "examples", source=None),
    ]


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path / "instance")
