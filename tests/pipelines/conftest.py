"""Shared fixtures: the three definitions, built once per session, offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
REGION = "us-east-1"
TARBALL_URI = "s3://work/pipelines/code/sourcedir.tar.gz"

# Dummy credentials and an endpoint nothing listens on: nothing here may reach AWS.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def pipeline_inputs():
    """The inputs of the three pipelines, with placeholder buckets."""
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
