"""Reading the label-first, header-less CSV that SageMaker's built-in XGBoost consumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training_code.contract import JobError, data_files


def read_label_first_csv(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) from all CSV files of a channel; fails naming the file and line."""
    frames = []
    for path in data_files(folder):
        frame = pd.read_csv(path, header=None)
        for column in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[column]):
                continue
            bad = pd.to_numeric(frame[column], errors="coerce").isna() & frame[column].notna()
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 1 if bad.any() else "?"
            example = frame[column][bad].iloc[0] if bad.any() else None
            raise JobError(
                f"channel {name}: {path.name} line {line}, column {column + 1} is not numeric "
                f"({example!r}); text/csv means numbers only, label first, no header"
            )
        frames.append(frame)
    values = pd.concat(frames, ignore_index=True).to_numpy(dtype=np.float32)
    if values.shape[1] < 2:
        raise JobError(f"channel {name}: need a label column and at least one feature")
    return values[:, 1:], values[:, 0]
