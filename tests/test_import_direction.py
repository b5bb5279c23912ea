"""Dependencies point one way (DESIGN.md §3), checked by reading every module's imports.

    app.py ──► stacks/                      workshopctl/ (CLI, emulator, local target)
                  │                              │
                  ▼                              ▼
       workshop_spec/      (config model, names, data specs: imports nothing of the project)
       workshop_artifacts/ (what synth builds: may import workshop_spec and training_code)
                  │
                  ▼
    training_code/   lambdas/   notebook_lifecycle/   (packaged and run elsewhere: nothing)

The stacks and the operator tooling stand side by side and never import each other; nothing
imports ``stacks`` but ``app.py`` and the tests. Every ``.py`` file of the project is parsed with
``ast``, nothing is imported, so a violation is found even in code no test runs (a function's
lazy import included). Relative imports stay inside their own package and are always allowed.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOT_PROJECT = frozenset({"node_modules", "cdk.out", "__pycache__", "workshop-studio"})  # + hidden

# The floors below the stacks and the operator tooling, which both may use.
_SHARED = frozenset(
    {"workshop_spec", "workshop_artifacts", "training_code", "lambdas", "notebook_lifecycle"}
)
_EVERYTHING = frozenset({"*"})
# Each part of the project (a top-level package, or a path inside one where it differs) and the
# other parts it may import; a part may always import its own top-level package.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "training_code": frozenset(),  # ships in processing, training and serving containers
    "lambdas": frozenset(),  # ships as the functions' assets
    "notebook_lifecycle": frozenset(),  # runs on the notebook instance; rendered at synth
    "workshop_spec": frozenset(),
    "workshop_artifacts": frozenset({"workshop_spec", "training_code"}),
    "stacks": _SHARED,
    "workshopctl": _SHARED,
    "app.py": frozenset({"stacks", "workshop_spec", "workshop_artifacts"}),
    "labs/workshop.py": frozenset(),  # runs alone in the notebook's kernel, in AWS as rehearsed
    # The exercises' solutions run in the same kernel (loaded into the notebooks or run by the
    # tests); they import the helper as a sibling module.
    "labs/solutions": frozenset(),
    "bench": frozenset({"workshopctl", *_SHARED}),
    "tests": _EVERYTHING,
}


@dataclass(frozen=True)
class Violation:
    path: str  # relative to the repo
    line: int
    part: str
    imported: str  # the forbidden part
    statement: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.part} must not import {self.imported}: " + (
            self.statement
        )


def project_files(root: Path = REPO) -> list[str]:
    """Every .py file of the project, relative to ``root`` (virtualenvs, caches and build output
    are not the project)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [s for s in subfolders if not s.startswith(".") and s not in NOT_PROJECT]
        found += [
            (Path(folder) / f).relative_to(root).as_posix() for f in files if f.endswith(".py")
        ]
    return sorted(found)


def top_level(path: str) -> str:
    """The importable name a file belongs to: its first folder, or a root module's stem."""
    first = path.split("/", 1)[0]
    return first.removesuffix(".py") if "/" not in path else first


def part_of(path: str) -> str | None:
    """The most specific entry of MAY_IMPORT that ``path`` falls under, if any."""
    matches = [key for key in MAY_IMPORT if path == key or path.startswith(key + "/")]
    return max(matches, key=len) if matches else None


def _part_of_name(name: str) -> str:
    return "app.py" if name == "app" else name


def violations(path: str, source: str, project: frozenset[str]) -> list[Violation]:
    """The imports of ``source`` (the file at ``path``) that its part may not make.

    ``project``: the project's top-level names; imports of anything else (the standard library,
    third-party packages, a sibling module on a container's path) are not this check's concern.
    """
    part = part_of(path)
    if part is None:
        raise ValueError(f"{path}: no entry of MAY_IMPORT covers it; add its part")
    allowed = MAY_IMPORT[part]
    own = top_level(path)
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue  # relative imports stay inside their own package
        for name in names:
            target = name.split(".", 1)[0]
            if target not in project or target == own or "*" in allowed:
                continue
            if _part_of_name(target) not in allowed:
                statement = ast.get_source_segment(source, node) or ast.unparse(node)
                found.append(Violation(path, node.lineno, part, target, statement))
    return found


