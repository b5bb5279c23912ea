"""The Python libraries of the SageMaker runtimes we ship code to, reproduced on this machine.

Each runtime has a lock file in ``workshop_artifacts/runtime_locks/`` (``sklearn-1.4-2.txt``,
``xgboost-1.7-1.txt``): the versions of numpy, pandas, scikit-learn, scipy and xgboost that
AWS's image ships, as read from the image's published build files, plus header lines naming
the platform of ``platforms.yaml``, the image id and the image's Python minor version.

Two things are built from a lock, each once per machine and cached under ``.cache/artifacts/``
(``cache.py``):

* :func:`runtime_venv` — a virtual environment with an interpreter of the image's Python minor
  version and the locked libraries, where the tests run the real programs;
* :func:`lab_kernel` — the labs' notebook kernel (``kernel_locks/notebook-al2023-v1.txt``): the
  venv of the notebook platform's Python with the SageMaker SDK the labs teach, and a Jupyter
  kernelspec ``conda_python3`` that starts it, where the rehearsal and the tests run the labs;
* :func:`package_overlay` — one locked package (xgboost) installed into a folder to put first
  on ``PYTHONPATH`` of this project's own interpreter; the serving models are trained with it
  so that the built-in algorithm's serving container can read them (see serving_models.py).

Both install from the package index with ``pip --only-binary=:all:`` (no compiler, no other
download site); ``make setup`` builds the serving overlay, so a synth after it is offline.
Pure Python: no CDK, no boto3.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from workshop_artifacts import cache
from workshop_spec.config import PROJECT_ROOT

LOCKS_DIR = Path(__file__).with_name("runtime_locks")
KERNEL_LOCK = Path(__file__).with_name("kernel_locks") / "notebook-al2023-v1.txt"
LAB_KERNEL_NAME = "conda_python3"  # the notebook instance's kernel the labs declare
PIP_TIMEOUT_SECONDS = 900
_HEADER = re.compile(r"^#\s*(platform|image|python):\s*(\S+)\s*$")
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)")


class RuntimeUnavailable(RuntimeError):
    """The runtime cannot be reproduced here (no interpreter of its Python version)."""


@dataclass(frozen=True)
class RuntimeLock:
    """One lock file: which platform it reproduces and the exact versions it pins."""

    name: str  # the file's stem, e.g. "xgboost-1.7-1"
    path: Path
    platform: str  # a key of workshop_spec/platforms.yaml
    image: str  # that entry's identifier, e.g. "1.7-1"
    python: str  # the image's Python minor version, e.g. "3.9"
    pins: dict[str, str] = field(default_factory=dict)


def read_lock(path: Path) -> RuntimeLock:
    """Parse a lock file; its ``# platform:``, ``# image:`` and ``# python:`` lines are required."""
    headers: dict[str, str] = {}
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if header := _HEADER.match(line):
            headers[header.group(1)] = header.group(2)
        elif pin := _PIN.match(line.strip()):
            pins[pin.group(1).lower()] = pin.group(2)
    missing = {"platform", "image", "python"} - headers.keys()
    if missing:
        raise ValueError(f"{path}: missing header line(s) {sorted(missing)}")
    return RuntimeLock(
        path.stem, path, headers["platform"], headers["image"], headers["python"], pins
    )


def locks(folder: Path = LOCKS_DIR) -> list[RuntimeLock]:
    """Every runtime lock of the project."""
    return [read_lock(path) for path in sorted(folder.glob("*.txt"))]


# The BYOM container's own requirements are its lock: the image installs exactly this file.
BYOM_LOCK = PROJECT_ROOT / "training_code" / "byom_scikit" / "requirements.txt"


def byom_lock() -> RuntimeLock:
    """The bring-your-own container's runtime (its base image's Python, its pinned wheels)."""
    return read_lock(BYOM_LOCK)


def lock(name: str) -> RuntimeLock:
    """The lock file ``workshop_artifacts/runtime_locks/<name>.txt``."""
    return read_lock(LOCKS_DIR / f"{name}.txt")


