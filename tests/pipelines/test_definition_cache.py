"""The stack's definitions come from a cache keyed by everything they are built from: a cached
answer must be exactly what the SDK builds, and a warm synth must not need the SDK at all."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stacks.pipeline_definitions import cached

from .conftest import REGION, REPO, pipeline_inputs


@pytest.mark.parametrize("key", sorted(cached.BUILDERS))
def test_a_cached_definition_is_what_the_sdk_builds(key, definitions):
    inputs = pipeline_inputs()[key]
    first = cached.definition(key, inputs)  # built now, or found from an earlier run
    # Key order included: the template embeds the definition as a JSON string.
    assert json.dumps(first) == json.dumps(definitions[key])
    assert json.dumps(cached.definition(key, inputs)) == json.dumps(definitions[key])


def test_cached_image_uris_are_the_sdks():
    from stacks.pipeline_definitions import offline_session

    assert cached.sklearn_image(REGION) == offline_session.sklearn_image(REGION)
    assert cached.xgboost_image(REGION, "1.7-1") == offline_session.xgboost_image(REGION, "1.7-1")


def test_the_key_covers_the_arguments_the_code_and_the_sdk_version():
    base = cached.cache_key({"definition": "byom", "inputs": {"region": "us-east-1"}})
    assert base == cached.cache_key({"definition": "byom", "inputs": {"region": "us-east-1"}})
    assert base != cached.cache_key({"definition": "byom", "inputs": {"region": "eu-west-1"}})
    covered = {path.name for path in cached.INPUT_FILES}
    assert {"pipeline_definitions", "workshop_spec", "bank_xgboost_tuning.json"} <= covered
    assert set(cached.SDK_DISTRIBUTIONS) >= {"sagemaker", "botocore"}


def test_an_unknown_pipeline_is_refused_by_name():
    with pytest.raises(KeyError, match="known: bank-marketing, bike-sharing, byom"):
        cached.definition("bank", pipeline_inputs()["byom"])


def test_a_warm_cache_serves_without_importing_the_sdk(definitions):
    for key, inputs in pipeline_inputs().items():
        cached.definition(key, inputs)  # warm
    probe = (
        "import sys; sys.path.insert(0, '.');"
        "from tests.pipelines.conftest import pipeline_inputs;"
        "from stacks.pipeline_definitions import cached;"
        "[cached.definition(k, i) for k, i in pipeline_inputs().items()];"
        "cached.sklearn_image('us-east-1');"
        "print('sagemaker' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
