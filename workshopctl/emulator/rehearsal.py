"""The rehearsal's view of an emulated account: start it from a cloud assembly (``cdk.out``, or
a Workshop Studio bundle), deploy it, and give each program the identity it has in AWS (a lab's
kernel the attendee notebook's role, found in the templates; never a name re-derived from the
workshop config)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workshopctl.cloud_assembly import ACCOUNT, CloudAssembly, Resource
from workshopctl.emulator import notebook_docker
from workshopctl.emulator.account import EmulatedAccount
from workshopctl.emulator.deploy import Deployment, deploy
from workshopctl.workshop_studio_bundle import (
    PARTICIPANT_ROLE_NAME,
    bundle_layout,
    event_parameters,
    event_region,
    participant_role,
)

SDK_CONFIG = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def attendee_notebooks(assembly: CloudAssembly) -> list[Resource]:
    """The attendees' notebook instances of the assembly, in the order of their names (the one
    rule for "the first attendee" of the rehearsal, its checks, the smoke run and the tests)."""
    notebooks = sorted(assembly.resources("AWS::SageMaker::NotebookInstance"), key=lambda r: r.name)
    if not notebooks:
        raise LookupError("the assembly has no notebook instance (a Studio workshop?)")
    return notebooks


def attendee_notebook(assembly: CloudAssembly, index: int = 0) -> Resource:
    """The n-th attendee's notebook instance (see :func:`attendee_notebooks`)."""
    return attendee_notebooks(assembly)[index]


@dataclass
class Rehearsal:
    account: EmulatedAccount
    deployment: Deployment

    @property
    def assembly(self) -> CloudAssembly:
        return self.account.assembly

    def notebook(self, index: int = 0) -> Resource:
        """The n-th attendee's notebook instance of the assembly, by name."""
        return attendee_notebook(self.assembly, index)

    def lab_environment(self, label: str, home: Path, index: int = 0) -> dict[str, str]:
        """A lab kernel's environment: the notebook's role and name; ``home`` stands in for the
        notebook's ``~/SageMaker`` (the labs' state file; no env.json there, so the helper
        reads the SSM parameter as a notebook does before its lifecycle script has run)."""
        notebook = self.notebook(index)
        home.mkdir(parents=True, exist_ok=True)
        # The SageMaker SDK sends usage telemetry to AWS directly, around the endpoint settings;
        # the rehearsal opts out as an organiser may (SDK docs, "Configuring and using defaults
        # with the SageMaker Python SDK": TelemetryOptOut).
        sdk_config = home / "sagemaker-config.yaml"
        sdk_config.write_text(SDK_CONFIG)
        # A notebook instance runs Docker (Module 7 builds, runs and pushes with it): the
        # emulated notebook's docker, first on the kernel's PATH.
        docker_bin = notebook_docker.install(home / ".emulated-notebook" / "bin")
        return {
            "PATH": os.pathsep.join([str(docker_bin), os.environ.get("PATH", "")]),
            notebook_docker.ROOT_VARIABLE: str(home / ".emulated-notebook" / "docker"),
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(sdk_config),
            **self.account.environment(label, notebook.properties["RoleArn"]),
            # What the notebook instance's metadata file tells the helper on AWS.
            "WORKSHOP_NOTEBOOK": notebook.name,
            "WORKSHOP_ENV_FILE": str(home / ".workshop" / "env.json"),
            "WORKSHOP_STATE_FILE": str(home / ".workshop" / "labs-state.json"),
        }

    def stop(self) -> None:
        self.account.stop()


def start(cdk_out: Path, workdir: Path) -> Rehearsal:
    """An emulated account serving ``cdk_out``, deployed."""
    return _deployed(CloudAssembly(cdk_out), workdir)


def start_bundle(
    bundle: Path,
    workdir: Path,
    *,
    account: str = ACCOUNT,
    region: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Rehearsal:
    """An emulated participant account ``account`` with the Workshop Studio bundle deployed
    as an event deploys it: the event bucket made and the bundle's ``assets/`` copied under
    its prefix, then the bundle's templates in contentspec order with ``parameters`` (default:
    :func:`~workshopctl.workshop_studio_bundle.event_parameters` of the account) filled in.
    The participant's sign-in role (``static/iam_policy.json``) may then act, as
    :data:`~workshopctl.workshop_studio_bundle.PARTICIPANT_ROLE_NAME` (``participant_role``).

    One account serves at a time (moto's state is the process's): a pool of accounts is
    rehearsed by calling this per account id, stopping each before the next.
    """
    region = region or event_region(bundle)
    values = dict(parameters or event_parameters(account, region))
    assembly = CloudAssembly(
        bundle,
        account=account,
        region=region,
        parameters=values,
        layout=bundle_layout(bundle),
    )
    rehearsal = _deployed(assembly, workdir)
    rehearsal.account.add_outside_role(participant_role(bundle, account))
    return rehearsal


def participant_role_arn(rehearsal: Rehearsal) -> str:
    """The ARN of the bundle rehearsal's participant sign-in role."""
    return f"arn:aws:iam::{rehearsal.assembly.account}:role/{PARTICIPANT_ROLE_NAME}"


def _deployed(assembly: CloudAssembly, workdir: Path) -> Rehearsal:
    account = EmulatedAccount(assembly, workdir).start()
    try:
        return Rehearsal(account, deploy(account))
    except Exception:
        account.stop()
        raise
