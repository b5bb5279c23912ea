"""The lab notebooks in the rehearsal: each one executed top to bottom against the emulated
AWS account deployed from the synthesized cloud assembly, saved as HTML.

The notebooks in ``labs/`` run in fresh Jupyter kernels whose AWS settings (``AWS_ENDPOINT_URL``,
region, an access key of the attendee notebook's role) point at the emulator, so their helper
(``labs/workshop.py``) runs its one code path, the AWS one, and every call is decided by the
synthesized IAM policies. They run in the workshop's order (later modules read what earlier
ones left), each within a time limit, and each one's executed copy is written to
``<workspace>/labs/`` as ``.ipynb`` and as HTML (nbconvert), errors included, for the report to
link; ``<workspace>/api-calls.json`` holds every AWS call of every lab. The report gives each
lab's wall time, the AWS time it waited for (jobs, endpoints, queries, pipeline executions it
started and polled to their end, overlaps counted once: :mod:`workshopctl.emulator.waits`) and
what its calls would cost in AWS.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.workspace import Log, Metric, StepReport, Workspace

LABS_DIR = PROJECT_ROOT / "labs"
NOTEBOOK_KERNEL = "conda_python3"  # what the labs declare: the notebook instance's kernel
LOCAL_KERNEL = "python3"  # the kernel of the Python that runs this (ipykernel's native kernel)
# The notebook instance's kernels, as the local target runs them: conda_python3 by the labs'
# kernel (its Python and the SDK the labs teach, from the kernel lock:
# workshop_artifacts/runtimes.py lab_kernel), python3 (a notebook declaring none) by this Python.
LOCAL_KERNELS = {NOTEBOOK_KERNEL: NOTEBOOK_KERNEL, LOCAL_KERNEL: LOCAL_KERNEL}
DEFAULT_TIME_LIMIT = 300.0  # seconds per notebook
INLINE_PLOTS = "module://matplotlib_inline.backend_inline"  # ipykernel's own default


def notebooks(folder: Path = LABS_DIR) -> list[Path]:
    """The lab notebooks in the workshop's order: 1, 2, ..., 6.1, 6.2, 7."""

    def module(path: Path) -> tuple[int, ...]:
        number = re.match(r"^(\d+(?:\.\d+)*)-", path.name)
        if number is None:
            raise ValueError(f"{path.name}: a lab notebook's name starts with its module number")
        return tuple(int(part) for part in number.group(1).split("."))

    return sorted(folder.glob("*.ipynb"), key=module)


@dataclass
class NotebookRun:
    """One notebook's execution: ``ok``, ``failed`` or ``timed out``, with its copies."""

    name: str
    status: str
    seconds: float
    executed: Path  # the executed .ipynb, outputs included
    html: Path
    error: str | None = None


def local_kernel(notebook, path: Path) -> str:
    """The local kernel that runs ``notebook``: its declared kernel mapped through
    LOCAL_KERNELS (none declared: the local one). Raises ValueError for a kernel the local
    target cannot stand in for, rather than running the notebook on the wrong one."""
    declared = notebook.metadata.get("kernelspec", {}).get("name")
    if declared is None:
        return LOCAL_KERNEL
    if declared not in LOCAL_KERNELS:
        raise ValueError(
            f"{path.name} declares the kernel {declared!r}; the local target runs "
            f"{', '.join(sorted(LOCAL_KERNELS))}"
        )
    return LOCAL_KERNELS[declared]


def kernel_environment(settings: Mapping[str, str]):
    """The kernel's environment: the caller's, the lab's AWS settings, and plots inline (a
    caller's ``MPLBACKEND=Agg`` would make ``plt.show()`` draw nothing into the notebook)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**inherited, "MPLBACKEND": INLINE_PLOTS, **settings}


def execute_notebook(
    path: Path,
    *,
    output_dir: Path,
    settings: Mapping[str, str],
    timeout: float = DEFAULT_TIME_LIMIT,
) -> NotebookRun:
    """Run ``path`` top to bottom in a new kernel; the whole notebook gets ``timeout`` seconds
    (each cell gets what is left of them). Never raises for a failing notebook: the run says."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()

    def remaining(cell) -> int:
        return max(1, int(timeout - (time.perf_counter() - started)))

    client = NotebookClient(
        notebook,
        km=_kernel_manager(local_kernel(notebook, path)),
        timeout_func=remaining,
        resources={"metadata": {"path": str(path.parent)}},  # `import workshop` finds it
    )
    status, error = "ok", None
    try:
        client.execute(env=kernel_environment(settings))
    except CellTimeoutError as failure:
        status, error = "timed out", f"over {timeout:.0f} s: {_last_line(failure)}"
    except (CellExecutionError, DeadKernelError) as failure:
        status, error = "failed", _last_line(failure)
    seconds = time.perf_counter() - started
    output_dir.mkdir(parents=True, exist_ok=True)
    executed = output_dir / path.name
    nbformat.write(notebook, executed)
    html = output_dir / f"{path.stem}.html"
    html.write_text(_html(notebook), encoding="utf-8")
    return NotebookRun(path.stem, status, seconds, executed, html, error)


