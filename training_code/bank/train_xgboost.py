"""Training job honouring SageMaker's built-in XGBoost (1.7-1) contract, for local rehearsal.

In AWS this step runs the built-in algorithm image; locally this program stands in for it and
keeps its contract so the same job definition works in both places:

* hyperparameters.json with the built-in's names, every value a string (``num_round``, ``eta``,
  ``max_depth``, ``gamma``, ``min_child_weight``, ``subsample``, ``alpha``, ``lambda``,
  ``objective``, ``eval_metric``, ``early_stopping_rounds``, ...); unknown names fail the job;
* channels ``train`` and (optional) ``validation``: CSV, label in the first column, no header
  (content type text/csv, checked against inputdataconfig.json when present);
* the model saved as the file ``xgboost-model`` in the model dir (SageMaker tars the dir into
  model.tar.gz; ``python -m training_code.contract pack-model`` does that locally);
* one log line per round in the built-in's CloudWatch format, tabs shown as ``#011``:
  ``[99]#011train-auc:0.80000#011validation-auc:0.78000``.

Defaults are the workshop's hyperparameters (binary:logistic, max_depth=5, eta=0.2, gamma=4,
min_child_weight=6, subsample=0.8, num_round=100, eval_metric=auc), not the built-in's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import xgboost as xgb

from training_code.bank.channels import read_label_first_csv
from training_code.contract import (
    Hyperparameters,
    JobError,
    TrainingPaths,
    read_content_type,
    read_hyperparameters,
    run_training_job,
)

MODEL_FILE = "xgboost-model"
CSV_CONTENT_TYPES = ("text/csv", "csv")
# name -> (kind, workshop default or None to leave XGBoost's own default)
HYPERPARAMETERS: dict[str, tuple[str, object]] = {
    "num_round": ("int", 100),
    "objective": ("str", "binary:logistic"),
    "eval_metric": ("str", "auc"),
    "eta": ("float", 0.2),
    "max_depth": ("int", 5),
    "gamma": ("float", 4.0),
    "min_child_weight": ("float", 6.0),
    "subsample": ("float", 0.8),
    "colsample_bytree": ("float", None),
    "colsample_bylevel": ("float", None),
    "colsample_bynode": ("float", None),
    "alpha": ("float", None),
    "lambda": ("float", None),
    "max_delta_step": ("float", None),
    "scale_pos_weight": ("float", None),
    "max_bin": ("int", None),
    "tree_method": ("str", None),
    "early_stopping_rounds": ("int", None),
    "seed": ("int", 0),
    "nthread": ("int", None),
    "verbosity": ("int", 0),
}
Log = Callable[[str], None]


def _stdout(line: str) -> None:
    print(line, flush=True)


@dataclass
class TrainResult:
    """What a training run produced: the model file and the last logged metric values."""

    model_file: Path
    rounds: int
    best_round: int | None
    final_metrics: dict[str, float]


def booster_params(hp: Hyperparameters) -> tuple[dict, int, int | None]:
    """XGBoost parameters, the number of rounds and early stopping rounds from string hps."""
    hp.reject_unknown(HYPERPARAMETERS)
    params: dict[str, object] = {}
    for name, (kind, default) in HYPERPARAMETERS.items():
        if name in ("num_round", "early_stopping_rounds") or (
            default is None and name not in hp.raw
        ):
            continue
        if kind == "int":
            params[name] = hp.int(name, default)
        elif kind == "float":
            params[name] = hp.float(name, default)
        else:
            params[name] = hp.str(name, default)
    # eval_metric may list several metrics ("auc,error"); XGBoost wants a list.
    params["eval_metric"] = [m.strip() for m in str(params["eval_metric"]).split(",") if m.strip()]
    num_round = hp.int("num_round", 100, low=1)
    early = hp.int("early_stopping_rounds", 0, low=0) if "early_stopping_rounds" in hp.raw else 0
    return params, num_round, early or None


def read_dmatrix(folder: Path, name: str) -> xgb.DMatrix:
    """A label-first, header-less CSV channel as a DMatrix."""
    features, labels = read_label_first_csv(folder, name)
    return xgb.DMatrix(features, label=labels)


class BuiltinStyleLog(xgb.callback.TrainingCallback):
    """Logs every round as ``[n]#011train-auc:0.80000#011validation-auc:0.78000``.

    That is how the built-in's tab-separated lines appear in CloudWatch, and what SageMaker
    metric definitions (and the local tuner) match with a regex.
    """

    def __init__(self, log: Log):
        self.log = log
        self.last: dict[str, float] = {}

    def after_iteration(self, model, epoch: int, evals_log: dict) -> bool:
        parts = []
        for data_name, metrics in evals_log.items():
            for metric, values in metrics.items():
                value = values[-1][0] if isinstance(values[-1], tuple) else values[-1]
                self.last[f"{data_name}:{metric}"] = float(value)
                parts.append(f"{data_name}-{metric}:{value:.5f}")
        self.log(f"[{epoch}]#011" + "#011".join(parts))
        return False


def check_content_type(paths: TrainingPaths, channel: str) -> None:
    """Fail like the built-in would on a content type this trainer cannot read."""
    declared = read_content_type(paths.config_dir, channel)
    if declared and declared.split(";")[0].strip().lower() not in CSV_CONTENT_TYPES:
        raise JobError(
            f"channel {channel}: content type {declared!r} is not supported locally; use text/csv"
        )


def train(paths: TrainingPaths, log: Log = _stdout) -> TrainResult:
    """Train per the built-in contract and save ``xgboost-model``; ``log`` gets each line."""
    hp = Hyperparameters(read_hyperparameters(paths.config_dir))
    params, num_round, early_stopping = booster_params(hp)
    check_content_type(paths, "train")
    dtrain = read_dmatrix(paths.channel("train"), "train")
    evals = [(dtrain, "train")]
    if paths.channel("validation").exists():
        check_content_type(paths, "validation")
        evals.append((read_dmatrix(paths.channel("validation"), "validation"), "validation"))
    if early_stopping and len(evals) < 2:
        raise JobError("early_stopping_rounds needs a validation channel")

    logger = BuiltinStyleLog(log)
    callbacks: list[xgb.callback.TrainingCallback] = [logger]
    if early_stopping:
        # The built-in stops on the last metric of the validation set and serves the best
        # model; save_best keeps only the trees up to the best round.
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=early_stopping, data_name="validation", save_best=True
            )
        )
    booster = xgb.train(
        params, dtrain, num_boost_round=num_round, evals=evals, verbose_eval=False,
        callbacks=callbacks,
    )  # fmt: skip
    paths.model_dir.mkdir(parents=True, exist_ok=True)
    model_file = paths.model_dir / MODEL_FILE
    # save_raw + write: the file name has no extension, as the built-in's; UBJSON is the
    # format XGBoost picks for it anyway, minus the warning.
    model_file.write_bytes(bytes(booster.save_raw("ubj")))
    best = int(booster.best_iteration) if early_stopping else None
    return TrainResult(model_file, booster.num_boosted_rounds(), best, dict(logger.last))


def load_booster(model_file: Path) -> xgb.Booster:
    """Load an ``xgboost-model`` file written by :func:`train`."""
    booster = xgb.Booster()
    booster.load_model(bytearray(model_file.read_bytes()))
    return booster


def main(argv: list[str] | None = None) -> None:
    run_training_job(train, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
