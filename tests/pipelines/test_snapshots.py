"""A JSON snapshot of each pipeline definition: the diff shows exactly what a change does to
what deploys. Update after a reviewed change with
``.venv/bin/pytest tests/pipelines/test_snapshots.py --snapshot-update``."""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("key", ["bank-marketing", "bike-sharing", "byom"])
def test_definition_matches_snapshot(definitions, key, snapshot_json):
    assert definitions[key] == snapshot_json
