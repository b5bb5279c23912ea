"""The workshop janitor: find what attendees left behind in the workshop's scope and remove it.

    clients = Clients(boto3.Session(region_name="eu-west-1"))
    resources = discover(clients, Scope("mlws", buckets=("mlws-raw-...",)))
    report = clean(resources, clients, apply=False)  # dry run: the plan, nothing deleted
    print(report.table())

Order of removal (``KINDS``): first whatever still produces resources is stopped (pipeline
executions, then tuning, training, processing and transform jobs), so nothing new appears
mid-run; then hosting from the top down (monitoring schedules → endpoints, with their scalable
targets → endpoint configs → models), pipelines, the model registry (packages before their
groups), Studio (apps → spaces → user profiles), notebook instances (stop, then delete), and
last the data: ECR images, S3 objects, Glue tables, Athena named queries, log groups and streams.

Every run is safe to repeat: "not found" counts as already gone, a failure is reported with its
reason and the run goes on, and what needs a later run (a notebook still stopping) is reported
pending. Standard library + boto3 only: this module also runs as a Lambda function.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from .aws import Clients, Discovery, Removal, as_clients, error_text, is_not_found
from .data_kinds import (
    ATHENA_NAMED_QUERY,
    ECR_IMAGES,
    GLUE_RUN_LOGS,
    GLUE_TABLE,
    LOG_GROUP,
    LOG_STREAMS,
    S3_OBJECTS,
)
from .model import FAILED, GONE, Kind, Outcome, Report, Resource, Scope
from .prices import Prices, load_prices
from .sagemaker_kinds import (
    ENDPOINT,
    ENDPOINT_CONFIG,
    MODEL,
    MODEL_PACKAGE,
    MODEL_PACKAGE_GROUP,
    MONITORING_SCHEDULE,
    NOTEBOOK_INSTANCE,
    PIPELINE,
    PIPELINE_EXECUTION,
    PROCESSING_JOB,
    STUDIO_APP,
    STUDIO_SPACE,
    TRAINING_JOB,
    TRANSFORM_JOB,
    TUNING_JOB,
    USER_PROFILE,
)

__all__ = ["KINDS", "Clients", "Report", "Resource", "Scope", "clean", "discover", "run"]

LOG = logging.getLogger(__name__)

KINDS: tuple[Kind, ...] = (
    PIPELINE_EXECUTION,
    TUNING_JOB,  # before training jobs: its own training jobs are then skipped, not double-counted
    TRAINING_JOB,
    PROCESSING_JOB,
    TRANSFORM_JOB,
    MONITORING_SCHEDULE,
    ENDPOINT,
    ENDPOINT_CONFIG,
    MODEL,
    PIPELINE,
    MODEL_PACKAGE,
    MODEL_PACKAGE_GROUP,
    STUDIO_APP,
    STUDIO_SPACE,
    USER_PROFILE,
    NOTEBOOK_INSTANCE,
    ECR_IMAGES,
    S3_OBJECTS,
    GLUE_TABLE,
    ATHENA_NAMED_QUERY,
    LOG_GROUP,  # last: endpoints and jobs found above name the log groups and streams in scope
    LOG_STREAMS,
    GLUE_RUN_LOGS,
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}
DEFAULT_WAIT_SECONDS = 300.0


def discover(
    session_or_clients: Any,
    scope: Scope,
    *,
    prices: Prices | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Resource]:
    """Everything of the janitor's kinds in ``scope``, in removal order. Deletes nothing.

    A kind that cannot be listed (no permission, an unexpected answer) appears as one Resource
    with ``error`` set, so the report says what was not looked at instead of claiming a clean
    account.
    """
    clients = as_clients(session_or_clients)
    discovery = Discovery(clients=clients, scope=scope, prices=prices or load_prices(), sleep=sleep)
    found: list[Resource] = []
    for kind in KINDS:
        try:
            for resource in kind.discover(discovery, clients.get(kind.service, kind=kind.name)):
                found.append(resource)
        except Exception as error:  # one kind's failure must not hide the other kinds
            LOG.warning("could not list %s: %s", kind.name, error_text(error), exc_info=True)
            found.append(Resource(kind.name, "*", "could not be listed", error=error_text(error)))
    return found


def clean(
    resources: Iterable[Resource],
    clients: Any,
    apply: bool,
    *,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Report:
    """Remove ``resources`` in ``KINDS`` order (``apply``) or return the plan (dry run).

    ``wait_seconds`` bounds all waiting together (a notebook stopping, Studio apps deleting);
    what is not ready by then is reported pending and the next run finishes it.
    """
    order = {kind.name: index for index, kind in enumerate(KINDS)}
    ordered = sorted(resources, key=lambda resource: order.get(resource.kind, len(order)))
    if not apply:
        return Report(False, tuple(_planned(resource) for resource in ordered))
    clients = as_clients(clients)
    removal = Removal(clients=clients, sleep=sleep, clock=clock, deadline=clock() + wait_seconds)
    outcomes = []
    for resource in ordered:
        outcome = _remove(removal, clients, resource)
        log = LOG.warning if outcome.status == FAILED else LOG.info
        log("%s %s %s %s", outcome.status, resource.kind, resource.name, outcome.detail)
        outcomes.append(outcome)
    return Report(True, tuple(outcomes))


def run(
    session_or_clients: Any,
    scope: Scope,
    *,
    apply: bool,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    prices: Prices | None = None,
) -> Report:
    """``discover`` then ``clean``: one janitor run."""
    clients = as_clients(session_or_clients)
    resources = discover(clients, scope, prices=prices)
    return clean(resources, clients, apply, wait_seconds=wait_seconds)


def _planned(resource: Resource) -> Outcome:
    if resource.error:
        return Outcome(resource, FAILED, f"could not list: {resource.error}")
    return Outcome(resource, f"would {KIND_BY_NAME[resource.kind].action}")


def _remove(removal: Removal, clients: Clients, resource: Resource) -> Outcome:
    if resource.error:
        return Outcome(resource, FAILED, f"could not list: {resource.error}")
    kind = KIND_BY_NAME[resource.kind]
    try:
        status, detail = kind.remove(removal, clients.get(kind.service, kind=kind.name), resource)
    except Exception as error:  # reported with its reason; the run goes on
        if is_not_found(error):
            return Outcome(resource, GONE)
        return Outcome(resource, FAILED, error_text(error))
    return Outcome(resource, status, detail)
