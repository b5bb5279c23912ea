"""The contract checker's inputs: the cloud assembly of each config the contracts run over.

Every rule runs over the default config and two others that change what the rules see: a
prefix with a '-', named attendees, a non-default A/B weight (issue 16's config) and a smoke
principal (issue 18's), and the Studio environment. Each is synthesized once per test session
(shared with the other tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from workshop_spec.config import WorkshopConfig, config_from_context
from workshopctl.cloud_assembly import CloudAssembly, Role

CONFIGS = {
    "default": {},
    "ml-ws": {
        "prefix": "ml-ws",
        "attendees": ["ada", "grace"],
        "serving__champion_weight": 0.75,
        # `make smoke` runs the labs as ada from the organiser's session (attendee_sign_in tests).
        "attendee_environment__smoke_principal": "arn:aws:iam::123456789012:role/organiser",
    },
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

    def attendee_role(self, attendee: str) -> Role:
        """The role the attendee's notebook (or Studio profile) and jobs run as."""
        workspace = self.config.notebook_name(attendee)
        for notebook in self.assembly.resources("AWS::SageMaker::NotebookInstance"):
            if notebook.name == workspace:
                return self.assembly.role(notebook.properties["RoleArn"])
        for profile in self.assembly.resources("AWS::SageMaker::UserProfile"):
            if profile.name == workspace:
                return self.assembly.role(profile.properties["UserSettings"]["ExecutionRole"])
        raise AssertionError(f"no notebook or profile for {attendee}")

    def bucket(self, logical_prefix: str) -> str:
        """The physical name of the data lake's bucket whose logical id starts so."""
        for bucket in self.assembly.resources("AWS::S3::Bucket"):
            if bucket.logical_id.startswith(logical_prefix):
                return bucket.name
        raise AssertionError(f"no bucket {logical_prefix}")


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
