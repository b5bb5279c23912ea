"""SageMaker hyperparameters (every value a JSON *string*) -> DecisionTreeClassifier kwargs.

SageMaker writes ``{"max_leaf_nodes": "5"}`` even for numbers, so each known setting has a
parser that turns the string into the type scikit-learn wants; native JSON values (handy for
local runs) are accepted too. Ranges are left to scikit-learn, whose messages are precise.
Unknown names are an error (a typo should not silently train the default model), except
SageMaker's own bookkeeping keys (``sagemaker_*``, ``_tuning_objective_metric``, ...).
"""

from __future__ import annotations

from collections.abc import Callable

# Deterministic by default so two trainings on the same data give the same model.
DEFAULTS = {"random_state": 0}
_NONE_WORDS = {"", "none", "null"}


class HyperparameterError(ValueError):
    """A hyperparameter that is unknown or cannot be read."""


def _optional(parse: Callable[[object], object]) -> Callable[[object], object]:
    def parse_or_none(value: object) -> object:
        if value is None or (isinstance(value, str) and value.strip().lower() in _NONE_WORDS):
            return None
        return parse(value)

    return parse_or_none


def _integer(value: object) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _integer_or_fraction(value: object) -> int | float:
    # sklearn reads 2 as "two samples" and 0.5 as "half of the samples": keep the distinction.
    text = str(value).strip()
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def _word(value: object) -> str:
    return str(value).strip()


def _features_setting(value: object) -> int | float | str:
    text = str(value).strip()
    return text if text in ("sqrt", "log2") else _integer_or_fraction(text)


PARSERS: dict[str, Callable[[object], object]] = {
    "max_leaf_nodes": _optional(_integer),
    "max_depth": _optional(_integer),
    "min_samples_split": _integer_or_fraction,
    "min_samples_leaf": _integer_or_fraction,
    "min_weight_fraction_leaf": float,
    "min_impurity_decrease": float,
    "max_features": _optional(_features_setting),
    "criterion": _word,
    "splitter": _word,
    "class_weight": _optional(_word),
    "random_state": _optional(_integer),
    "ccp_alpha": float,
}


def is_sagemaker_bookkeeping(name: str) -> bool:
    return name.startswith(("sagemaker_", "_"))


def parse_hyperparameters(raw: dict) -> dict:
    """The DecisionTreeClassifier keyword arguments for SageMaker's hyperparameters dict."""
    if not isinstance(raw, dict):
        raise HyperparameterError("hyperparameters.json must hold a JSON object")
    parsed = dict(DEFAULTS)
    for name, value in raw.items():
        if is_sagemaker_bookkeeping(name):
            continue
        parser = PARSERS.get(name)
        if parser is None:
            known = ", ".join(sorted(PARSERS))
            raise HyperparameterError(f"unknown hyperparameter {name!r}; known: {known}")
        try:
            parsed[name] = parser(value)
        except (TypeError, ValueError) as error:
            raise HyperparameterError(f"hyperparameter {name}={value!r}: {error}") from None
    return parsed
