"""Wall time of each stack in a ``cdk deploy --all`` or ``cdk destroy --all`` run, read from
CloudFormation's stack events afterwards (issue 18, point 5).

Why the events and not the CLI's output: the CLI's output goes straight to the terminal (its
approval prompt needs it), and ``cdk destroy`` prints no times at all. A stack's events give,
for deploy and destroy alike, the time from CloudFormation's first event of the operation to its
last (what the CLI's "Deployment time" shows, without asset publishing); a deleted stack's
events stay readable by its stack id for 90 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STACK_TYPE = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class StackTiming:
    stack: str
    status: str  # the operation's last stack status (CREATE_COMPLETE, DELETE_COMPLETE, ...)
    started: datetime
    ended: datetime | None  # None: still in progress

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else (self.ended - self.started).total_seconds()


def stack_timings(cloudformation: Any, prefix: str, since: datetime) -> list[StackTiming]:
    """One timing per ``<prefix>-*`` stack with stack events at or after ``since``."""
    timings = []
    paginator = cloudformation.get_paginator("list_stacks")
    for page in paginator.paginate():
        for stack in page.get("StackSummaries", []):
            if not stack["StackName"].startswith(f"{prefix}-"):
                continue
            timing = _timing(cloudformation, stack, since)
            if timing is not None:
                timings.append(timing)
    return sorted(timings, key=lambda timing: (timing.started, timing.stack))


def _events(cloudformation: Any, stack_id: str, since: datetime) -> Iterator[dict[str, Any]]:
    paginator = cloudformation.get_paginator("describe_stack_events")
    for page in paginator.paginate(StackName=stack_id):
        for event in page.get("StackEvents", []):  # newest first
            if event["Timestamp"] < since:
                return
            yield event


def _timing(cloudformation: Any, stack: dict[str, Any], since: datetime) -> StackTiming | None:
    own = [
        event
        for event in _events(cloudformation, stack["StackId"], since)
        if event.get("ResourceType") == STACK_TYPE
        and event.get("LogicalResourceId") == stack["StackName"]
    ]
    if not own:
        return None
    own.sort(key=lambda event: event["Timestamp"])
    last = own[-1]
    finished = not last["ResourceStatus"].endswith("_IN_PROGRESS")
    return StackTiming(
        stack["StackName"],
        last["ResourceStatus"],
        own[0]["Timestamp"],
        last["Timestamp"] if finished else None,
    )


def format_timings(timings: list[StackTiming], what: str, wall_seconds: float) -> str:
    """The summary table printed at the end of ``make deploy`` / ``make destroy``."""
    if not timings:
        return f"{what}: {wall_seconds:.0f} s in all; no stack events in that time"
    start = min(timing.started for timing in timings)
    rows = [("stack", "status", "started at", "wall time")]
    for timing in timings:
        offset = (timing.started - start).total_seconds()
        seconds = timing.seconds
        rows.append(
            (
                timing.stack,
                timing.status,
                f"+{offset:.0f} s",
                "running" if seconds is None else f"{seconds:.0f} s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.append(
        f"{what}: {wall_seconds:.0f} s in all (CLI run, asset publishing included); stack times "
        "from CloudFormation events"
    )
    return "\n".join([f"{what} per stack:", *lines])


def report(session: Any, region: str, prefix: str, since: datetime, what: str, wall: float) -> str:
    """Best effort: the table, or one line saying why there is none (never fails the run)."""
    try:
        cloudformation = session.client("cloudformation", region_name=region)
        return format_timings(stack_timings(cloudformation, prefix, since), what, wall)
    except Exception as error:  # timings are information; a failure here must not fail a deploy
        return f"{what}: {wall:.0f} s in all; stack times unavailable ({type(error).__name__})"
