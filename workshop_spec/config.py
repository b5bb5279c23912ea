"""The one typed workshop configuration that drives every stack and the local target.

Precedence, lowest first:
  1. the defaults below (a 10-attendee workshop in one account);
  2. the ``workshop`` object in cdk.json's context;
  3. a YAML file named by ``-c config=workshop.yaml``;
  4. single keys given as ``-c key=value`` (nested keys with dots:
     ``-c athena.results_expiry_days=3``).

A bad value fails before any construct is built, with one message per problem naming the key,
the value and what is allowed ("attendees: 0 is not allowed; use 1..100").

Pure pydantic: no CDK import here, so the CLI and the local target load the same object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from workshop_spec import platforms

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Context keys that belong to the CDK itself (feature flags, CLI settings), never to us.
_CDK_OWN_KEY = re.compile(r"^(@|aws:|aws-cdk|cdk[-:]|acknowledged-issue-numbers$)")


def allowed(text: str) -> dict[str, Any]:
    """Field metadata: the human description of the allowed values, used in error messages."""
    return {"json_schema_extra": {"allowed": text}}


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 180, 365)
_NAME = r"^[a-z][a-z0-9-]{0,23}$"
_INSTANCE = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# An IAM role or user of one account, as a trust policy's Principal names it.
_SMOKE_PRINCIPAL = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$"

AttendeeName = Annotated[str, Field(pattern=_NAME)]
InstanceType = Annotated[
    str, Field(pattern=_INSTANCE, **allowed("an ml.* instance type, e.g. ml.m5.xlarge"))
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstanceTypes(_Section):
    """SageMaker instance types per job kind. Defaults are the workshop's."""

    notebook: InstanceType = "ml.m5.xlarge"
    processing: InstanceType = "ml.m5.large"
    training: InstanceType = "ml.m5.xlarge"
    endpoint: InstanceType = "ml.m5.large"


class Athena(_Section):
    bytes_scanned_cutoff_mb: int = Field(
        1024, ge=10, le=1_000_000, **allowed("10..1000000 (MB per query; Athena's minimum is 10)")
    )
    results_expiry_days: int = Field(7, ge=1, le=365, **allowed("1..365"))


class DataLake(_Section):
    noncurrent_version_expiry_days: int = Field(30, ge=1, le=3650, **allowed("1..3650"))
    abort_incomplete_upload_days: int = Field(7, ge=1, le=365, **allowed("1..365"))
    reviews_scale: float = Field(
        1.0,
        ge=0.01,
        le=500,
        **allowed(
            "0.01..500 (Module 4's reviews: 1 = the 23,486 real reviews, 100 = ~2.3 million "
            "rows recombined from their sentences)"
        ),
    )
    reviews_crawler: bool = Field(
        False, **allowed("true (a Glue crawler for the module's crawler exercise) or false")
    )
    run_reviews_etl_on_deploy: bool = Field(
        True,
        **allowed(
            "true (the deploy runs the reviews ETL and waits for it, so reviews_parquet has data) "
            "or false (no run at deploy: start the job yourself before Module 4)"
        ),
    )