def _kernel_manager(kernel: str):
    """A manager of ``kernel``: the labs' own kernelspec for the notebook's kernel (built on
    first use), Jupyter's installed ones otherwise. Asynchronous, as nbclient's own default:
    its cell timeouts wait on the async client's channels."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    if kernel != NOTEBOOK_KERNEL:
        return AsyncKernelManager(kernel_name=kernel)
    from workshop_artifacts.runtimes import lab_kernel

    specs = KernelSpecManager(kernel_dirs=[str(lab_kernel())])
    return AsyncKernelManager(kernel_name=kernel, kernel_spec_manager=specs)


def _last_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]) if lines else type(error).__name__


def _html(notebook) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return body


class LabsStep:
    """Every lab notebook against the emulated account, as an attendee would run them."""

    name = "labs (against the emulated AWS account deployed from cdk.out)"

    def __init__(
        self,
        time_limit: float = DEFAULT_TIME_LIMIT,
        folder: Path = LABS_DIR,
        cdk_out: Path | None = None,
        pipeline_parameters: dict[str, dict] | None = None,
    ) -> None:
        """``pipeline_parameters``: by pipeline name, what the attendee overrides when they
        start it after the labs (none: each pipeline's defaults, as deployed)."""
        self.time_limit = time_limit
        self.folder = folder
        self.cdk_out = cdk_out
        self.pipeline_parameters = pipeline_parameters

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        from workshopctl.emulator import rehearsal
        from workshopctl.local.synth_step import CDK_OUT

        started = time.perf_counter()
        session = rehearsal.start(self.cdk_out or CDK_OUT, workspace.root / "emulator")
        log(f"emulated account at {session.account.url} in {time.perf_counter() - started:.1f} s: "
            f"{session.deployment.summary()}")  # fmt: skip
        try:
            return self.run_in(session, workspace, log)
        finally:
            session.account.log.write(workspace.root / "api-calls.json")
            session.stop()

    def run_in(self, session, workspace: Workspace, log: Log, *, checks: bool = True):
        """The notebooks against an account already serving (``session``: a Rehearsal); then,
        with ``checks``, the serving stack's endpoint and functions and the janitor on it."""
        from workshopctl.local.deployed_checks import check_janitor, check_serving
        from workshopctl.local.mlops_checks import check_pipelines, check_promotion

        runs = run_labs(session, workspace.root, log, self.time_limit, self.folder)
        failed = [run for run in runs if run.status != "ok"]
        if failed:
            raise RuntimeError(
                "; ".join(
                    f"{run.name} {run.status} ({run.error}), see {run.html}" for run in failed
                )
            )
        report = _report(runs, workspace.root / "labs", session, workspace.root / "api-calls.json")
        if checks:
            serving = check_serving(session, log)
            pipelines = check_pipelines(session, log, self.pipeline_parameters)
            bank_registered = any(row["step"].endswith("RegisterModel")
                                  and row["status"] == "Succeeded"
                                  for check in pipelines for row in check.steps)  # fmt: skip
            promotion = check_promotion(session, log) if bank_registered else None
            janitor = check_janitor(session, log)
            _report_checks(report, serving, janitor, session)
            _report_mlops(report, pipelines, promotion)
            problems = [m.name for m in report.metrics if m.met is False]
            if problems:
                raise RuntimeError(f"the rehearsal's checks failed: {'; '.join(problems)}")
        return report


def _report_checks(report: StepReport, serving, janitor, session) -> None:
    report.tables["A/B endpoint as deployed, then moved by the traffic-shift function"] = (
        serving.split
    )
    worst = max(abs(row["share"] - row["weight"]) for row in serving.split)
    report.metrics.append(
        Metric(f"{serving.endpoint}: largest gap between a variant's share and its weight",
               round(worst, 3), "<= 0.05", serving.ok)
    )  # fmt: skip
    report.tables["janitor dry run after the labs: what they left"] = [
        {k: row.get(k) for k in ("kind", "name", "status", "reason")} for row in janitor.found
    ]
    report.metrics.append(
        Metric("resources left after the janitor's apply", len(janitor.left), "== 0", janitor.ok)
    )
    denials = session.account.log.denials()
    report.metrics.append(
        Metric("AWS calls denied (labs, functions, jobs, endpoints)", len(denials), "== 0",
               not denials)
    )  # fmt: skip


def _report_mlops(report: StepReport, pipelines, promotion) -> None:
    """Each pipeline's steps and gate; the approved model's way into the A/B endpoint."""
    for check in pipelines:
        report.tables[f"pipeline {check.pipeline}: {check.status} in {check.seconds:.0f} s"] = (
            check.steps
        )
        if check.gate is not None:
            gate = check.gate
            sense = ">=" if "Greater" in gate["comparison"] else "<="
            report.metrics.append(
                Metric(f"{check.pipeline}: {gate['metric']} (the pipeline's gate)",
                       gate["value"], f"{sense} {gate['threshold']:g}", gate["passed"])
            )  # fmt: skip
        else:
            report.metrics.append(
                Metric(f"{check.pipeline}: execution", check.status, "Succeeded",
                       check.status == "Succeeded")
            )  # fmt: skip
    if promotion is None:
        report.metrics.append(
            Metric("approved bank model → A/B challenger", "nothing registered", "promoted", False)
        )
        return
    report.tables["promotion: approval → EventBridge rule → function → endpoint"] = [
        {"package": promotion.package, "rule": promotion.delivery["rule"].rsplit("/", 1)[-1],
         "function": promotion.delivery["function"], "delivery": promotion.delivery["status"],
         "attempts": promotion.delivery["attempts"],
         "answer": (promotion.delivery["result"] or {}).get("action", promotion.delivery["error"]),
         "challenger serves": promotion.challenger_model_data,
         "challenger answers the endpoint's callers": promotion.challenger_answer}
    ]  # fmt: skip
    report.metrics.append(
        Metric(f"approved bank model serves as {promotion.endpoint}'s challenger",
               (promotion.delivery["result"] or {}).get("action", "not promoted"), "promoted",
               promotion.ok)
    )  # fmt: skip


def lab_label(stem: str) -> str:
    return f"lab {stem}"


def run_labs(session, root: Path, log: Log, time_limit: float, folder: Path = LABS_DIR):
    """Each notebook in order, as the first attendee, against ``session``'s account."""
    runs = []
    for path in notebooks(folder):
        log(f"labs: {path.name}")
        settings = session.lab_environment(lab_label(path.stem), root / "notebook-home")
        run = execute_notebook(
            path, output_dir=root / "labs", settings=settings, timeout=time_limit
        )
        log(f"labs: {run.name} {run.status} in {run.seconds:.1f} s"
            + (f": {run.error}" if run.error else ""))  # fmt: skip
        runs.append(run)
    return runs


def _report(runs: list[NotebookRun], output_dir: Path, session, calls: Path) -> StepReport:
    report = StepReport(title="Lab notebooks (executed top to bottom against the emulated AWS)")
    report.lines.append(
        f"{len(runs)} notebooks executed in fresh kernels as the attendee notebook's role; "
        f"executed copies and HTML in {output_dir}; every AWS call in {calls}"
    )
    from workshopctl.emulator.costs import bill
    from workshopctl.emulator.waits import waited_seconds

    log = session.account.log
    calls = {run.name: log.calls(lab_label(run.name)) for run in runs}
    report.tables["lab notebooks"] = [
        {"notebook": run.name, "status": run.status, "seconds": round(run.seconds, 1),
         "AWS time waited for (s)": round(waited_seconds(calls[run.name]), 1),
         "AWS calls": len(calls[run.name]),
         "denied": sum(c.denied for c in calls[run.name]),
         "AWS cost of the same calls": str(bill(c.usage for c in calls[run.name])),
         "html": run.html.name}
        for run in runs
    ]  # fmt: skip
    labels = {lab_label(run.name) for run in runs}
    denials = [call for label, call in log.denials() if label in labels]
    report.metrics.append(
        Metric("lab notebooks executed without error", sum(r.status == "ok" for r in runs),
               f"== {len(runs)}", all(r.status == "ok" for r in runs))
    )  # fmt: skip
    report.metrics.append(Metric("labs' AWS calls denied by the synthesized policies", len(denials),
                                 "== 0", not denials))  # fmt: skip
    waited = sum(waited_seconds(calls[run.name]) for run in runs)
    report.metrics.append(
        Metric(f"labs' wall time waiting for AWS, of {sum(r.seconds for r in runs):.0f} s (s)",
               round(waited, 1))
    )  # fmt: skip
    report.artifacts += [run.html for run in runs]
    return report
