"""Benchmark: what `make synth` costs, against an empty CDK app measured the same way.

    .venv/bin/python bench/synth.py            # 3 runs each, alternated
    .venv/bin/python bench/synth.py --runs 5

Both apps are synthesized by the pinned CDK CLI (`npx --no-install cdk synth --quiet`, the
command `make synth` runs) into a fresh output folder, alternating, and the medians are
compared. The empty app is what `cdk init app --language python` generates: one stack with no
resources, in the same Python with the same aws-cdk-lib (so it pays jsii's start-up and CDK's
own template validation once, as every CDK app does). The workshop app runs as `make synth`
runs it: its three security packs fail it on any finding; aws-cdk-lib's built-in template
validation is off (app.py says why; it runs as an error-level gate in the tests instead); its
content-addressed caches are warm (`.cache/`: the serving models, the pipelines' source
tarball and definitions, the reviews corpus), as on any synth after a machine's first.

Target: the workshop app <= 2x the empty app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EMPTY_APP = """import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "EmptyStack")
app.synth()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_HOME": str(REPO / ".cache" / "cdk"),
    }
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as folder:
        empty = Path(folder) / "empty_app.py"
        empty.write_text(EMPTY_APP)
        apps = {
            "empty app": f"{sys.executable} {empty}",
            "workshop app": f"{sys.executable} app.py",
        }
        _synth(apps["workshop app"], Path(folder) / "warm", env)  # fill the caches once
        times: dict[str, list[float]] = {name: [] for name in apps}
        for index in range(args.runs):
            order = list(apps) if index % 2 == 0 else list(reversed(apps))
            for name in order:
                times[name].append(_synth(apps[name], Path(folder) / f"out-{name}-{index}", env))
    print(
        f"synth through the pinned CDK CLI, fresh output folder, {args.runs} runs each "
        f"alternated, {os.cpu_count()} cores"
    )
    for name, seconds in times.items():
        runs = " ".join(f"{value:.1f}" for value in seconds)
        print(f"{name:>13}: median {statistics.median(seconds):5.1f} s  (runs: {runs})")
    ratio = statistics.median(times["workshop app"]) / statistics.median(times["empty app"])
    print(
        f"ratio workshop / empty: {ratio:.2f}x (target <= 2x: {'MET' if ratio <= 2 else 'MISSED'})"
    )
    return 0


def _synth(app_command: str, outdir: Path, env: dict) -> float:
    command = ["npx", "--no-install", "cdk", "--no-notices", "synth", "--quiet",
               "--app", app_command, "--output", str(outdir)]  # fmt: skip
    began = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    return time.perf_counter() - began


if __name__ == "__main__":
    sys.exit(main())