class Budget(_Section):
    monthly_usd: float = Field(
        500.0, gt=0, le=1_000_000, **allowed("a positive amount up to 1000000")
    )
    alert_emails: list[Annotated[str, Field(pattern=_EMAIL)]] = Field(
        default_factory=list, max_length=10, **allowed("up to 10 e-mail addresses")
    )

    @field_validator("alert_emails", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_commas(value)


class ModelImage(_Section):
    """How the bring-your-own container image reaches ECR (Module 7)."""

    build: Literal["codebuild", "docker"] = Field(
        "codebuild",
        **allowed("codebuild (built in AWS, no local Docker) or docker (built by `cdk deploy`)"),
    )
    keep_images: int = Field(10, ge=1, le=1000, **allowed("1..1000"))


# The stacks (app.py names each `<prefix>-<key>`) and the pipelines (`<prefix>-<key>`).
STACK_KEYS = (
    "data-lake", "model-image", "attendee-environment", "attendee-sign-in", "pipelines", "serving",
    "guardrails",
)  # fmt: skip
PIPELINE_KEYS = ("bank-marketing", "bike-sharing", "byom")
# `<prefix>-<attendee>-` plus the labs' 9-character "-ddHHMMSS" stamp within a tuning job's 32.
TUNING_SCOPE_MAX = 23

# Where attendees write in the curated bucket: their own prefix, and one shared scratch prefix.
# The janitor deletes exactly these prefixes after the event.
ATTENDEES_PREFIX = "attendees/"
SCRATCH_PREFIX = "scratch/"


def _supported_notebook_platforms() -> list[str]:
    """Notebook platform identifiers of the matrix not past their end of support today."""
    today = date.today()
    return [
        p.identifier
        for p in platforms.matrix().of_kind("notebook-platform")
        if not p.is_retired(today)
    ]


ORIGINAL_LAB_REPOSITORIES = (
    "https://github.com/CloudaYolla/ArchitectingMLonAWS",
    "https://github.com/awslabs/amazon-sagemaker-examples",
)
_REPOSITORY = r"^https://[A-Za-z0-9.-]+/[A-Za-z0-9._/-]+$"


class AttendeeEnvironment(_Section):
    """Module 1's set-up: one notebook per attendee, its network, permissions and lifecycle."""

    environment: Literal["notebook", "studio"] = Field(
        "notebook",
        **allowed(
            "notebook (one SageMaker notebook instance per attendee) or studio (a SageMaker "
            "Studio domain with one user profile per attendee; needs network=vpc)"
        ),
    )
    network: Literal["vpc", "direct"] = Field(
        "vpc",
        **allowed(
            "vpc (private subnets, egress through one NAT gateway) or direct (no VPC, cheaper)"
        ),
    )
    permissions: Literal["least-privilege", "seed"] = Field(
        "least-privilege",
        **allowed(
            "least-privilege (roles scoped to the workshop) or seed (the original workshop's "
            "AWS-managed policies)"
        ),
    )
    root_access: bool = Field(False, **allowed("true or false"))
    platform: str = Field(
        default_factory=lambda: platforms.identifier("notebook-al2023"),
        **allowed(
            f"one of {', '.join(_supported_notebook_platforms())} (the notebook platforms in "
            "workshop_spec/platforms.yaml not past their end of support)"
        ),
    )
    idle_minutes: int = Field(60, ge=0, le=1440, **allowed("0..1440 (0 turns auto-stop off)"))
    lab_repositories: list[Annotated[str, Field(pattern=_REPOSITORY)]] = Field(
        default_factory=lambda: list(ORIGINAL_LAB_REPOSITORIES),
        max_length=10,
        **allowed("up to 10 https:// git URLs"),
    )
    sign_in: Literal["iam-users", "none"] = Field(
        "iam-users",
        **allowed(
            "iam-users (one IAM user per attendee, limited to their own notebook or Studio "
            "profile, first password in Secrets Manager) or none (the organiser brings the "
            "attendees' identities)"
        ),
    )
    smoke_principal: str | None = Field(
        None,
        pattern=_SMOKE_PRINCIPAL,
        **allowed(
            "the ARN of the IAM role or user that runs `make smoke` "
            "(arn:aws:iam::<account>:role/<name>), trusted by the first attendee's role; "
            "unset: no person may assume an attendee role"
        ),
    )

    @field_validator("lab_repositories", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("platform")
    @classmethod
    def _platform_still_supported(cls, value: str) -> str:
        # Judged on the day the config is built: a platform that retires between two deploys
        # is refused by the second one, with the date and the page that says so.
        known = {p.identifier: p for p in platforms.matrix().of_kind("notebook-platform")}
        retired = known.get(value)
        if retired is not None and retired.is_retired(date.today()):
            raise PydanticCustomError(
                "platform_retired",
                "{retirement}; use one of {supported}",
                {
                    "retirement": retired.retirement(),
                    "supported": ", ".join(_supported_notebook_platforms()),
                },
            )
        if value not in known:
            raise ValueError("not a notebook platform of workshop_spec/platforms.yaml")
        return value

    @model_validator(mode="after")
    def _studio_lives_in_a_vpc(self) -> AttendeeEnvironment:
        if self.environment == "studio" and self.network != "vpc":
            raise ValueError("environment=studio needs network=vpc (a Studio domain has a VPC)")
        return self


class Guardrails(_Section):
    """Cost guardrails while the event runs (the budget itself is ``budget``)."""

    nightly_notebook_stop: str | None = Field(
        "22:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        **allowed("HH:MM (24 h, in guardrails.timezone), or null to keep notebooks running"),
    )
    timezone: str = Field(
        "UTC",
        pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$",
        **allowed("an IANA time zone, e.g. Europe/Paris"),
    )
    max_endpoints_in_service: int = Field(
        6, ge=1, le=1000, **allowed("1..1000 (alarm when more endpoints are in service)")
    )
    max_endpoint_instance_hours_per_day: int = Field(
        72, ge=1, le=100_000, **allowed("1..100000 (alarm above this many per day)")
    )


class Serving(_Section):
    """Module 7's endpoints: the bank-marketing A/B endpoint and the BYOM endpoint."""

    champion_weight: float = Field(
        0.9, ge=0, le=1, **allowed("0..1 (variant-a's share; variant-b gets the rest)")
    )
    initial_instance_count: int = Field(1, ge=1, le=10, **allowed("1..10 per variant"))
    min_instances: int = Field(1, ge=1, le=10, **allowed("1..10 per variant"))
    max_instances: int = Field(2, ge=1, le=20, **allowed("1..20 per variant"))
    invocations_per_instance: int = Field(
        300, ge=1, le=100_000, **allowed("1..100000 (requests per instance per minute)")
    )
    scale_in_cooldown_seconds: int = Field(300, ge=0, le=3600, **allowed("0..3600"))
    scale_out_cooldown_seconds: int = Field(60, ge=0, le=3600, **allowed("0..3600"))
    data_capture_percent: int = Field(20, ge=0, le=100, **allowed("0..100 (0 turns it off)"))
    idle_alarm_hours: int = Field(
        6, ge=1, le=24, **allowed("1..24 (alarm when an endpoint got no request that long)")
    )
    latency_p99_ms: int = Field(500, ge=1, le=60_000, **allowed("1..60000"))
    multi_model: bool = Field(False, **allowed("true (BYOM as a multi-model endpoint) or false"))
    byom_serverless: bool = Field(
        False, **allowed("true (the BYOM endpoint as serverless: billed per request) or false")
    )
    serverless_memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(
        2048, **allowed("1024, 2048, 3072, 4096, 5120 or 6144")
    )
    serverless_max_concurrency: int = Field(5, ge=1, le=200, **allowed("1..200"))
    challenger_weight_on_promotion: float = Field(
        0.1, gt=0, lt=1, **allowed("0..1, exclusive (a newly approved model's first share)")
    )
    reset_variant_properties: bool = Field(
        False,
        **allowed(
            "true (a deploy resets live weights and instance counts to the config) or false "
            "(keep what autoscaling and traffic shifts set)"
        ),
    )

    @model_validator(mode="after")
    def _serverless_is_single_model(self) -> Serving:
        if self.byom_serverless and self.multi_model:
            raise ValueError("byom_serverless and multi_model exclude each other (serverless "
                             "endpoints serve one model)")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _capacity_range(self) -> Serving:
        if not self.min_instances <= self.initial_instance_count <= self.max_instances:
            raise ValueError(
                "needs min_instances <= initial_instance_count <= max_instances, not "
                f"{self.min_instances} <= {self.initial_instance_count} <= {self.max_instances}"
            )
        return self


class Pipelines(_Section):
    """Modules 5-7 as SageMaker Pipelines."""

    schedule: str | None = Field(
        None,
        pattern=r"^(cron|rate)\(.+\)$",
        **allowed(
            "an EventBridge Scheduler expression, e.g. cron(0 6 * * ? *) (in "
            "guardrails.timezone), or null for none"
        ),
    )


class Features(_Section):
    """Switches for the stacks that build on the data lake (each gates its stack once it exists)."""

    attendee_environment: bool = True
    model_image: bool = True
    pipelines: bool = True
    serving: bool = True
    guardrails: bool = True


# The organiser's own stacks in `accounts: per-attendee` (app.py names each `<prefix>-<key>`).
ORGANISER_STACK_KEYS = ("organiser", "pool")
# The one attendee of each pool account: the same name in every account, so one template (one
# StackSet) serves the whole pool; the roster maps the event's attendees to their accounts.
ACCOUNT_ATTENDEE = "participant"
# Organizations ids, as its API validates them:
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_OrganizationalUnit.html
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
_ORGANIZATIONAL_UNIT = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
_ORGANIZATION = r"^o-[a-z0-9]{10,32}$"
_ACCOUNT_ID = r"^\d{12}$"
# An IAM role name: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
_ROLE_NAME = r"^[\w+=,.@-]{1,64}$"
# The role StackSets assumes in each target account with self-managed permissions, by default:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html
STACKSET_EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"

AccountId = Annotated[str, Field(pattern=_ACCOUNT_ID)]


class Pool(_Section):
    """The pool of accounts of ``accounts: per-attendee``: one account per attendee.

    Both ways deploy with CloudFormation StackSets from the organiser's account:
    ``organizational-unit`` (service-managed permissions: every account of the OU, present and
    added later, gets the workshop) or ``named-accounts`` (self-managed permissions over the
    accounts listed here, each with the execution role StackSets assumes).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
    """

    deployment: Literal["organizational-unit", "named-accounts"] | None = Field(
        None,
        **allowed(
            "organizational-unit (service-managed StackSets to pool.organizational_unit) or "
            "named-accounts (self-managed StackSets over pool.accounts)"
        ),
    )
    organization_id: str | None = Field(
        None,
        pattern=_ORGANIZATION,
        **allowed("the organization's id, o- and 10-32 lowercase letters or digits"),
    )
    organizational_unit: str | None = Field(
        None,
        pattern=_ORGANIZATIONAL_UNIT,
        **allowed("an organizational unit id, e.g. ou-ab12-cd34ef56"),
    )
    accounts: dict[AttendeeName, AccountId] = Field(
        default_factory=dict,
        **allowed("a mapping of attendee name to 12-digit account id, one per attendee"),
    )
    execution_role_name: str = Field(
        STACKSET_EXECUTION_ROLE,
        pattern=_ROLE_NAME,
        **allowed(
            "the IAM role name StackSets and workshopctl assume in each named account "
            f"(default {STACKSET_EXECUTION_ROLE})"
        ),
    )

    @model_validator(mode="after")
    def _deployment_has_its_targets(self) -> Pool:
        if self.deployment == "organizational-unit":
            missing = [
                key
                for key in ("organization_id", "organizational_unit")
                if getattr(self, key) is None
            ]
            if missing:
                raise ValueError(
                    "deployment=organizational-unit needs "
                    + " and ".join(f"pool.{key}" for key in missing)
                    + " (the StackSets' target and the asset bucket's reader)"
                )
        if self.deployment == "named-accounts" and not self.accounts:
            raise ValueError(
                "deployment=named-accounts needs pool.accounts: attendee name -> account id"
            )
        reused = sorted(
            {a for a in self.accounts.values() if list(self.accounts.values()).count(a) > 1}
        )
        if reused:
            raise ValueError(
                f"pool.accounts gives account {reused[0]} to more than one attendee: one "
                "account per attendee"
            )
        return self


class WorkshopConfig(_Section):
    prefix: str = Field(
        "mlws",
        pattern=_NAME,
        **allowed("1-24 characters: lowercase letters, digits and '-', starting with a letter"),
    )
    account: str | None = Field(None, pattern=r"^\d{12}$", **allowed("a 12-digit AWS account id"))
    region: str | None = Field(
        None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", **allowed("an AWS region, e.g. eu-west-1")
    )
    attendees: int | list[AttendeeName] = Field(
        10,
        **allowed("1..100, or a list of 1..100 distinct names (lowercase letters, digits, '-')"),
    )
    instance_types: InstanceTypes = InstanceTypes()
    attendee_environment: AttendeeEnvironment = AttendeeEnvironment()
    notebook_volume_gb: int = Field(5, ge=5, le=16384, **allowed("5..16384 (GB)"))
    retention: Literal["destroy", "retain"] = Field("destroy", **allowed("destroy or retain"))
    athena: Athena = Athena()
    data_lake: DataLake = DataLake()
    budget: Budget = Budget()
    guardrails: Guardrails = Guardrails()
    serving: Serving = Serving()
    pipelines: Pipelines = Pipelines()
    model_image: ModelImage = ModelImage()
    log_retention_days: int = Field(
        30, **allowed(f"one of {', '.join(map(str, LOG_RETENTION_DAYS))} (CloudWatch Logs)")
    )
    session_end: datetime | None = Field(
        None, **allowed("an ISO 8601 time with a time zone, e.g. 2026-12-01T17:00:00+01:00")
    )
    features: Features = Features()
    accounts: Literal["shared", "per-attendee"] = Field(
        "shared",
        **allowed(
            "shared (every attendee in this one account) or per-attendee (each attendee gets "
            "an account of the pool with the whole workshop; this account holds the "
            "organiser's stacks; needs pool.deployment)"
        ),
    )
    pool: Pool = Pool()
    synthesizer: Literal["cdk-bootstrap", "workshop-studio"] = Field(
        "cdk-bootstrap",
        **allowed(
            "cdk-bootstrap (assets in the CDK bootstrap bucket: `cdk deploy` into a "
            "bootstrapped account) or workshop-studio (every asset read from the bucket and "
            "prefix given as the AssetsBucketName/AssetsBucketPrefix parameters; no bootstrap; "
            "needs model_image.build=codebuild; what `make workshop-studio` synthesizes)"
        ),
    )

    @model_validator(mode="after")
    def _event_bucket_has_no_image_repository(self) -> WorkshopConfig:
        # Docker image assets go to the bootstrap's ECR repository; the event bucket is S3 only.
        wants_docker = self.features.model_image and self.model_image.build == "docker"
        if self.synthesizer == "workshop-studio" and wants_docker:
            raise ValueError(
                "synthesizer=workshop-studio needs model_image.build=codebuild (a Docker image "
                "asset needs the CDK bootstrap's ECR repository)"
            )
        return self

    @model_validator(mode="after")
    def _per_attendee_has_a_pool(self) -> WorkshopConfig:
        if self.accounts == "shared":
            if self.pool.deployment is not None:
                raise ValueError(
                    "pool.deployment is only used with accounts=per-attendee; set accounts or "
                    "remove the pool"
                )
            return self
        if self.pool.deployment is None:
            raise ValueError(
                "accounts=per-attendee needs pool.deployment: organizational-unit or named-accounts"
            )
        if self.synthesizer != "cdk-bootstrap":
            raise ValueError(
                "accounts=per-attendee synthesizes the pool's stacks with the event-bucket "
                "synthesizer itself; keep synthesizer=cdk-bootstrap (the organiser's stacks "
                "deploy with `cdk deploy`)"
            )
        if self.features.model_image and self.model_image.build == "docker":
            raise ValueError(
                "accounts=per-attendee needs model_image.build=codebuild (a Docker image asset "
                "needs a CDK bootstrap in every pool account)"
            )
        if self.pool.accounts:
            self._pool_accounts_match_attendees()
        return self

    def _pool_accounts_match_attendees(self) -> None:
        names, given = set(self.attendee_names), set(self.pool.accounts)
        if names != given:
            raise ValueError(
                "pool.accounts must name each attendee once: "
                + "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(sorted(names - given))}" if names - given else "",
                        f"not attendees {', '.join(sorted(given - names))}"
                        if given - names
                        else "",
                    )
                    if part
                )
            )
        if self.account is not None and self.account in self.pool.accounts.values():
            raise ValueError(
                f"pool.accounts: {self.account} is the organiser's account (account); each "
                "attendee needs an account of their own"
            )

    @field_validator("attendees", mode="before")
    @classmethod
    def _attendees_from_text(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip().isdigit():
            return _split_commas(value)
        return value

    @field_validator("attendees")
    @classmethod
    def _attendee_bounds(cls, value: int | list[str]) -> int | list[str]:
        if isinstance(value, int) and not 1 <= value <= 100:
            raise ValueError("out of range")
        distinct = isinstance(value, list) and len(set(value)) == len(value)
        if isinstance(value, list) and not (1 <= len(value) <= 100 and distinct):
            raise ValueError("not 1..100 distinct names")
        return value

    @model_validator(mode="after")
    def _attendee_names_scope_only_their_own(self) -> WorkshopConfig:
        """Each attendee may create only SageMaker names ``<prefix>-<attendee>-*``: that scope
        must not cover a shared name, and must leave room in a tuning job's 32 characters
        (SageMaker API: HyperParameterTuningJobName) for the labs' 8-character time stamp."""
        for attendee in self.attendee_names:
            scope = f"{self.prefix}-{attendee}-"
            shared = [name for name in self.shared_names if f"{name}-".startswith(scope)]
            if shared:
                raise ValueError(
                    f"attendees: {attendee!r} is not allowed; its resource names "
                    f"'{scope}*' would cover the workshop's own {shared[0]!r}: choose another name"
                )
            if len(scope) > TUNING_SCOPE_MAX:
                raise ValueError(
                    f"attendees: {attendee!r} is too long for prefix {self.prefix!r}: "
                    f"'{scope}' has {len(scope)} characters, allowed {TUNING_SCOPE_MAX} (a tuning "
                    "job name holds 32, the labs add a 9-character time stamp)"
                )
        return self

    @field_validator("log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError("not a CloudWatch Logs retention period")
        return value

    @field_validator("session_end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("no time zone")
        return value

    # -- derived values every stack uses ---------------------------------------------------
    @property
    def attendee_names(self) -> list[str]:
        """Stable attendee ids: the given names, or attendee-01..attendee-NN."""
        if isinstance(self.attendees, list):
            return list(self.attendees)
        return [f"attendee-{i:02d}" for i in range(1, self.attendees + 1)]

    def account_workshop(self) -> WorkshopConfig:
        """What one account of the pool holds (``accounts: per-attendee``): the whole workshop
        for :data:`ACCOUNT_ATTENDEE` alone, in no fixed account or region (StackSets choose),
        every asset read from the organiser's bucket (``synthesizer=workshop-studio``), and
        the event's budget split evenly across the accounts (cents, at least 1 USD)."""
        if self.accounts != "per-attendee":
            raise ValueError("account_workshop() is for accounts=per-attendee")
        data = self.model_dump(mode="python")
        data.update(
            accounts="shared",
            pool=Pool().model_dump(mode="python"),
            account=None,
            region=None,
            attendees=[ACCOUNT_ATTENDEE],
            synthesizer="workshop-studio",
        )
        share = round(self.budget.monthly_usd / len(self.attendee_names), 2)
        data["budget"] = {**data["budget"], "monthly_usd": max(share, 1.0)}
        return WorkshopConfig.model_validate(data)

    @property
    def roster(self) -> dict[str, str | None]:
        """Attendee → account id (None while an organizational unit's accounts are unassigned)."""
        return {name: self.pool.accounts.get(name) for name in self.attendee_names}

    @property
    def destroy_on_teardown(self) -> bool:
        return self.retention == "destroy"

    @property
    def glue_database_name(self) -> str:
        """Glue/Athena names allow no '-': the database name is the prefix with '_'."""
        return f"{self.prefix.replace('-', '_')}_datalake"

    @property
    def athena_workgroup_name(self) -> str:
        return f"{self.prefix}-workgroup"

    @staticmethod
    def attendee_prefix(attendee: str) -> str:
        """The attendee's own S3 prefix in the curated bucket (only they may write it)."""
        return f"{ATTENDEES_PREFIX}{attendee}/"

    def notebook_name(self, attendee: str) -> str:
        """The attendee's notebook instance: a documented contract, found by name in the console."""
        return f"{self.prefix}-{attendee}"

    @property
    def ab_endpoint_name(self) -> str:
        """The bank-marketing A/B endpoint (Module 7): the labs and the promotion call it."""
        return f"{self.prefix}-bank-ab"

    @property
    def byom_endpoint_name(self) -> str:
        """The bring-your-own-container endpoint (Module 7)."""
        return f"{self.prefix}-byom"

    @property
    def bank_model_package_group(self) -> str:
        """The model registry group of the bank-marketing pipeline; approvals there promote."""
        return f"{self.prefix}-bank-marketing"

    @property
    def bike_model_package_group(self) -> str:
        """The model registry group of the bike-sharing pipeline."""
        return f"{self.prefix}-bike-sharing"

    @property
    def pipeline_names(self) -> list[str]:
        """The workshop's SageMaker pipelines (attendees may start them, not change them)."""
        return [f"{self.prefix}-{key}" for key in PIPELINE_KEYS]

    def stack_name(self, key: str) -> str:
        """``<prefix>-<key>``, for one of :data:`STACK_KEYS` (app.py names each stack so)."""
        if key not in STACK_KEYS + ORGANISER_STACK_KEYS:
            raise KeyError(
                f"{key!r} is not a stack of the workshop; stacks: "
                f"{STACK_KEYS + ORGANISER_STACK_KEYS}"
            )
        return f"{self.prefix}-{key}"

    @property
    def shared_names(self) -> list[str]:
        """Names of what the stacks create and every attendee shares: stack names (the start
        of generated names), endpoints, pipelines, registry groups, the alerts topic."""
        return [
            *(self.stack_name(key) for key in STACK_KEYS),
            self.ab_endpoint_name,
            self.byom_endpoint_name,
            *self.pipeline_names,
            self.bank_model_package_group,
            self.bike_model_package_group,
            self.alerts_topic_name,
        ]

    @property
    def alerts_topic_name(self) -> str:
        """The guardrails' SNS topic; alarms of other stacks address it by this name."""
        return f"{self.prefix}-alerts"

    @property
    def workshop_parameter_name(self) -> str:
        """The SSM parameter holding the names the labs need (written into each notebook)."""
        return f"/{self.prefix}/workshop"

    def attendee_parameter_name(self, part: int | str) -> str:
        """The n-th SSM parameter of the attendees' own entries (their role, their image
        repository), under the workshop parameter's name: one parameter would outgrow SSM's
        4 KB at large workshops."""
        return f"{self.workshop_parameter_name}/attendees/{part}"

    @property
    def tags(self) -> dict[str, str]:
        """Tags on every resource: cost allocation and the janitor's scope both key on them."""
        return {"workshop": self.prefix}


class ConfigError(ValueError):
    """A workshop configuration that cannot be used; the message names every bad key."""


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _set_dotted(target: dict[str, Any], dotted_key: str, value: Any) -> None:
    *parents, leaf = dotted_key.split(".")
    node = target
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{dotted_key}: {part} is not a section")
        node = child
    node[leaf] = value


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _parse_context_value(value: Any) -> Any:
    """``-c key=value`` arrives as a string; JSON lists, objects, booleans and null are accepted."""
    literal = value in ("true", "false", "null") if isinstance(value, str) else False
    if isinstance(value, str) and (value.startswith(("[", "{")) or literal):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _known_keys(model: type[BaseModel] = WorkshopConfig, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys.add(prefix + name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _known_keys(annotation, f"{prefix}{name}.")
    return keys


def _field_info(loc: tuple[Any, ...]):
    """The FieldInfo addressed by a pydantic error location (skipping union/list branches)."""
    model: type[BaseModel] | None = WorkshopConfig
    info = None
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            break
        info = model.model_fields[part]
        annotation = info.annotation
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return info


def _explain(error: ValidationError) -> str:
    lines: dict[str, str] = {}
    for item in error.errors():
        fields = [part for part in item["loc"] if isinstance(part, str) and not _is_branch(part)]
        key = ".".join(fields) or "(config)"
        if key in lines:  # one line per key, even when a union reports each branch
            continue
        if item["type"] == "extra_forbidden":
            lines[key] = f"{key}: unknown key; known keys: {', '.join(sorted(_known_keys()))}"
            continue
        if item["type"] == "platform_retired":  # its message names the date, page and choices
            lines[key] = f"{key}: {item['input']} is not allowed; {item['msg']}"
            continue
        if item["type"] == "value_error" and isinstance(item.get("input"), dict):
            # A rule across a section's keys (a model validator): its message names them.
            lines[key] = f"{key}: {item['msg'].removeprefix('Value error, ')}"
            continue
        info = _field_info(tuple(fields))
        extra = (info.json_schema_extra or {}) if info else {}
        hint = extra.get("allowed") if isinstance(extra, dict) else None
        value = item.get("input")
        shown = json.dumps(value, default=str) if not isinstance(value, str) else value
        if hint:
            lines[key] = f"{key}: {shown} is not allowed; use {hint}"
        else:
            lines[key] = f"{key}: {shown} is not allowed; {item['msg']}"
    return "\n".join(lines.values())


def _is_branch(part: str) -> bool:
    # pydantic names union branches after their types ("int", "list[constrained-str]").
    return part in {"int", "str", "float", "bool"} or "[" in part or part.startswith("function-")


def build_config(
    defaults: Mapping[str, Any] | None = None,
    yaml_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> WorkshopConfig:
    """Merge the layers (see module docstring) and validate; raise ConfigError on bad input."""
    merged: dict[str, Any] = dict(defaults or {})
    if yaml_file:
        path = Path(yaml_file)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"config: {yaml_file} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config: {yaml_file} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config: {yaml_file} must hold a mapping of keys to values")
        merged = _deep_merge(merged, loaded)
    known = _known_keys()
    dotted: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key not in known:
            raise ConfigError(f"{key}: unknown key; known keys: {', '.join(sorted(known))}")
        _set_dotted(dotted, key, _parse_context_value(value))
    merged = _deep_merge(merged, dotted)
    try:
        return WorkshopConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


def config_from_context(context: Mapping[str, Any]) -> WorkshopConfig:
    """The config as the CDK app sees it: cdk.json's ``workshop`` object plus ``-c`` keys."""
    defaults = context.get("workshop") or {}
    if isinstance(defaults, str):  # `-c workshop={...}` arrives as text
        defaults = json.loads(defaults)
    overrides = {
        key: value
        for key, value in context.items()
        if key not in ("workshop", "config") and not _CDK_OWN_KEY.match(key)
    }
    return build_config(defaults, context.get("config"), overrides)


def load_project_config(overrides: Mapping[str, Any] | None = None) -> WorkshopConfig:
    """The config from cdk.json (for the CLI and the local target, outside a CDK app)."""
    cdk_json = json.loads((PROJECT_ROOT / "cdk.json").read_text())
    context = dict(cdk_json.get("context", {}))
    context.update(overrides or {})
    return config_from_context(context)
