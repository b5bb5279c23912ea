"""The operations the emulator computes itself, one module per service area; each module's
``install(account)`` registers its (service, operation) executors on the account."""

from __future__ import annotations

import importlib

MODULES: tuple[str, ...] = (
    "athena",
    "comprehend",
    "ecr_images",
    "glue_jobs",
    "sagemaker_jobs",
    "sagemaker_hosting",
    "sagemaker_pipelines",
    "sagemaker_registry",
    "events",
    "application_autoscaling",
    "notebooks",
    "cloudwatch",
)


def install(account) -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").install(account)
