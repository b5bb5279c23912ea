"""The contract checker's inputs: the cloud assembly of each config the contracts run over.

Every rule runs over the default config and two others that change what the rules see: a
prefix with a '-', named attendees and a non-default A/B weight (issue 16's config), and the
Studio environment. Each is synthesized once per test session (shared with the other tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from workshopctl.cloud_assembly import CloudAssembly
from workshopctl.config import WorkshopConfig, config_from_context

CONFIGS = {
    "default": {},
    "ml-ws": {"prefix": "ml-ws", "attendees": ["ada", "grace"], "serving__champion_weight": 0.75},
    "studio": {
        "attendees": ["ada", "grace", "linus"],
        "attendee_environment__environment": "studio",
    },
}


@dataclass(frozen=True)
class Deployed:
    """One config and the account its assembly describes."""

    name: str
    config: WorkshopConfig
    assembly: CloudAssembly


def _deployed(synth, name: str, overrides: dict) -> Deployed:
    import app as workshop_app

    context = workshop_app.cdk_json_context()
    context.update({k.replace("__", "."): v for k, v in overrides.items()})
    config = config_from_context(context)
    return Deployed(name, config, CloudAssembly(synth(**overrides).outdir))


@pytest.fixture(scope="session", params=sorted(CONFIGS))
def deployed(request, synth) -> Deployed:
    return _deployed(synth, request.param, CONFIGS[request.param])


@pytest.fixture(scope="session")
def default_deployed(synth) -> Deployed:
    return _deployed(synth, "default", {})
