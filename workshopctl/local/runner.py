"""Runs the local target's steps in order, each with its own wall time, and writes the report."""

from __future__ import annotations

import time
from collections.abc import Sequence

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.attendee_step import AttendeeEnvironmentStep
from workshopctl.local.byom_step import ByomScikitStep
from workshopctl.local.data_lake_step import DataLakeStep
from workshopctl.local.labs_step import LabsStep
from workshopctl.local.ml_steps import BankMarketingStep, BikeSharingStep, TuningStep
from workshopctl.local.pipelines_step import PipelinesStep
from workshopctl.local.report import terminal_summary, write_html
from workshopctl.local.reviews_step import ReviewsStep
from workshopctl.local.synth_step import SynthStep
from workshopctl.local.workspace import Step, StepReport, Workspace, timed

DEFAULT_ROOT = PROJECT_ROOT / ".local"


def all_steps() -> list[Step]:
    """The workshop's modules in the order they are taught; each adds one line here."""
    return [
        SynthStep(),
        AttendeeEnvironmentStep(),  # module 1: the notebook's lifecycle scripts and idle stop
        DataLakeStep(),  # module 2: data engineering
        BikeSharingStep(),  # modules 2-3: regression
        ReviewsStep(),  # module 4: big data (Spark ETL → Parquet; DuckDB plays Athena)
        BankMarketingStep("workshop"),  # module 5: classification
        TuningStep("workshop"),  # modules 6.1-6.2: Bayesian tuning and its analysis
        PipelinesStep(),  # modules 5-7 as SageMaker Pipelines, the synthesized definitions
        ByomScikitStep(),  # module 7: bring-your-own container
        LabsStep(),  # every lab notebook, top to bottom, against the emulated AWS account
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
