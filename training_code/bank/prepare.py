"""Processing job: check the bank marketing file, engineer the workshop's features, split.

    python -m training_code.bank.prepare --input /opt/ml/processing/input \
        --output /opt/ml/processing/output --feature-set workshop

Writes ``<output>/{train,validation,test}/<split>.csv``: label first, no header, numbers only
(what SageMaker's built-in XGBoost reads as text/csv), and ``<output>/features/features.json``
(feature names in column order, the feature set, dropped columns, row counts, seed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from training_code.bank import features as F
from training_code.contract import (
    data_files,
    opt_ml_root,
    processing_failure_files,
    run_job,
)


def read_bank(path: Path) -> pd.DataFrame:
    """Read the ``;``-separated, quoted file as text; the checks judge every value."""
    files = data_files(path)
    source = files[0].name if len(files) == 1 else f"{len(files)} files in {path}"
    raw = pd.concat([pd.read_csv(f, sep=";", dtype=str) for f in files], ignore_index=True)
    return F.validate(raw, source)


def main(argv: list[str] | None = None) -> None:
    """Entry point; paths default to the SageMaker processing layout under the root."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opt-ml", help="stand-in for /opt/ml (default $SM_ROOT or /opt/ml)")
    parser.add_argument("--input", help="bank-additional-full.csv or a folder holding it")
    parser.add_argument("--output", help="folder for train/, validation/, test/, features/")
    parser.add_argument("--feature-set", choices=sorted(F.FEATURE_SETS), default="workshop")
    parser.add_argument("--seed", type=int, default=1729, help="shuffle seed (workshop: 1729)")
    parser.add_argument("--train-fraction", type=float, default=0.7)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    args = parser.parse_args(argv)
    root = opt_ml_root(args.opt_ml)
    source = Path(args.input or root / "processing" / "input")
    output = Path(args.output or root / "processing" / "output")

    def job() -> None:
        data = read_bank(source)
        table, features = F.engineer(data, args.feature_set)
        splits = F.split_workshop(table, args.seed, args.train_fraction, args.validation_fraction)
        for name, part in splits.items():
            (output / name).mkdir(parents=True, exist_ok=True)
            part.to_csv(output / name / f"{name}.csv", index=False, header=False)
        description = {
            "feature_set": args.feature_set,
            "label": F.LABEL,
            "label_encoding": {"yes": 1, "no": 0},
            "features": features,
            "dropped": F.FEATURE_SETS[args.feature_set],
            "seed": args.seed,
            "rows": {name: len(part) for name, part in splits.items()},
            "positive_share": {
                name: round(float(part[F.LABEL].mean()), 6) for name, part in splits.items()
            },
            "duplicate_rows_kept": int(data.duplicated().sum()),  # as in the workshop
        }
        (output / "features").mkdir(parents=True, exist_ok=True)
        (output / "features" / "features.json").write_text(
            json.dumps(description, indent=2) + "\n", encoding="utf-8"
        )
        print(
            f"prepared bank-marketing ({args.feature_set}, {len(features)} features): "
            f"{json.dumps(description['rows'])}",
            flush=True,
        )

    run_job(job, processing_failure_files(root))


if __name__ == "__main__":
    main()
