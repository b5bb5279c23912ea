"""Shared fixtures: the three definitions (built once per session, offline) and a local
workspace with small slices of the vendored data for the runner."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from workshopctl.local.pipeline_runner import PipelineRun, run_pipeline

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
REGION = "us-east-1"
TARBALL_URI = "s3://work/pipelines/code/sourcedir.tar.gz"
BANK_SAMPLE_URI = "s3://raw/samples/bank-marketing.csv"
BIKE_SAMPLE_URI = "s3://raw/samples/hour.csv"
# The bank pipeline on the sample with a tuning budget of two jobs: seconds, not minutes.
QUICK_BANK = {"InputDataUri": BANK_SAMPLE_URI, "MaxTuningJobs": 2}

# Dummy credentials and an endpoint nothing listens on: nothing here may reach AWS.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def pipeline_inputs():
    """The inputs of the three pipelines, as the local target builds them."""
    from stacks.pipeline_definitions import BYOM_IMAGE_PLACEHOLDER, PipelineInputs

    common = {"region": REGION, "source_tarball_uri": TARBALL_URI}
    return {
        "bank-marketing": PipelineInputs(
            pipeline_name="mlws-bank-marketing",
            data_uri="s3://raw/bank-marketing/bank-additional-full.csv",
            output_uri="s3://curated/pipelines/bank-marketing",
            model_package_group_name="mlws-bank-marketing",
            **common,
        ),
        "bike-sharing": PipelineInputs(
            pipeline_name="mlws-bike-sharing",
            data_uri="s3://raw/bike-sharing/hour.csv",
            output_uri="s3://curated/pipelines/bike-sharing",
            model_package_group_name="mlws-bike-sharing",
            **common,
        ),
        "byom": PipelineInputs(
            pipeline_name="mlws-byom",
            output_uri="s3://curated/pipelines/byom",
            byom_image_uri=BYOM_IMAGE_PLACEHOLDER,
            **common,
        ),
    }


def build_definitions() -> dict[str, dict]:
    """The three parsed definitions, by pipeline key."""
    from stacks.pipeline_definitions import (
        bank_marketing_definition,
        bike_sharing_definition,
        byom_definition,
    )

    builders = {
        "bank-marketing": bank_marketing_definition,
        "bike-sharing": bike_sharing_definition,
        "byom": byom_definition,
    }
    return {key: builders[key](inputs) for key, inputs in pipeline_inputs().items()}


@pytest.fixture(scope="session")
def definitions() -> dict[str, dict]:
    return build_definitions()


@pytest.fixture(scope="session")
def sample_buckets(tmp_path_factory) -> Path:
    """Local buckets with the source tarball and small slices of both datasets."""
    from workshop_artifacts.source_tarball import build_source_tarball

    root = tmp_path_factory.mktemp("buckets")
    build_source_tarball(REPO / "training_code", root / TARBALL_URI.removeprefix("s3://"))
    samples = root / "raw" / "samples"
    samples.mkdir(parents=True)
    # Every 12th bank row (~3,400, both classes) and two winter months of hours (~1,400).
    lines = (DATA / "bank-marketing" / "bank-additional-full.csv").read_text().splitlines()
    (samples / "bank-marketing.csv").write_text("\n".join([lines[0], *lines[1::12]]) + "\n")
    hours = (DATA / "bike-sharing" / "hour.csv").read_text().splitlines()
    winter = [line for line in hours[1:] if line.split(",")[1] < "2011-03-01"]
    (samples / "hour.csv").write_text("\n".join([hours[0], *winter]) + "\n")
    return root


@dataclass(frozen=True)
class LocalRun:
    """A finished run and the local buckets it ran against."""

    run: PipelineRun
    buckets: Path

    def path(self, uri: str) -> Path:
        return self.buckets / uri.removeprefix("s3://")

    @property
    def registry(self) -> Path:
        return self.buckets / "work" / "model-registry"


@pytest.fixture(scope="session")
def run_local(definitions, sample_buckets, tmp_path_factory):
    """``run_local(key, **parameters)``: a run of one pipeline on the sample buckets.

    Each call gets its own copy of the buckets and its own registry and work folders.
    """
    from stacks.pipeline_definitions import BYOM_IMAGE_PLACEHOLDER

    def _run(key: str, definition: dict | None = None, **parameters) -> LocalRun:
        buckets = tmp_path_factory.mktemp("run") / "buckets"
        shutil.copytree(sample_buckets, buckets)
        run = run_pipeline(
            definition or definitions[key],
            pipeline_name=f"mlws-{key}",
            s3_root=buckets,
            work_root=buckets / "work" / "pipeline-jobs",
            registry_root=buckets / "work" / "model-registry",
            byom_image_uri=BYOM_IMAGE_PLACEHOLDER,
            parameters=parameters,
            execution_id="test",
            log=lambda line: None,
        )
        return LocalRun(run, buckets)

    return _run


@pytest.fixture(scope="session")
def bank_pass(run_local) -> LocalRun:
    """One passing bank run, shared by the tests that read it (gate lowered for the sample)."""
    return run_local(
        "bank-marketing", **QUICK_BANK, AucThreshold=0.6, ModelApprovalStatus="Approved"
    )
