"""Where SageMaker puts things, and how a job reports failure.

SageMaker runs a job in a container with a fixed layout under ``/opt/ml``:

    training:   /opt/ml/input/config/hyperparameters.json   (every value a JSON *string*)
                /opt/ml/input/config/inputdataconfig.json   (channel -> content type, ...)
                /opt/ml/input/data/<channel>/                (one folder per channel)
                /opt/ml/model/                               (tarred into model.tar.gz)
                /opt/ml/output/data/                         (extra outputs)
                /opt/ml/output/failure                       (why the job failed)
    processing: /opt/ml/processing/<name>/                   (paths given as arguments)
                /opt/ml/output/message                       (the job's ExitMessage)

Script-mode containers also set ``SM_MODEL_DIR``, ``SM_CHANNEL_<NAME>``, ``SM_OUTPUT_DATA_DIR``
and ``SM_HPS``. To rehearse a job on one machine, the whole tree can be moved: ``--opt-ml DIR``
(or the ``SM_ROOT`` environment variable) replaces ``/opt/ml``. Precedence, most specific first:
an explicit ``--opt-ml`` root, then the ``SM_*`` variable for that one path, then ``SM_ROOT``,
then ``/opt/ml``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/opt/ml")
MODEL_TARBALL = "model.tar.gz"


class JobError(Exception):
    """A failure the job explains itself (bad input, bad hyperparameter): no traceback needed."""


def opt_ml_root(explicit: str | Path | None = None) -> Path:
    """The folder standing in for ``/opt/ml``: explicit root, else ``$SM_ROOT``, else /opt/ml."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("SM_ROOT") or DEFAULT_ROOT)


@dataclass(frozen=True)
class TrainingPaths:
    """The paths of one training job, resolved once at start-up."""

    root: Path
    model_dir: Path
    output_data_dir: Path
    config_dir: Path
    data_dir: Path
    use_env: bool = True  # False when an explicit root was given: SM_* variables are ignored

    @classmethod
    def resolve(cls, explicit_root: str | Path | None = None) -> TrainingPaths:
        """Resolve paths from an explicit root, the SM_* variables, ``$SM_ROOT`` or /opt/ml."""
        root = opt_ml_root(explicit_root)
        # An explicit root wins over SM_* variables: a local rehearsal must never write into
        # whatever SM_MODEL_DIR a surrounding notebook happens to export.
        env = {} if explicit_root else os.environ
        return cls(
            root=root,
            model_dir=Path(env.get("SM_MODEL_DIR") or root / "model"),
            output_data_dir=Path(env.get("SM_OUTPUT_DATA_DIR") or root / "output" / "data"),
            config_dir=root / "input" / "config",
            data_dir=root / "input" / "data",
            use_env=not explicit_root,
        )

    def channel(self, name: str) -> Path:
        """The folder of one input channel (``SM_CHANNEL_<NAME>`` when set, as script mode does)."""
        from_env = os.environ.get(f"SM_CHANNEL_{name.upper()}") if self.use_env else None
        return Path(from_env) if from_env else self.data_dir / name

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"


def read_hyperparameters(config_dir: Path) -> dict[str, str]:
    """The job's hyperparameters as SageMaker hands them over: a dict of strings.

    Reads ``hyperparameters.json``; falls back to ``$SM_HPS`` (script mode) and then to ``{}``.
    Non-string values (a hand-written local file) are turned into strings so that every program
    parses them the same way it must in AWS.
    """
    path = config_dir / "hyperparameters.json"
    if path.exists():
        raw = json.loads(path.read_text(encoding="utf-8"))
    elif os.environ.get("SM_HPS"):
        raw = json.loads(os.environ["SM_HPS"])
    else:
        raw = {}
    if not isinstance(raw, dict):
        raise JobError(f"{path.name} must hold a JSON object, not {type(raw).__name__}")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def read_content_type(config_dir: Path, channel: str) -> str | None:
    """The ContentType declared for a channel in ``inputdataconfig.json``, if the file says so."""
    path = config_dir / "inputdataconfig.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get(channel, {}).get("ContentType")


