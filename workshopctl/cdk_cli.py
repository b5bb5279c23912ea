"""The pinned CDK CLI as the deploy calls it: the commands, how they run, and the concurrency
the app's dependency graph allows.

Commands run through a :data:`Runner` so tests can record them instead of starting node.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT

# Always the version package.json pins (`--no-install`: never fetch another one).
CDK = ("npx", "--no-install", "cdk", "--no-notices")
APPROVAL_LEVELS = ("never", "any-change", "broadening")
# Without a synthesized manifest to read, as many stacks as the widest level of today's graph
# (attendee environment, pipelines and serving all wait only on the data lake and the image).
FALLBACK_CONCURRENCY = 3

# argv, extra environment → exit code. The CLI's output goes straight to the terminal, so its
# approval prompt (--require-approval) can ask the organiser.
Runner = Callable[[Sequence[str], Mapping[str, str]], int]


def run_in_project(argv: Sequence[str], extra_env: Mapping[str, str]) -> int:
    """Run ``argv`` in the project root with the shell's environment plus ``extra_env``."""
    print(f"$ {' '.join(argv)}", flush=True)
    return subprocess.run(list(argv), cwd=PROJECT_ROOT, env={**os.environ, **extra_env}).returncode


def bootstrap_command(account: str, region: str) -> list[str]:
    """``cdk bootstrap`` for exactly one environment (it is idempotent, but we call it once)."""
    return [*CDK, "bootstrap", f"aws://{account}/{region}"]


def deploy_command(
    *, concurrency: int, require_approval: str, context: Sequence[str] = ()
) -> list[str]:
    """``cdk deploy --all``: independent stacks in parallel, dependencies first.

    ``context``: ``key=value`` pairs, passed as ``-c`` so the deploy synthesizes the same config
    the checks read.
    """
    if require_approval not in APPROVAL_LEVELS:
        raise ValueError(f"--require-approval {require_approval!r}: use one of {APPROVAL_LEVELS}")
    command = [*CDK, "deploy", "--all", "--concurrency", str(concurrency)]
    command += ["--require-approval", require_approval]
    for pair in context:
        command += ["-c", pair]
    return command


def destroy_command(*, context: Sequence[str] = ()) -> list[str]:
    """``cdk destroy --all --force``: every stack, dependants first, without asking."""
    command = [*CDK, "destroy", "--all", "--force"]
    for pair in context:
        command += ["-c", pair]
    return command


def stack_concurrency(cloud_assembly: Path) -> int:
    """How many stacks can deploy at once: the widest level of the stacks' dependency graph in
    ``cdk.out/manifest.json`` (level = longest chain of dependencies below a stack)."""
    manifest_file = Path(cloud_assembly) / "manifest.json"
    if not manifest_file.exists():
        return FALLBACK_CONCURRENCY
    artifacts = json.loads(manifest_file.read_text()).get("artifacts", {})
    stacks = {
        name: [dep for dep in artifact.get("dependencies", []) if dep in artifacts]
        for name, artifact in artifacts.items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }
    # Asset manifests sit between stacks in the graph; only stack-to-stack edges order deploys.
    stacks = {name: [dep for dep in deps if dep in stacks] for name, deps in stacks.items()}
    levels: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in levels:
            levels[name] = 1 + max((level(dep) for dep in stacks[name]), default=-1)
        return levels[name]

    widths: dict[int, int] = {}
    for name in stacks:
        widths[level(name)] = widths.get(level(name), 0) + 1
    return max(widths.values(), default=FALLBACK_CONCURRENCY)
