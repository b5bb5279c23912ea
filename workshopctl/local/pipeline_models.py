"""Batch transform's CSV data processing, as SageMaker applies it around the model
(batch-transform-data-processing.html): ``SplitType Line`` records, the ``InputFilter`` /
``JoinSource`` / ``OutputFilter`` JSONPath subset a CSV record supports, and mini-batches no
larger than ``MaxPayloadInMB``. The emulator's transform jobs call the model with them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from workshopctl.local.pipeline_jobs import JobFailed

_FILTER = re.compile(r"^\$(?:\[(.*)\])?$")

Predict = Callable[[list[str]], list[str]]  # CSV records in, CSV predictions out


def select_columns(columns: list[str], expression: str | None) -> list[str]:
    """A CSV record's columns picked by a transform filter: ``$``, ``$[1:]``, ``$[0,-1]``."""
    if not expression:
        return columns
    match = _FILTER.match(expression.strip())
    if not match:
        raise JobFailed(f"filter {expression!r}: only $, $[i,j,...] and $[a:b] run locally")
    inside = (match.group(1) or "").strip()
    if not inside:
        return columns
    if ":" in inside:
        low, _, high = inside.partition(":")
        return columns[int(low) if low.strip() else None : int(high) if high.strip() else None]
    try:
        return [columns[int(index)] for index in inside.split(",")]
    except (ValueError, IndexError):
        raise JobFailed(
            f"filter {expression!r} does not fit a record of {len(columns)} columns"
        ) from None


def transform_records(
    records: list[str], predict: Predict, processing: dict, max_payload: int
) -> list[str]:
    """One input object's output lines: filter, predict in mini-batches, join, filter."""
    rows = [record.split(",") for record in records if record.strip()]
    features = [",".join(select_columns(row, processing.get("InputFilter"))) for row in rows]
    predictions = [p for batch in _batches(features, max_payload) for p in predict(batch)]
    if len(predictions) != len(rows):
        raise JobFailed(f"{len(rows)} records got {len(predictions)} predictions")
    joined = (
        row + prediction.split(",") if processing.get("JoinSource") == "Input"
        else prediction.split(",")
        for row, prediction in zip(rows, predictions, strict=True)
    )  # fmt: skip
    return [",".join(select_columns(line, processing.get("OutputFilter"))) for line in joined]


def _batches(records: list[str], max_bytes: int) -> Iterator[list[str]]:
    """MultiRecord mini-batches no larger than MaxPayloadInMB."""
    batch: list[str] = []
    size = 0
    for record in records:
        if batch and size + len(record) + 1 > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record) + 1
    if batch:
        yield batch
