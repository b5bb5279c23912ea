"""Matplotlib without a display: jobs run headless in containers and CI."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # must precede pyplot: no display in a container

import matplotlib.pyplot as plt

__all__ = ["plt", "save"]


def save(fig, path: Path) -> Path:
    """Write ``fig`` as a PNG and free it (jobs draw many figures in one process)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    # No timestamp in the PNG metadata: the same data gives the same bytes.
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path
