"""The janitor's records: what is in scope, what was found, and what happened to it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .prices import format_usd, sum_known

TAG_KEY = "workshop"
# CloudFormation puts this tag on what a stack creates; those resources go with their stack.
STACK_TAG = "aws:cloudformation:stack-name"
# Glue tables carry no tags: the data-lake stack marks its own tables with this table parameter.
STACK_TABLE_PARAMETER = ("workshop:owner", "stack")

# Outcome statuses. The first three mean "nothing of it is left to do".
DELETED = "deleted"
STOPPED = "stopped"
GONE = "already gone"
PENDING = "pending"
FAILED = "failed"
PLANNED = "planned"
DONE = frozenset({DELETED, STOPPED, GONE})


@dataclass(frozen=True)
class Scope:
    """What the janitor may touch.

    In scope: resources named ``<prefix>-...`` or tagged ``workshop=<prefix>``; with
    ``whole_account`` every resource of the janitor's kinds (a dedicated workshop account).
    Resources tagged by CloudFormation are left to their stacks in both modes (in-progress jobs
    are stopped regardless). S3 is only ever touched under the attendee prefixes of ``buckets``.
    """

    prefix: str
    buckets: tuple[str, ...] = ()
    database: str = ""  # default: <prefix with '_'>_datalake
    workgroup: str = ""  # default: <prefix>-workgroup
    stack_query_names: frozenset[str] = frozenset()
    # Defence in depth for stacks that do not (yet) mark their tables with STACK_TABLE_PARAMETER.
    stack_table_names: frozenset[str] = frozenset()
    whole_account: bool = False
    attendee_root: str = "attendees/"  # one folder per attendee below it
    shared_prefixes: tuple[str, ...] = ("scratch/",)

    def __post_init__(self) -> None:
        if not self.prefix or "/" in self.prefix:
            raise ValueError(f"scope prefix {self.prefix!r} must be a plain non-empty name")
        # A frozen dataclass fills its derived defaults through object.__setattr__.
        if not self.database:
            object.__setattr__(self, "database", f"{self.prefix.replace('-', '_')}_datalake")
        if not self.workgroup:
            object.__setattr__(self, "workgroup", f"{self.prefix}-workgroup")
        object.__setattr__(self, "buckets", tuple(self.buckets))
        object.__setattr__(self, "stack_query_names", frozenset(self.stack_query_names))
        object.__setattr__(self, "stack_table_names", frozenset(self.stack_table_names))

    @property
    def name_prefix(self) -> str:
        return f"{self.prefix}-"

    def reason(self, name: str, tags: Mapping[str, str] | None = None) -> str | None:
        """Why a resource with this name and these tags is in scope, or None if it is not."""
        if self.whole_account:
            return "whole account"
        if name.startswith(self.name_prefix):
            return f"name starts with {self.name_prefix}"
        if (tags or {}).get(TAG_KEY) == self.prefix:
            return f"tagged {TAG_KEY}={self.prefix}"
        return None


def owned_by_stack(tags: Mapping[str, str]) -> bool:
    """True for what a CloudFormation stack created (its stack deletes it)."""
    return STACK_TAG in tags


@dataclass(frozen=True)
class Resource:
    """One thing the janitor found in scope (or a kind it could not list: ``error`` set)."""

    kind: str
    name: str
    reason: str
    arn: str = ""
    state: str = ""
    instance_type: str | None = None
    instance_count: int = 0
    hourly_usd: float | None = 0.0  # None: the price of its instance type is unknown
    ids: Mapping[str, str] = field(default_factory=dict)  # what the delete call needs
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "arn": self.arn,
            "state": self.state,
            "instance_type": self.instance_type,
            "instance_count": self.instance_count,
            "hourly_usd": self.hourly_usd,
            "reason": self.reason,
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class Kind:
    """One kind of resource: how to find it in scope and how to remove one.

    ``discover(discovery, client)`` yields Resources; ``remove(removal, client, resource)``
    returns ``(status, detail)`` or raises (a "not found" error then means already gone).
    ``client`` is ``clients.get(service, kind=name)``.
    """

    name: str
    service: str
    action: str  # what the plan says will happen: "delete", "stop", "stop, then delete"
    discover: Callable[[Any, Any], Iterable[Resource]]
    remove: Callable[[Any, Any, Resource], tuple[str, str]]


@dataclass(frozen=True)
class Outcome:
    resource: Resource
    status: str
    detail: str = ""

    @property
    def done(self) -> bool:
        return self.status in DONE

    def to_dict(self) -> dict[str, Any]:
        return {**self.resource.to_dict(), "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Report:
    """What a run did (``applied``) or would do (a dry run), one outcome per resource."""

    applied: bool
    outcomes: tuple[Outcome, ...]

    @property
    def complete(self) -> bool:
        """True when nothing in scope is left: a dry run is complete only if it found nothing."""
        if not self.applied:
            return not self.outcomes
        return all(outcome.done for outcome in self.outcomes)

    @property
    def left(self) -> list[Outcome]:
        """What still exists after this run (everything, for a dry run)."""
        return [outcome for outcome in self.outcomes if not outcome.done]

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == FAILED]

    @property
    def hourly_usd(self) -> tuple[float, int]:
        """(known hourly cost of everything found, number of resources of unknown cost)."""
        return sum_known([outcome.resource.hourly_usd for outcome in self.outcomes])

    def summary(self) -> dict[str, Any]:
        """Small and flat: fits a CloudFormation custom-resource response and a log line."""
        known, unknown = self.hourly_usd
        statuses = Counter(outcome.status for outcome in self.outcomes)
        return {
            "applied": self.applied,
            "complete": self.complete,
            "found": len(self.outcomes),
            **{status.replace(" ", "_"): count for status, count in sorted(statuses.items())},
            "hourly_usd": round(known, 4),
            "unknown_cost": unknown,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "outcomes": [outcome.to_dict() for outcome in self.outcomes]}

    def table(self) -> str:
        """The plan (dry run) or the result as an aligned text table with the hourly total."""
        header = ("status", "kind", "name", "state", "instances", "$/hour", "why")
        rows = [header]
        for outcome in self.outcomes:
            resource = outcome.resource
            instances = (
                f"{resource.instance_count} x {resource.instance_type}"
                if resource.instance_type
                else "-"
            )
            known_free = resource.hourly_usd == 0 and not resource.instance_type
            cost = "-" if known_free else format_usd(resource.hourly_usd)
            why = resource.reason
            if outcome.detail:
                why = f"{why}; {outcome.detail}"
            rows.append(
                (outcome.status, resource.kind, resource.name, resource.state, instances, cost, why)
            )
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) - 1)]
        lines = [
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + str(row[-1])
            for row in rows
        ]
        known, unknown = self.hourly_usd
        total = f"total: {len(self.outcomes)} resources, {format_usd(known)} USD/hour"
        if unknown:
            total += f" + {unknown} of unknown cost (?)"
        return "\n".join([*lines, total])
