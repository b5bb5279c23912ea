"""The Workshop Studio bundle, built once per test session the way `make workshop-studio` does:
the app synthesized as its own process with the bundle's switches (the security packs run
inside that synth), then checked, linted and written."""

from __future__ import annotations

import pytest

from workshop_spec.config import load_project_config
from workshopctl import workshop_studio

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def bundle_assembly(tmp_path_factory: pytest.TempPathFactory):
    assembly = tmp_path_factory.mktemp("workshop-studio") / "cdk.out"
    workshop_studio.synthesize(assembly, workshop_studio.bundle_context())
    return assembly


@pytest.fixture(scope="session")
def bundle_config():
    return load_project_config(workshop_studio.bundle_context())


@pytest.fixture(scope="session")
def bundle(bundle_assembly, bundle_config, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("bundle") / "workshop-studio"
    return workshop_studio.write_bundle(bundle_assembly, out, bundle_config, REGION)


# A participant account of the event, not the emulator's default (123456789012): the bundle
# must not depend on the account it lands in.
PARTICIPANT_ACCOUNT = "210987654321"
