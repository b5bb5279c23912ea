"""Lambda entry points of the janitor.

``handler``: the scheduled run (EventBridge Scheduler at the session end). The event
``{"apply": true}`` deletes; any other event is a dry run that only logs the plan. The scope
comes from the function's environment, never from the event, so a schedule's input cannot widen
it:

    WORKSHOP_PREFIX    the config prefix (required), e.g. mlws
    WORKSHOP_BUCKETS   comma list of the workshop's bucket names (attendee prefixes are cleaned)
    WORKSHOP_DATABASE  Glue database (default <prefix>_datalake)
    WORKSHOP_WORKGROUP Athena workgroup (default <prefix>-workgroup)
    STACK_QUERY_NAMES  comma list of the stack's named queries (kept)
    STACK_TABLE_NAMES  comma list of the stack's Glue tables (kept; optional)
    WHOLE_ACCOUNT      true/false (default false): every resource of the janitor's kinds

``on_event``: a ``custom_resources.Provider`` on-event handler. Create and Update do nothing;
Delete (the stack being deleted) runs the janitor with apply, so ``cdk destroy`` alone also
removes what attendees made. It never raises on a partial failure (a wedged stack deletion
helps no one): every resource left is logged with its reason, and the summary is returned.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import boto3

from .aws import Clients
from .janitor import DEFAULT_WAIT_SECONDS, run
from .model import Report, Scope

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

# Leave time to answer CloudFormation (or finish logging) before Lambda's timeout.
SAFETY_MARGIN_SECONDS = 60.0
_TRUE, _FALSE = {"1", "true", "yes"}, {"", "0", "false", "no"}


def scope_from_environment(environ: Mapping[str, str] = os.environ) -> Scope:
    """The janitor's scope from the function's environment variables (see module docstring)."""
    whole_account = environ.get("WHOLE_ACCOUNT", "").strip().lower()
    if whole_account not in _TRUE | _FALSE:
        # A typo must not silently widen (or narrow) what gets deleted.
        raise ValueError(f"WHOLE_ACCOUNT={whole_account!r}: use true or false")
    return Scope(
        prefix=environ["WORKSHOP_PREFIX"],
        buckets=tuple(_names(environ.get("WORKSHOP_BUCKETS"))),
        database=environ.get("WORKSHOP_DATABASE", ""),
        workgroup=environ.get("WORKSHOP_WORKGROUP", ""),
        stack_query_names=frozenset(_names(environ.get("STACK_QUERY_NAMES"))),
        stack_table_names=frozenset(_names(environ.get("STACK_TABLE_NAMES"))),
        whole_account=whole_account in _TRUE,
    )


def handler(
    event: Mapping[str, Any] | None, context: Any, *, clients: Clients | None = None
) -> dict[str, Any]:
    """Scheduled run: the whole report as a JSON-able dict (dry run unless ``apply`` is true).

    ``clients`` is for tests; Lambda passes only the event and the context.
    """
    apply = (event or {}).get("apply") is True
    report = run(
        clients or Clients(boto3.Session()),
        scope_from_environment(),
        apply=apply,
        wait_seconds=_wait_seconds(context),
    )
    _log(report)
    return report.to_dict()


def on_event(
    event: Mapping[str, Any], context: Any, *, clients: Clients | None = None
) -> dict[str, Any]:
    """Custom resource: Create/Update → nothing; Delete → run with apply, never raise."""
    prefix = os.environ.get("WORKSHOP_PREFIX", "workshop")
    # Keep the id CloudFormation knows: a new id on Update would make it Delete the old one,
    # and Delete runs the janitor.
    physical_id = event.get("PhysicalResourceId") or f"{prefix}-janitor"
    if event.get("RequestType") != "Delete":
        return {"PhysicalResourceId": physical_id}
    try:
        report = run(
            clients or Clients(boto3.Session()),
            scope_from_environment(),
            apply=True,
            wait_seconds=_wait_seconds(context),
        )
    except Exception as error:
        LOG.exception("janitor run failed; the stack deletion goes on")
        return {
            "PhysicalResourceId": physical_id,
            "Data": {"complete": False, "error": f"{type(error).__name__}: {error}"[:500]},
        }
    _log(report)
    return {"PhysicalResourceId": physical_id, "Data": report.summary()}


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _wait_seconds(context: Any) -> float:
    """Time the run may spend waiting: what Lambda leaves us, minus the safety margin."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return DEFAULT_WAIT_SECONDS
    return max(0.0, min(DEFAULT_WAIT_SECONDS, remaining() / 1000 - SAFETY_MARGIN_SECONDS))


def _log(report: Report) -> None:
    LOG.info("janitor summary %s", json.dumps(report.summary()))
    for outcome in report.left:
        level = logging.ERROR if report.applied else logging.INFO
        LOG.log(
            level,
            "%s %s %s: %s",
            outcome.status,
            outcome.resource.kind,
            outcome.resource.name,
            outcome.detail or outcome.resource.reason,
        )
