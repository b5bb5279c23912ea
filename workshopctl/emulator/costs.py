"""What the rehearsal's calls would have cost in AWS, per caller, from the project's price table
(``lambdas/janitor/prices.json``: hourly instance prices and per-use prices, with their sources).

Each call's ``usage`` is filled by the executor that ran it (bytes an Athena query read,
Comprehend units, Glue DPU-seconds, SageMaker instance-seconds); the bill applies AWS's billing
rules as the price pages state them (Athena's 10 MB minimum per query, Glue's 1-minute minimum).
Usage the table has no price for counts as unknown, never as free.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from lambdas.janitor.prices import PRICES_FILE

MB = 1024 * 1024
ATHENA_MINIMUM_BYTES = 10 * MB
GLUE_MINIMUM_SECONDS = 60


@dataclass(frozen=True)
class Bill:
    usd: float
    unknown: int  # usage items without a price

    def __str__(self) -> str:
        text = f"${self.usd:.4f}"
        return text + (f" (+{self.unknown} unpriced)" if self.unknown else "")


@functools.cache
def _table() -> tuple[dict[str, float], dict[str, float]]:
    """The price table, read once (it ships with the code)."""
    data = json.loads(PRICES_FILE.read_text())
    return data["hourly_usd"], data.get("usage_usd", {})


def usage_cost(usage: dict) -> tuple[float, int]:
    """(USD, unpriced items) of one call's usage."""
    hourly, per_use = _table()
    usd, unknown = 0.0, 0
    if "athena_bytes_scanned" in usage:
        scanned = max(ATHENA_MINIMUM_BYTES, math.ceil(usage["athena_bytes_scanned"] / MB) * MB)
        usd += scanned / 1024**4 * per_use["athena-tb-scanned"]
    if "comprehend_units" in usage:
        usd += usage["comprehend_units"] * per_use["comprehend-unit"]
    if "glue_dpu_seconds" in usage:
        seconds = max(GLUE_MINIMUM_SECONDS, usage["glue_dpu_seconds"])
        usd += seconds / 3600 * per_use["glue-dpu-hour"]
    for item in usage.get("instance_seconds", []):  # [{"type": "ml.m5.xlarge", "seconds": n}]
        if item["type"] in hourly:
            usd += item["seconds"] / 3600 * hourly[item["type"]]
        else:
            unknown += 1
    return usd, unknown


def bill(usages: Iterable[dict]) -> Bill:
    total, unknown = 0.0, 0
    for usage in usages:
        usd, missing = usage_cost(usage)
        total, unknown = total + usd, unknown + missing
    return Bill(total, unknown)
