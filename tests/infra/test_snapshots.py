"""A JSON snapshot of every stack's template: the diff shows exactly which infrastructure changed.

Asset hashes change with any byte of an asset (a dataset, CDK's own handler code) and say
nothing about infrastructure, so they are masked. Update after a reviewed change with
``.venv/bin/pytest tests/infra/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import json
import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.infra.pool_configs import ORGANISER_STACKS, PER_ATTENDEE

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
_IMAGE_TAG = re.compile(r"src-[0-9a-f]{16}")  # the model image's tag: its source's hash


def masked(template: dict) -> dict:
    text = _IMAGE_TAG.sub(
        "src-<source-hash>", _ASSET_HASH.sub("<asset-hash>", json.dumps(template))
    )
    return json.loads(text)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_stacks_synthesized(templates):
    assert templates, "the app synthesized no stack"


STACKS = [
    "mlws-data-lake",
    "mlws-model-image",
    "mlws-attendee-environment",
    "mlws-attendee-sign-in",
    "mlws-pipelines",
    "mlws-serving",
    "mlws-guardrails",
]


@pytest.mark.parametrize("stack", STACKS)
def test_template_matches_snapshot(templates, stack, snapshot_json):
    assert masked(templates[stack]) == snapshot_json


def test_every_stack_has_a_snapshot_test(templates):
    parametrized = test_template_matches_snapshot.pytestmark[0].args[1]
    assert sorted(templates) == sorted(parametrized), "add the new stack to the snapshot test"


def test_synthesis_is_deterministic(synth, templates):
    """Templates depend only on code and config: a second app gives the same bytes."""
    again = synth(prefix="mlws").templates  # same config, a distinct cache entry
    assert json.dumps(again, sort_keys=True) == json.dumps(templates, sort_keys=True)


@pytest.mark.parametrize("stack", ORGANISER_STACKS)
def test_organiser_stack_matches_snapshot(synth, stack, snapshot_json):
    """accounts=per-attendee: the organiser's stacks (the pool's account stacks are the
    default stacks for one attendee, read from the event bucket)."""
    assert masked(synth(**PER_ATTENDEE).templates[stack]) == snapshot_json