class Hyperparameters:
    """Typed, validated access to string hyperparameters; errors name the hyperparameter."""

    def __init__(self, raw: dict[str, str]):
        self.raw = dict(raw)

    def _text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        # Framework estimators (SKLearn, ...) JSON-encode every value, so a string arrives as
        # '"linear"'; built-in algorithms get it bare. Accept both.
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = json.loads(value)
        return value.strip()

    def str(self, name: str, default: str, choices: Iterable[str] | None = None) -> str:
        value = self._text(name) or default
        if choices is not None and value not in (allowed := list(choices)):
            raise JobError(f"hyperparameter {name}={value!r}: use one of {', '.join(allowed)}")
        return value

    def float(self, name: str, default: float, low: float | None = None, high: float | None = None):
        text = self._text(name)
        try:
            value = default if text is None else float(text)
        except ValueError:
            raise JobError(f"hyperparameter {name}={text!r} is not a number") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise JobError(f"hyperparameter {name}={value} is outside [{low}, {high}]")
        return value

    def int(self, name: str, default: int, low: int | None = None, high: int | None = None):
        text = self._text(name)
        try:
            # The tuner may send integers as "5.0"; accept them only when they are whole.
            number = default if text is None else float(text)
        except ValueError:
            raise JobError(f"hyperparameter {name}={text!r} is not an integer") from None
        if number != int(number):
            raise JobError(f"hyperparameter {name}={text!r} is not an integer")
        value = int(number)
        if (low is not None and value < low) or (high is not None and value > high):
            raise JobError(f"hyperparameter {name}={value} is outside [{low}, {high}]")
        return value

    def bool(self, name: str, default: bool) -> bool:
        text = self._text(name)
        if text is None:
            return default
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise JobError(f"hyperparameter {name}={text!r} is not true/false")

    def reject_unknown(self, known: Iterable[str]) -> None:
        """Fail on a misspelt name instead of silently training with a default.

        Names starting with ``_`` or ``sagemaker_`` are SageMaker's own (the tuner adds
        ``_tuning_objective_metric``) and are ignored.
        """
        known = set(known)
        unknown = sorted(
            k for k in self.raw if k not in known and not k.startswith(("_", "sagemaker_"))
        )
        if unknown:
            raise JobError(
                f"unknown hyperparameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )


def data_files(folder: Path, suffixes: tuple[str, ...] = (".csv",)) -> list[Path]:
    """The data files of a channel or processing input, sorted so reads are deterministic."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise JobError(f"input folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes)
    if not files:
        raise JobError(f"no {'/'.join(suffixes)} files in {folder}")
    return files


def write_model_tarball(model_dir: Path, tarball: Path) -> Path:
    """Pack ``model_dir`` the way SageMaker does after training (files at the archive root).

    Timestamps and owners are zeroed so the same model gives the same bytes.
    """
    tarball.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            if path.resolve() == tarball.resolve():
                continue
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(model_dir)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    with gzip.GzipFile(tarball, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())
    return tarball


def unpack_model(model_path: Path, scratch: Path) -> Path:
    """A folder with the model files, from a model dir or a ``model.tar.gz`` (file or inside dir).

    Processing jobs receive the training job's ``model.tar.gz``; local runs may pass the
    model dir itself.
    """
    tarball = model_path if model_path.is_file() else model_path / MODEL_TARBALL
    if not tarball.exists():
        if not model_path.is_dir():
            raise JobError(f"model {model_path} does not exist")
        return model_path
    scratch.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.12, and 3.8-3.11 patch releases of 2023
            tar.extractall(scratch, filter="data")
        else:  # older framework images: refuse what the data filter would refuse
            _refuse_unsafe_members(tar)
            tar.extractall(scratch)  # every member checked above
    return scratch


def _refuse_unsafe_members(tar: tarfile.TarFile) -> None:
    """Absolute paths, '..' and links: what the "data" extraction filter rejects."""
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or member.issym() or member.islnk():
            raise JobError(f"model archive member {member.name!r} is not a plain relative file")


def run_job(main: Callable[[], None], failure_files: Iterable[Path]) -> None:
    """Run ``main``; on any error write the reason to the failure file(s) and exit non-zero.

    SageMaker shows the first 1 KB of the failure file as the job's FailureReason (training)
    or ExitMessage (processing), so the message comes first and the traceback after it.
    """
    try:
        main()
    except Exception as error:  # every failure must reach the failure file
        message = str(error) if isinstance(error, JobError) else f"{type(error).__name__}: {error}"
        detail = "" if isinstance(error, JobError) else "\n\n" + traceback.format_exc()
        for path in failure_files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(message + detail, encoding="utf-8")
        print(f"ERROR: {message}{detail}", file=sys.stderr, flush=True)
        sys.exit(1)


def run_training_job(
    train: Callable[[TrainingPaths], object], description: str, argv: list[str] | None = None
) -> None:
    """The entry point every training program shares: resolve the roots, run, report failure.

    ``--opt-ml`` moves the whole /opt/ml tree (default $SM_ROOT or /opt/ml). SageMaker script
    mode also passes hyperparameters as ``--name value``; they are read from
    hyperparameters.json instead, so unknown arguments are tolerated.
    """
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--opt-ml", help="stand-in for /opt/ml")
    args, _ = parser.parse_known_args(argv)
    paths = TrainingPaths.resolve(args.opt_ml)
    run_job(lambda: train(paths), [paths.failure_file])


def processing_failure_files(root: Path) -> list[Path]:
    """Processing jobs surface ``output/message``; ``output/failure`` keeps one rule for all."""
    return [root / "output" / "message", root / "output" / "failure"]


def _cli(argv: list[str] | None = None) -> None:
    """``python -m training_code.contract pack-model MODEL_DIR [TARBALL]``: what SageMaker does
    to /opt/ml/model after training, for the local runner."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m training_code.contract")
    sub = parser.add_subparsers(dest="command", required=True)
    pack = sub.add_parser("pack-model", help="tar a model dir into model.tar.gz")
    pack.add_argument("model_dir", type=Path)
    pack.add_argument("tarball", type=Path, nargs="?", help="default: MODEL_DIR/../model.tar.gz")
    args = parser.parse_args(argv)
    tarball = args.tarball or args.model_dir.parent / MODEL_TARBALL
    print(write_model_tarball(args.model_dir, tarball))


if __name__ == "__main__":
    _cli()