def test_every_import_points_down_the_floors():
    files = project_files()
    project = frozenset(top_level(path) for path in files)
    found = [
        str(violation)
        for path in files
        for violation in violations(path, (REPO / path).read_text(), project)
    ]
    assert not found, "imports against the dependency direction (DESIGN.md §3):\n" + "\n".join(
        found
    )


def test_every_part_of_the_project_has_a_rule():
    files = project_files()
    uncovered = sorted({top_level(path) for path in files if part_of(path) is None})
    assert not uncovered, f"add these parts to MAY_IMPORT with what they may import: {uncovered}"
    stale = sorted(key for key in MAY_IMPORT if not any(part_of(path) == key for path in files))
    assert not stale, f"MAY_IMPORT names parts that no longer exist: {stale}"


def test_nothing_but_the_app_and_the_tests_may_import_the_stacks():
    importers = sorted(part for part, allowed in MAY_IMPORT.items() if "stacks" in allowed)
    assert importers == ["app.py"]


# -- the checker itself -----------------------------------------------------------------------
PROJECT = frozenset(
    {
        "app",
        "stacks",
        "workshopctl",
        "workshop_spec",
        "workshop_artifacts",
        "training_code",
        "lambdas",
        "notebook_lifecycle",
        "labs",
        "bench",
        "tests",
    }
)


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "stacks/data_lake.py",
            "import os\n\nfrom workshopctl.config import PROJECT_ROOT\n",
            "stacks/data_lake.py:3: stacks must not import workshopctl: "
            "from workshopctl.config import PROJECT_ROOT",
        ),
        (
            "stacks/constructs/x.py",
            "def f():\n    import workshopctl.local.runner as runner\n",
            "stacks/constructs/x.py:2: stacks must not import workshopctl: "
            "import workshopctl.local.runner as runner",
        ),
        (
            "workshop_spec/config.py",
            "from workshop_artifacts import cache\n",
            "workshop_spec/config.py:1: workshop_spec must not import workshop_artifacts: "
            "from workshop_artifacts import cache",
        ),
        (
            "workshop_artifacts/x.py",
            "from workshopctl.local.workspace import Workspace\n",
            "workshop_artifacts/x.py:1: workshop_artifacts must not import workshopctl: "
            "from workshopctl.local.workspace import Workspace",
        ),
        (
            "lambdas/janitor/handler.py",
            "from training_code.contract import run_job\n",
            "lambdas/janitor/handler.py:1: lambdas must not import training_code: "
            "from training_code.contract import run_job",
        ),
        (
            "workshopctl/deploy.py",
            "from stacks import nag\n",
            "workshopctl/deploy.py:1: workshopctl must not import stacks: from stacks import nag",
        ),
        (
            "bench/synth.py",
            "import app\n",
            "bench/synth.py:1: bench must not import app: import app",
        ),
        (
            "labs/workshop.py",
            "from workshop_spec.config import WorkshopConfig\n",
            "labs/workshop.py:1: labs/workshop.py must not import workshop_spec: "
            "from workshop_spec.config import WorkshopConfig",
        ),
    ],
)
def test_the_checker_names_file_line_and_forbidden_import(path, source, expected):
    assert [str(v) for v in violations(path, source, PROJECT)] == [expected]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("stacks/serving.py", "from stacks.constructs import grants\nimport aws_cdk as cdk\n"),
        ("stacks/serving.py", "from workshop_artifacts.serving_models import ServingArtifacts\n"),
        ("workshopctl/deploy.py", "from workshop_spec.config import WorkshopConfig\n"),
        ("workshop_artifacts/x.py", "from training_code.reviews import schema\n"),
        ("lambdas/janitor/handler.py", "from .janitor import clean\nimport boto3\n"),
        ("labs/workshop.py", "import boto3\nimport sagemaker\n"),  # the SDKs, not the project
        ("app.py", "from stacks.serving import ServingStack\n"),
        ("tests/infra/test_x.py", "from stacks import nag\nimport app\n"),
    ],
)
def test_the_checker_lets_allowed_imports_pass(path, source):
    assert violations(path, source, PROJECT) == []


def test_a_file_of_no_known_part_is_an_error():
    with pytest.raises(ValueError, match="add its part"):
        violations("newpackage/x.py", "import os\n", PROJECT | {"newpackage"})
