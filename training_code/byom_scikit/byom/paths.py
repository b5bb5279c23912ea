"""Where SageMaker's container contract puts things, under an overridable root.

SageMaker mounts everything under ``/opt/ml``. Locally (tests, the workshop's local target)
the same layout lives in a temp folder, chosen by ``--opt-ml DIR`` or the ``SM_ROOT``
environment variable, so ``train`` and ``serve`` run as plain processes without Docker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/opt/ml")
ROOT_ENV_VAR = "SM_ROOT"


def resolve_root(cli_value: str | None = None) -> Path:
    """The ``/opt/ml`` root: the command-line value, else ``$SM_ROOT``, else ``/opt/ml``."""
    if cli_value:
        return Path(cli_value)
    from_env = os.environ.get(ROOT_ENV_VAR, "").strip()
    return Path(from_env) if from_env else DEFAULT_ROOT


@dataclass(frozen=True)
class SageMakerPaths:
    """The folders and files of SageMaker's training and hosting contract under one root."""

    root: Path = DEFAULT_ROOT

    @property
    def hyperparameters_file(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    def channel_dir(self, channel: str) -> Path:
        return self.root / "input" / "data" / channel

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"
