"""What runs on the notebook instance runs on its Pythons (Amazon Linux 2023, notebook-al2023-v1).

The labs' helper and the notebooks' cells run in the ``conda_python3`` kernel: Python 3.10.
``autostop.py`` runs on the OS image's ``/usr/bin/python3``: 3.9 on AL2023. The local target
and CI run a newer Python, so a 3.11-only name (``datetime.UTC``) would pass every other test
and fail on the first cell of a real notebook. Two checks:

- static, everywhere: ``vermin`` (pinned in requirements-dev.txt) finds the minimum Python
  version each file needs, from its syntax and the standard library names it uses;
- at run time, where a Python 3.10 exists (pyenv's, or ``python3.10`` on PATH): ``workshop.py``
  compiled and imported under it, its third-party imports stubbed (the kernel has them; this
  interpreter need not).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.labs_step import LABS_DIR, notebooks

VERMIN = Path(sys.executable).with_name("vermin")  # installed beside the venv's python
KERNEL_PYTHON = "3.10"  # conda_python3 on notebook-al2023-v1
SYSTEM_PYTHON = "3.9"  # /usr/bin/python3 on Amazon Linux 2023, which runs autostop.py
RUNS_IN_THE_KERNEL = [LABS_DIR / "workshop.py"]
# The exercises' solutions run in the kernel too; they import its libraries (boto3, numpy,
# scikit-learn) and the helper, so they get the static check only.
SOLUTIONS = sorted((LABS_DIR / "solutions").glob("*.py"))
RUNS_ON_THE_SYSTEM_PYTHON = [PROJECT_ROOT / "notebook_lifecycle" / "autostop.py"]
# The helper's top-level third-party imports: present in the kernel, stubbed for the check.
THIRD_PARTY = ["pandas"]


def vermin_violations(path: Path, target: str) -> str:
    """vermin's report of what in ``path`` needs a Python newer than ``target``; "" if none."""
    if not VERMIN.exists():
        pytest.fail(f"{VERMIN} missing: install vermin (requirements-dev.txt)")
    done = subprocess.run(
        [str(VERMIN), f"-t={target}-", "--no-tips", "--violations", "--no-parse-comments",
         str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    return "" if done.returncode == 0 else done.stdout + done.stderr


def notebook_code(path: Path) -> str:
    """A notebook's code cells as one module (IPython's %magics and !commands left out)."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    lines = "\n".join(cells).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("code", ["from datetime import UTC", "import datetime\ndatetime.UTC",
                                  "import tomllib", "from typing import Self"])  # fmt: skip
def test_the_static_check_catches_3_11_only_code(code: str, tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(code + "\n")
    assert "requires" in vermin_violations(snippet, KERNEL_PYTHON)


def test_the_static_check_passes_the_3_10_spelling(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text("from datetime import datetime, timezone\ndatetime.now(timezone.utc)\n")
    assert vermin_violations(snippet, KERNEL_PYTHON) == ""


@pytest.mark.parametrize("path", RUNS_IN_THE_KERNEL + SOLUTIONS, ids=lambda p: p.name)
def test_the_labs_helper_needs_at_most_the_kernel_python(path: Path) -> None:
    assert vermin_violations(path, KERNEL_PYTHON) == ""


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_the_notebook_cells_need_at_most_the_kernel_python(path: Path, tmp_path: Path) -> None:
    module = tmp_path / f"{path.stem.replace('.', '_').replace('-', '_')}.py"
    module.write_text(notebook_code(path))
    assert vermin_violations(module, KERNEL_PYTHON) == ""


@pytest.mark.parametrize("path", RUNS_ON_THE_SYSTEM_PYTHON, ids=lambda p: p.name)
def test_autostop_needs_at_most_the_system_python(path: Path) -> None:
    assert vermin_violations(path, SYSTEM_PYTHON) == ""


# -- under a real Python 3.10 --------------------------------------------------------------


def _python_310() -> str | None:
    """A working Python 3.10: pyenv's (its shims exist even where 3.10 is not selected, so
    each candidate is run), then python3.10 on PATH."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [str(p) for p in sorted(pyenv_root.glob("versions/3.10*/bin/python3.10"))]
    candidates += [found] if (found := shutil.which("python3.10")) else []
    for candidate in candidates:
        check = subprocess.run(
            [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 10)"],
            capture_output=True,
        )
        if check.returncode == 0:
            return candidate
    return None


PYTHON_310 = _python_310()
needs_python_310 = pytest.mark.skipif(
    PYTHON_310 is None,
    reason="no Python 3.10 here (pyenv's or python3.10 on PATH): the static check still ran",
)

# Compiles the module, stubs its third-party imports, imports it: what `import workshop` does
# in the first cell of every lab.
_IMPORT_UNDER_STUBS = """
import importlib.util, sys, types
path, name, stubs = sys.argv[1], sys.argv[2], sys.argv[3:]
compile(open(path, encoding="utf-8").read(), path, "exec")
for stub in stubs:
    sys.modules[stub] = types.ModuleType(stub)
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
"""


def import_under(python: str, path: Path, stubs: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-I", "-c", _IMPORT_UNDER_STUBS, str(path), path.stem, *stubs],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")},
    )


@needs_python_310
def test_the_import_check_fails_on_3_11_only_code(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text("import pandas\nfrom datetime import UTC\n")
    done = import_under(str(PYTHON_310), snippet, THIRD_PARTY)
    assert done.returncode != 0 and "cannot import name 'UTC'" in done.stderr


@needs_python_310
@pytest.mark.parametrize("path", RUNS_IN_THE_KERNEL, ids=lambda p: p.name)
def test_the_labs_helper_imports_on_python_310(path: Path) -> None:
    done = import_under(str(PYTHON_310), path, THIRD_PARTY)
    assert done.returncode == 0, done.stderr
