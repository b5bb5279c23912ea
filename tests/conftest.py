"""Shared fixtures. Synthesis is slow (jsii + three nag packs), so each distinct config is
synthesized once per test session and its templates shared by every test that reads them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

Templates = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Synthesis:
    templates: Templates  # stack name → template
    outdir: Path
    acknowledgements: list  # stacks.nag.Acknowledgement

    @property
    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesis]:
    """``synth(**overrides)`` → the synthesized app, once per distinct overrides.

    Nested config keys use ``__`` for the dot: ``synth(athena__results_expiry_days=3)``.
    """
    import app as workshop_app  # imported lazily: starting jsii is the slow part
    from stacks import nag

    cache: dict[tuple, Synthesis] = {}

    def _synth(**overrides: Any) -> Synthesis:
        key = tuple(sorted((k, json.dumps(v)) for k, v in overrides.items()))
        if key not in cache:
            outdir = tmp_path_factory.mktemp("cdk.out")
            context = workshop_app.cdk_json_context()
            context.update({k.replace("__", "."): v for k, v in overrides.items()})
            app = workshop_app.build_app(context, outdir=str(outdir))
            assembly = app.synth()
            cache[key] = Synthesis(
                templates={stack.stack_name: stack.template for stack in assembly.stacks},
                outdir=outdir,
                acknowledgements=nag.acknowledgements(app),
            )
        return cache[key]

    return _synth


@pytest.fixture(scope="session")
def templates(synth) -> Templates:
    """The default workshop config's templates."""
    return synth().templates


@pytest.fixture(scope="session")
def data_lake(templates) -> dict[str, Any]:
    return templates["mlws-data-lake"]


def resources_of(template: Mapping[str, Any], resource_type: str) -> dict[str, dict]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def use_dummy_credentials(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    """Credentials moto and Stubber accept, and no profile of the machine's own."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


# Fixtures that serve emulated accounts of their own (the Workshop Studio bundle's participant
# account, the accounts of a per-attendee pool), each stopped before the next starts.
OWN_EMULATED_ACCOUNTS = ("bundle_rehearsal", "pool_rehearsals")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests on emulated accounts run first: those with accounts of their own, then those on
    the session's ``rehearsal``, which serves until the session ends. moto keeps its state in
    the process, one account serves at a time, and a test that opens moto's in-process mock
    (``mock_aws``) resets all of it: run after such a test, an account would be empty."""

    def rank(item: pytest.Item) -> int:
        if any(name in item.fixturenames for name in OWN_EMULATED_ACCOUNTS):
            return 0
        return 1 if "rehearsal" in item.fixturenames else 2

    items.sort(key=rank)  # stable: the collection order within each rank


@pytest.fixture(scope="session")
def rehearsal(synth, tmp_path_factory: pytest.TempPathFactory):
    """The emulated AWS account deployed from the default config's assembly, once per session
    (moto's state is global to the process: every test that needs the emulator shares it)."""
    from workshopctl.emulator import rehearsal as emulated

    # The suite's budget: 4 trials per tuning job (the point is the wiring; `make up` runs
    # what the labs ask for).
    os.environ.setdefault("WORKSHOP_EMULATOR_MAX_TUNING_JOBS", "4")
    workdir = tmp_path_factory.mktemp("emulator")
    session = emulated.start(synth().outdir, workdir)
    yield session
    session.stop()
    # Every server an executor started (endpoints, transform jobs) names the account's folder.
    assert processes_naming(workdir) == [], "processes outlived the emulated account"


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
