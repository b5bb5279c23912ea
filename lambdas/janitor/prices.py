"""The small price table (``prices.json``) and the lookups the plan and the cost estimate use.

Prices are hourly list prices for one region (see the file's ``source`` and ``as_of``). A type the
table does not know has an unknown cost: ``None``, shown as "?", never a crash and never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PRICES_FILE = Path(__file__).with_name("prices.json")

# Studio's JupyterServer app runs on SageMaker's own "system" instance, which is not billed.
FREE_INSTANCE_TYPES = frozenset({"system"})


@dataclass(frozen=True)
class Prices:
    """Hourly USD per instance type (``ml.*``) or item (``nat-gateway``), with provenance."""

    hourly: Mapping[str, float]
    region: str
    as_of: str
    source: str

    def hourly_usd(self, item: str | None, count: float = 1) -> float | None:
        """Cost of ``count`` units of ``item`` for one hour; ``None`` when the price is unknown."""
        if item in FREE_INSTANCE_TYPES:
            return 0.0
        if item is None or item not in self.hourly:
            return None
        return self.hourly[item] * count

    @property
    def note(self) -> str:
        """One line saying where the numbers come from."""
        return f"{self.region} on-demand list prices as of {self.as_of}"


def load_prices(path: Path = PRICES_FILE) -> Prices:
    """Read the price table; a malformed file fails loudly (it ships with the code)."""
    data = json.loads(Path(path).read_text())
    hourly = {str(key): float(value) for key, value in data["hourly_usd"].items()}
    if any(value < 0 for value in hourly.values()):
        raise ValueError(f"{path}: negative price")
    return Prices(hourly=hourly, region=data["region"], as_of=data["as_of"], source=data["source"])


def sum_known(costs: list[float | None]) -> tuple[float, int]:
    """(sum of the known costs, number of unknown ones)."""
    known = [cost for cost in costs if cost is not None]
    return sum(known), len(costs) - len(known)


def format_usd(value: float | None, digits: int = 3) -> str:
    """``"?"`` for an unknown cost, otherwise the amount with ``digits`` decimals."""
    return "?" if value is None else f"{value:.{digits}f}"
