"""Model-quality benchmark: the workshop's ML on the local target, each metric next to its target.

    .venv/bin/python bench/model_quality.py [--keep DIR]

Runs BikeSharingStep (modules 2-3) and TuningStep for both bank feature sets (module 6; 20
trials each, from the tuning spec) in a throw-away workspace, through the same SageMaker-contract
programs the local target uses. Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from workshopctl.local.ml_steps import BikeSharingStep, TuningStep
from workshopctl.local.workspace import Workspace, timed


def main() -> int:
    """Run the steps, print the table; non-zero exit when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="workspace folder to keep (default: temp)")
    parser.add_argument("--verbose", action="store_true", help="show the jobs' output")
    args = parser.parse_args()
    log = print if args.verbose else (lambda line: None)
    steps = [
        ("bike, Kaggle split", BikeSharingStep()),
        ("bank, workshop features", TuningStep("workshop")),
        ("bank, recommended features", TuningStep("recommended")),
    ]
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace(args.keep or Path(scratch) / ".local")
        for label, step in steps:
            report = timed(step, workspace, log)
            for metric in report.metrics:
                rows.append((label, metric, report.seconds))
            print(f"[{label}] done in {report.seconds:.1f} s", flush=True)
    print()
    print(f"{'case':28} {'metric':42} {'value':>9}  {'target':9} {'met'}")
    for label, metric, _ in rows:
        met = "" if metric.met is None else ("yes" if metric.met else "NO")
        print(f"{label:28} {metric.name:42} {metric.value:9.4f}  {metric.target:9} {met}")
    print(f"\ntotal wall time {time.perf_counter() - started:.1f} s")
    return 1 if any(m.met is False for _, m, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
