"""The lab notebooks on the local target: each one executed top to bottom, saved as HTML.

The notebooks in ``labs/`` run in fresh Jupyter kernels with ``WORKSHOP_TARGET=local``, so their
helper (``labs/workshop.py``) routes every AWS call to the local equivalents, against this
workspace. They run in the workshop's order (later modules read what earlier ones left), each
within a time limit, and each one's executed copy is written to ``<workspace>/labs/`` as
``.ipynb`` and as HTML (nbconvert), errors included, for the report to link.
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
# The notebook instance's kernels, as the local target runs them: with this Python, which has
# the labs' dependencies (requirements-local.txt); no conda env exists here.
LOCAL_KERNELS = {NOTEBOOK_KERNEL: LOCAL_KERNEL, LOCAL_KERNEL: LOCAL_KERNEL}
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


def kernel_environment(workspace_root: Path, settings: Mapping[str, str] | None = None):
    """The kernel's environment: the local target, this workspace, and plots inline (a caller's
    ``MPLBACKEND=Agg`` would make ``plt.show()`` draw nothing into the notebook)."""
    return {
        **os.environ,
        "WORKSHOP_TARGET": "local",
        "WORKSHOP_LOCAL_ROOT": str(workspace_root),
        "MPLBACKEND": INLINE_PLOTS,
        **(settings or {}),
    }


def execute_notebook(
    path: Path,
    *,
    workspace_root: Path,
    output_dir: Path,
    settings: Mapping[str, str] | None = None,
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
        kernel_name=local_kernel(notebook, path),  # the declared kernel exists on AWS only
        timeout_func=remaining,
        resources={"metadata": {"path": str(path.parent)}},  # `import workshop` finds it
    )
    status, error = "ok", None
    try:
        client.execute(env=kernel_environment(workspace_root, settings))
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


def _last_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]) if lines else type(error).__name__


def _html(notebook) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return body


class LabsStep:
    """Every lab notebook in local mode, as an attendee would run them, into HTML."""

    name = "labs"

    def __init__(
        self,
        settings: Mapping[str, str] | None = None,
        time_limit: float = DEFAULT_TIME_LIMIT,
        folder: Path = LABS_DIR,
    ) -> None:
        """``settings``: extra kernel environment, e.g. ``{"WORKSHOP_LOCAL_TUNING_JOBS": "6"}``
        (fewer local tuning trials) or ``{"WORKSHOP_REVIEWS_SCALE": "0.2"}``."""
        self.settings = dict(settings or {})
        self.time_limit = time_limit
        self.folder = folder

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        output_dir = workspace.root / "labs"
        runs = []
        for path in notebooks(self.folder):
            log(f"labs: {path.name}")
            run = execute_notebook(
                path,
                workspace_root=workspace.root,
                output_dir=output_dir,
                settings=self.settings,
                timeout=self.time_limit,
            )
            log(f"labs: {run.name} {run.status} in {run.seconds:.1f} s"
                + (f": {run.error}" if run.error else ""))  # fmt: skip
            runs.append(run)
        failed = [run for run in runs if run.status != "ok"]
        if failed:
            raise RuntimeError(
                "; ".join(
                    f"{run.name} {run.status} ({run.error}), see {run.html}" for run in failed
                )
            )
        return _report(runs, output_dir)


def _report(runs: list[NotebookRun], output_dir: Path) -> StepReport:
    report = StepReport(title="Lab notebooks (local mode, executed top to bottom)")
    report.lines.append(
        f"{len(runs)} notebooks executed in fresh kernels with WORKSHOP_TARGET=local; "
        f"executed copies and HTML in {output_dir}"
    )
    report.tables["lab notebooks"] = [
        {"notebook": run.name, "status": run.status, "seconds": round(run.seconds, 1),
         "html": run.html.name}
        for run in runs
    ]  # fmt: skip
    report.metrics.append(
        Metric("lab notebooks executed without error", sum(r.status == "ok" for r in runs),
               f"== {len(runs)}", all(r.status == "ok" for r in runs))
    )  # fmt: skip
    report.artifacts += [run.html for run in runs]
    return report
