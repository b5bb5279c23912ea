"""Runs the local target's steps in order, each with its own wall time, and writes the report."""

from __future__ import annotations

import time
from collections.abc import Sequence

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.attendee_step import AttendeeEnvironmentStep
from workshopctl.local.labs_step import LabsStep
from workshopctl.local.report import terminal_summary, write_html
from workshopctl.local.synth_step import SynthStep
from workshopctl.local.workspace import Step, StepReport, Workspace, timed

DEFAULT_ROOT = PROJECT_ROOT / ".local"


def all_steps() -> list[Step]:
    """The rehearsal: what `cdk deploy` would deploy, then the workshop against it.

    Every module runs in the last step, as the attendee runs it: the lab notebooks against the
    emulated AWS account deployed from ``cdk.out``, then the deployed pipelines, the approval
    that promotes a model, the A/B endpoint, the traffic-shift function and the janitor, each
    as the role it has in AWS. Nothing runs beside that path."""
    return [
        SynthStep(),
        AttendeeEnvironmentStep(),  # module 1: the notebook's lifecycle scripts and idle stop
        LabsStep(),  # modules 1-7 and the MLOps stacks, against the emulated AWS account
    ]


def _step_logger(step_started: float):
    """Progress lines prefixed with the seconds since the step started."""

    def log(message: str) -> None:
        print(f"    {time.perf_counter() - step_started:6.1f}s  {message}", flush=True)

    return log


def run(steps: Sequence[Step], workspace: Workspace) -> tuple[list[StepReport], str | None]:
    """Run ``steps``; stop at the first failure. Returns the reports and the failure, if any."""
    reports: list[StepReport] = []
    started = time.perf_counter()
    for number, step in enumerate(steps, start=1):
        print(f"\n[{number}/{len(steps)}] {step.name}", flush=True)

        log = _step_logger(time.perf_counter())

        try:
            report = timed(step, workspace, log)
        except Exception as error:  # the report must still say what ran and what broke
            failure = f"{step.name}: {error}"
            print(f"    FAILED: {error}", flush=True)
            write_html(reports, workspace.root / "report.html", failed=failure)
            return reports, failure
        print(f"    done in {report.seconds:.1f} s", flush=True)
        reports.append(report)
    path = write_html(reports, workspace.root / "report.html")
    print(f"\nWorkshop rehearsal finished in {time.perf_counter() - started:.1f} s")
    print(terminal_summary(reports))
    print(f"\nReport: {path}\nLocal state: {workspace.root} (remove with `make down`)")
    return reports, None
