"""The workshop's example data: Fisher's iris, label first, as the 2020 sample's ``iris.csv``.

Source: R. A. Fisher (1936), "The use of multiple measurements in taxonomic problems",
Annals of Eugenics 7(2); distributed by the UCI Machine Learning Repository
(https://archive.ics.uci.edu/dataset/53/iris) under CC BY 4.0. We do not download or vendor
it: scikit-learn ships the same 150 rows in its wheel (``sklearn.datasets.load_iris``).

Run ``python -m byom.iris_data OUT.csv`` to write the training file.
"""

from __future__ import annotations

import sys
from pathlib import Path

ATTRIBUTION = "Iris data: R. A. Fisher (1936), via the UCI Machine Learning Repository, CC BY 4.0"


def iris_rows() -> list[tuple[str, list[float]]]:
    """(species, [sepal length, sepal width, petal length, petal width]) for all 150 flowers."""
    from sklearn.datasets import load_iris  # training-time dependency only

    iris = load_iris()
    names = [str(name) for name in iris.target_names]
    return [
        (names[t], [float(v) for v in row]) for row, t in zip(iris.data, iris.target, strict=True)
    ]


def write_iris_csv(path: Path) -> Path:
    """Write ``species,f1,f2,f3,f4`` lines without a header (the sample's layout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join([species, *(repr(v) for v in values)]) for species, values in iris_rows()]
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "iris.csv")
    print(f"wrote {write_iris_csv(target)} ({ATTRIBUTION})")
