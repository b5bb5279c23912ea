"""Input checks whose messages name the file, the column and the offending lines.

A processing job's only feedback channel is its failure message, so "column 'temp' is not
numeric at lines 7, 12" beats a pandas traceback. Line numbers are 1-based file lines with the
header on line 1, so they can be opened in any editor.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from training_code.contract import JobError


class DataError(JobError):
    """The input data breaks the schema or a rule."""


def _lines(index: Iterable[int], limit: int = 5) -> str:
    lines = [int(i) + 2 for i in index]  # row 0 is on line 2, under the header
    shown = ", ".join(str(n) for n in lines[:limit])
    more = f" and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def require_columns(df: pd.DataFrame, required: Iterable[str], source: str) -> None:
    """Fail when any required column is missing."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise DataError(f"{source}: missing column(s) {names}; found {', '.join(df.columns)}")


def to_numeric(df: pd.DataFrame, columns: Iterable[str], source: str) -> pd.DataFrame:
    """Return ``df`` with ``columns`` as numbers; fail naming the column and lines otherwise."""
    out = df.copy()
    for column in columns:
        values = pd.to_numeric(df[column], errors="coerce")
        empty = df[column].isna()
        if empty.any():
            raise DataError(f"{source}: column {column!r} is empty at {_lines(df.index[empty])}")
        bad = values.isna()
        if bad.any():
            example = df[column][bad].iloc[0]
            raise DataError(
                f"{source}: column {column!r} is not numeric at {_lines(df.index[bad])} "
                f"(e.g. {example!r})"
            )
        out[column] = values
    return out


def check_range(df: pd.DataFrame, column: str, low: float, high: float, source: str) -> None:
    """Fail when a numeric column leaves [low, high]."""
    bad = (df[column] < low) | (df[column] > high)
    if bad.any():
        raise DataError(
            f"{source}: column {column!r} outside [{low}, {high}] at {_lines(df.index[bad])} "
            f"(e.g. {df[column][bad].iloc[0]!r})"
        )


def check_allowed(df: pd.DataFrame, column: str, allowed: Iterable, source: str) -> None:
    """Fail when a column holds a value outside ``allowed``."""
    allowed = list(allowed)
    bad = ~df[column].isin(allowed)
    if bad.any():
        raise DataError(
            f"{source}: column {column!r} has {df[column][bad].iloc[0]!r} at "
            f"{_lines(df.index[bad])}; allowed: {', '.join(map(str, allowed))}"
        )


def check_unique(df: pd.DataFrame, key: list[str], source: str) -> None:
    """Fail when two rows share the same key."""
    duplicated = df.duplicated(subset=key, keep="first")
    if duplicated.any():
        raise DataError(f"{source}: duplicate {'/'.join(key)} at {_lines(df.index[duplicated])}")
