"""One emulated AWS account on localhost, served for the cloud assembly it is deployed from.

``EmulatedAccount(assembly).start()`` serves the API; :meth:`EmulatedAccount.environment`
gives a caller (a lab's kernel, a Lambda function, a job) the standard settings that point
boto3 and the SageMaker SDK at it (``AWS_ENDPOINT_URL``, region, an access key of its own), so
the code under test does not know it is not talking to AWS. Every access key belongs to a role
of the assembly (its calls are decided by that role's policies) or to the organiser (the deploy
itself, unchecked, as CloudFormation acts with the deployer's rights).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import boto3
from botocore.config import Config

from workshopctl.cloud_assembly import CloudAssembly, Role
from workshopctl.emulator.call_log import CallLog
from workshopctl.emulator.gate import Gate
from workshopctl.emulator.server import (
    ORGANISER,
    EmulatorServer,
    Executor,
    Identity,
    Router,
    access_key_for,
)
from workshopctl.emulator.service_metrics import ServiceMetrics, account_publisher

SECRET = "emulated-secret-access-key"  # moto does not verify signatures; the key names the caller
logger = logging.getLogger(__name__)


def _moto_app():
    os.environ.setdefault("MOTO_ACCOUNT_ID", "123456789012")
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def reset_moto() -> None:
    """Forget every resource moto holds (its backends are global to the process)."""
    from moto.moto_api._internal.models import moto_api_backend

    from workshopctl.emulator.moto_state import forget_issued_versions

    moto_api_backend.reset()
    forget_issued_versions()


class EmulatedAccount:
    """The emulator for one cloud assembly; a context manager that serves while open."""

    _serving: EmulatedAccount | None = None  # moto's state is the process's: one at a time

    def __init__(self, assembly: CloudAssembly, workdir: Path):
        self.assembly = assembly
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log = CallLog()
        self.router = Router(
            _moto_app(), Gate(assembly, self.resource_tags, self.minted_names), self.log
        )
        self.server: EmulatorServer | None = None
        # Roles that sign in from outside the templates (Workshop Studio's participant role).
        self.outside_roles: dict[str, Role] = {}
        self._stop_hooks: list[Callable[[], None]] = []
        # What SageMaker publishes to CloudWatch on its own (job instance and endpoint metrics).
        self.metrics = ServiceMetrics(account_publisher(self))
        self.register(ORGANISER)
        from workshopctl.emulator import executors  # they register on this account

        executors.install(self)

    # -- serving ------------------------------------------------------------------------------
    def start(self) -> EmulatedAccount:
        if EmulatedAccount._serving is not None:
            raise RuntimeError(
                "an emulated account is already serving in this process (moto's state is "
                f"global): stop {EmulatedAccount._serving.url} first"
            )
        # moto reads the account id of every request from this variable: the account serving
        # now is the one moto answers as (accounts of a pool are served one after another).
        os.environ["MOTO_ACCOUNT_ID"] = self.assembly.account
        reset_moto()
        self.server = EmulatorServer(self.router).start()
        EmulatedAccount._serving = self
        return self

    def stop(self) -> None:
        """Run the stop hooks (newest first), then stop serving.

        Hooks run while the API still serves, so one may still write through it (an endpoint's
        last captured records); a failing hook is logged and the others still run, so no
        process an executor started outlives the account.
        """
        for hook in reversed(self._stop_hooks):
            try:
                hook()
            except Exception:
                logger.exception("emulator stop hook %r failed", hook)
        if self.server:
            self.server.stop()
            self.server = None
        if EmulatedAccount._serving is self:
            EmulatedAccount._serving = None

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the account stops (executors stop their servers and jobs)."""
        self._stop_hooks.append(hook)

    def __enter__(self) -> EmulatedAccount:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("the emulator is not serving: call start() first")
        return self.server.url

    def execute(self, service: str, operation: str, executor: Executor) -> None:
        """Run ``executor`` for ``operation`` instead of (or on top of) moto."""
        self.router.executors[(service, operation)] = executor

    # -- callers ------------------------------------------------------------------------------
    def add_outside_role(self, role: Role) -> None:
        """A role the templates do not declare, that callers may act as (its policies decide
        their calls like any role's): Workshop Studio's participant role."""
        self.outside_roles[role.arn] = role

    def register(self, label: str, role_arn: str | None = None) -> str:
        """An access key for ``label`` acting as ``role_arn`` (None: the organiser)."""
        role = None
        if role_arn:
            role = self.outside_roles.get(role_arn) or self.assembly.role(role_arn)
        key = access_key_for(label, role_arn or ORGANISER)
        self.router.identities[key] = Identity(label, role)
        return key

    def environment(self, label: str, role_arn: str | None = None) -> dict[str, str]:
        """The environment variables that send a process's AWS calls here, as ``role_arn``."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.register(label, role_arn),
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SESSION_TOKEN": "",
            "AWS_REGION": self.assembly.region,
            "AWS_DEFAULT_REGION": self.assembly.region,
            # No shared config or credentials file may override the settings above.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def session(self, label: str = ORGANISER, role_arn: str | None = None) -> boto3.Session:
        environment = self.environment(label, role_arn)
        return boto3.Session(
            aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=SECRET,
            region_name=self.assembly.region,
        )

    def client(self, service: str, label: str = ORGANISER, role_arn: str | None = None):
        config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
        return self.session(label, role_arn).client(service, endpoint_url=self.url, config=config)

    def client_as(self, service: str, caller):
        """A client acting as a call's caller (an executor reading S3 for the caller)."""
        return self.client(service, caller.label, caller.role.arn if caller.role else None)

    # -- state the gate needs -----------------------------------------------------------------
    def minted_names(self, call) -> list[dict]:
        from workshopctl.emulator.moto_state import names_from_state

        return names_from_state(
            call.service, call.operation, call.params, self.assembly.account, call.region
        )

    def resource_tags(self, arn: str) -> Mapping[str, str]:
        """A resource's tags, for ``aws:ResourceTag`` conditions."""
        from workshopctl.emulator.moto_state import tags_of

        return tags_of(arn, self.assembly.account, self.assembly.region)