def find_interpreter(minor: str) -> Path | None:
    """An interpreter of Python ``minor`` (e.g. "3.9"): pyenv's versions first, then PATH.

    pyenv's ``python3.X`` shims exist for every installed version but fail unless that version
    is selected, so each candidate is asked for its version before it is used.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installed = (pyenv_root / "versions").glob(f"{minor}.*/bin/python{minor}")
    candidates = sorted(installed, reverse=True)
    on_path = shutil.which(f"python{minor}")
    candidates += [Path(on_path)] if on_path else []
    for candidate in candidates:
        probe = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == minor:
            return candidate
    return None


def runtime_venv(
    runtime: RuntimeLock, cache_root: Path = cache.CACHE_ROOT, *, fallback: bool = False
) -> Path:
    """The Python executable of a venv reproducing ``runtime``, built on first use (~40 s).

    Cached by the lock file's bytes and the interpreter's version (``cache.py``:
    ``<cache_root>/runtime-venv/<key>/``); built in a scratch folder and renamed into place, so
    an interrupted build leaves no half-made venv. A venv finds its site-packages relative to its
    own folder: moving it is safe as long as it is only ever run as ``<folder>/bin/python`` (its
    scripts' shebangs are not).

    Without the runtime's Python, ``fallback`` builds it on this process's Python instead (the
    lab kernel: its lock installs on 3.10 to 3.13, and a static check still holds the labs to
    the notebook's 3.10, tests/labs/test_python310.py); otherwise that is RuntimeUnavailable.
    """
    interpreter = find_interpreter(runtime.python)
    if interpreter is None and fallback:
        interpreter = Path(sys.executable)
        current = f"{sys.version_info.major}.{sys.version_info.minor}"
        print(
            f"NOTE no Python {runtime.python} here (the {runtime.name} platform's): building its "
            f"environment on Python {current} instead (`pyenv install {runtime.python}` for the "
            "exact one)",
            file=sys.stderr,
        )
    values = {"runtime": runtime.name}
    if interpreter is not None and fallback:
        python = _version(interpreter)
        if python != runtime.python:  # a stand-in's venv is cached apart from the real one's
            values["python"] = python
    key = cache.key(files=[runtime.path], values=values)

    def build(venv: Path) -> None:
        if interpreter is None:
            raise RuntimeUnavailable(
                f"no Python {runtime.python} interpreter (needed for {runtime.name}): install it "
                f"(e.g. `pyenv install {runtime.python}`) or put python{runtime.python} on PATH"
            )
        _run([str(interpreter), "-m", "venv", str(venv)])
        _pip_install(venv / "bin" / "python", ["-r", str(runtime.path)])

    return cache.entry("runtime-venv", key, build, cache_root) / "bin" / "python"


def _version(interpreter: Path) -> str:
    probe = subprocess.run(
        [str(interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return probe.stdout.strip()


def lab_kernel(cache_root: Path = cache.CACHE_ROOT) -> Path:
    """The folder of Jupyter kernelspecs holding ``conda_python3``: the labs' kernel, an
    interpreter of the notebook platform's Python with the kernel lock's libraries (built on
    first use, ~80-130 s and ~0.9 GB, then cached; see :func:`runtime_venv`).

    The kernelspec is written next to the venv at each call, with the venv's absolute path:
    the venv is built in a scratch folder and renamed, so it cannot be written at build time.
    """
    python = runtime_venv(read_lock(KERNEL_LOCK), cache_root, fallback=True)
    kernels = python.parent.parent / "share" / "jupyter" / "kernels"
    spec = kernels / LAB_KERNEL_NAME / "kernel.json"
    wanted = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": LAB_KERNEL_NAME,
        "language": "python",
    }
    if not spec.exists() or json.loads(spec.read_text()) != wanted:
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_text(json.dumps(wanted, indent=1))
    return kernels


def package_overlay(
    runtime: RuntimeLock, package: str, cache_root: Path = cache.CACHE_ROOT
) -> Path:
    """A folder holding only ``package`` at the version ``runtime`` pins, built on first use.

    Put first on ``PYTHONPATH``, it replaces the project's own copy of that package for one
    subprocess; its dependencies come from the project's venv (``--no-deps``). Cached by the
    package and its version (``cache.py``: ``<cache_root>/package-overlay/<key>/``).
    """
    requirement = f"{package}=={runtime.pins[package]}"
    key = cache.key(values={"requirement": requirement})

    def build(overlay: Path) -> None:
        _pip_install(Path(sys.executable), ["--no-deps", "--target", str(overlay), requirement])

    return cache.entry("package-overlay", key, build, cache_root)


def _pip_install(python: Path, args: list[str]) -> None:
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", *args],
    )  # fmt: skip


def _run(command: list[str]) -> None:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")


USAGE = "usage: python -m workshop_artifacts.runtimes overlay LOCK PACKAGE | lab-kernel"


def main(argv: list[str] | None = None) -> int:
    """``python -m workshop_artifacts.runtimes overlay LOCK PACKAGE``: build an overlay ahead of use
    (``make setup`` does, so that synthesis itself installs nothing); ``... lab-kernel``: build
    the labs' kernel ahead of the rehearsal and the tests (``make setup`` does too)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "overlay":
        print(package_overlay(lock(args[1]), args[2]))
        return 0
    if args == ["lab-kernel"]:
        print(lab_kernel())
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
