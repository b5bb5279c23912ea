"""The platform matrix (``platforms.yaml``): each runtime we ship code to and its end of support.

One data file answers "which version do we deploy?" for the stacks (Lambda runtime, Glue
version, CodeBuild image, notebook platform, algorithm images) and "how long may we?" for the
config, the tests and ``make up``. Pure Python (no CDK, no boto3), so every side can read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MATRIX_FILE = Path(__file__).with_name("platforms.yaml")
WARNING_DAYS = 90  # a quarter ahead: time to port and rehearse before the next event


@dataclass(frozen=True)
class Platform:
    """One runtime: what we deploy there (``identifier``) and until when AWS supports it."""

    key: str
    kind: str
    identifier: str
    runs: str
    page: str
    source: str
    end_of_support: date | None = None
    no_date_reason: str | None = None
    implies: Mapping[str, Any] = field(default_factory=dict)
    in_use: bool = True  # False: a retired platform kept only so the config can name its end

    def is_retired(self, today: date) -> bool:
        """Past its end of support on ``today`` (the end date itself is still supported)."""
        return self.end_of_support is not None and self.end_of_support < today

    def retirement(self) -> str:
        """One line naming the platform, its end of support and the page that states it."""
        return (
            f"{self.key} ({self.identifier}) reached end of support on "
            f"{self.end_of_support.isoformat() if self.end_of_support else '?'} ({self.page})"
        )


@dataclass(frozen=True)
class Matrix:
    """Every platform of ``platforms.yaml`` by key, and when the file was last checked."""

    last_checked: date
    platforms: Mapping[str, Platform]

    def __getitem__(self, key: str) -> Platform:
        return self.platforms[key]

    def of_kind(self, kind: str) -> list[Platform]:
        return [p for p in self.platforms.values() if p.kind == kind]

    def in_use(self) -> list[Platform]:
        """The platforms we deploy to (retired ones kept for the config's messages excluded)."""
        return [p for p in self.platforms.values() if p.in_use]

    def retired(self, today: date) -> list[Platform]:
        """Platforms in use whose end of support is before ``today``."""
        return [p for p in self.in_use() if p.is_retired(today)]

    def ending_within(self, today: date, days: int = WARNING_DAYS) -> list[Platform]:
        """Platforms still supported on ``today`` whose support ends within ``days`` days."""
        return [
            p
            for p in self.in_use()
            if p.end_of_support is not None and 0 <= (p.end_of_support - today).days <= days
        ]


def parse(document: Mapping[str, Any]) -> Matrix:
    """A :class:`Matrix` from the YAML document's mapping (tests feed modified copies)."""
    platforms = {
        key: Platform(
            key=key,
            kind=entry["kind"],
            identifier=str(entry["identifier"]),
            runs=entry["runs"],
            page=entry["page"],
            source=entry["source"],
            end_of_support=_as_date(entry.get("end_of_support")),
            no_date_reason=entry.get("no_date_reason"),
            implies=entry.get("implies") or {},
            in_use=entry.get("in_use", True),
        )
        for key, entry in document["platforms"].items()
    }
    return Matrix(last_checked=_as_date(document["last_checked"]), platforms=platforms)


def load(path: Path = MATRIX_FILE) -> Matrix:
    """The matrix in ``path`` (by default the project's ``platforms.yaml``)."""
    return parse(yaml.safe_load(path.read_text()))


@cache
def matrix() -> Matrix:
    """The project's matrix, read once per process."""
    return load()


def identifier(key: str) -> str:
    """What the stacks deploy for platform ``key``, e.g. ``identifier("glue") == "5.0"``."""
    return matrix()[key].identifier


def warnings(today: date, days: int = WARNING_DAYS, source: Matrix | None = None) -> list[str]:
    """One line per platform retired by ``today`` or whose support ends within ``days`` days."""
    source = source or matrix()
    lines = [f"platform retired: {p.retirement()}" for p in source.retired(today)]
    lines += [
        f"platform ending in {(p.end_of_support - today).days} days: {p.key} "
        f"({p.identifier}) until {p.end_of_support.isoformat()} ({p.page})"
        for p in source.ending_within(today, days)
    ]
    return lines


def _as_date(value: Any) -> date | None:
    # YAML reads an unquoted 2026-06-30 as a date already; a quoted one arrives as text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
