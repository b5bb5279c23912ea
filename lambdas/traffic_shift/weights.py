"""A traffic-shift request, validated, and the variant weights it leads to (no AWS calls).

Request forms (a JSON object):

    {"endpoint": "mlws-bank-ab", "weights": {"variant-a": 0.5, "variant-b": 0.5}}
    {"endpoint": "mlws-bank-ab", "weights": [{"variant": "variant-a", "weight": 0.5}, ...]}
    {"endpoint": "mlws-bank-ab", "shift": {"to": "variant-b", "by": 0.1}}

plus an optional ``"max_step": 0.2``: refuse any request that moves a variant's share of the
traffic by more than that. The list form exists because a JSON object cannot carry a repeated
variant name (parsers keep the last one silently); in the list a repeat is refused.

Weights are relative, as in SageMaker: 9 and 1 route like 0.9 and 0.1. Variants the ``weights``
form does not name keep their weight. ``shift`` moves ``by`` of the whole traffic to one variant
and takes it from the others in proportion to their shares. A request that leaves every
variant's share where it is plans no change, so a re-run is a no-op.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

REQUEST_FIELDS = ("endpoint", "weights", "shift", "max_step")
SHARE_TOLERANCE = 1e-6  # shares closer than this route the same traffic
ROUNDING = 6  # digits kept in computed weights: 0.8, not 0.8000000000000002


class InvalidShiftRequest(ValueError):
    """A request refused before anything changed; ``field`` names the input at fault."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class ShiftRequest:
    """A well-formed request; whether its variants exist is checked against the endpoint."""

    endpoint: str
    weights: dict[str, float] | None = None
    shift_to: str | None = None
    shift_by: float | None = None
    max_step: float | None = None


def shares(weights: Mapping[str, float]) -> dict[str, float]:
    """Each variant's share of the traffic (weights divided by their sum)."""
    total = sum(weights.values())
    return {name: (weight / total if total > 0 else 0.0) for name, weight in weights.items()}


@dataclass(frozen=True)
class ShiftPlan:
    """The weights before and after a request, for every variant of the endpoint."""

    endpoint: str
    before: dict[str, float]
    after: dict[str, float]

    @property
    def unchanged(self) -> bool:
        """True when the split of the traffic would not move."""
        return self.largest_step()[1] <= SHARE_TOLERANCE

    @property
    def changes(self) -> dict[str, float]:
        """The variants whose weight must be set; the others keep theirs."""
        return {name: w for name, w in self.after.items() if w != self.before[name]}

    def largest_step(self) -> tuple[str, float]:
        """The variant whose share moves most, and by how much (0..1)."""
        old, new = shares(self.before), shares(self.after)
        return max(((name, abs(new[name] - old[name])) for name in new), key=lambda x: x[1])

    def desired_weights(self) -> list[dict[str, object]]:
        """``DesiredWeightsAndCapacities`` for UpdateEndpointWeightsAndCapacities.

        Weights only: leaving ``DesiredInstanceCount`` out keeps each variant's (autoscaled)
        instance count as it is.
        """
        return [{"VariantName": name, "DesiredWeight": w} for name, w in self.changes.items()]


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidShiftRequest(field, f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidShiftRequest(field, f"must be a finite number, got {value!r}")
    return number


def _weight_entries(raw: object) -> list[tuple[object, str, object, str]]:
    """(variant, its field, weight, its field) for the object and the list forms."""
    if isinstance(raw, Mapping):
        return [(name, "weights", weight, f"weights.{name}") for name, weight in raw.items()]
    if isinstance(raw, list):
        entries = []
        for index, item in enumerate(raw):
            where = f"weights[{index}]"
            if not isinstance(item, Mapping) or set(item) != {"variant", "weight"}:
                raise InvalidShiftRequest(where, 'must be {"variant": name, "weight": number}')
            entries.append((item["variant"], f"{where}.variant", item["weight"], f"{where}.weight"))
        return entries
    raise InvalidShiftRequest(
        "weights", "must be an object {variant: weight} or a list of {variant, weight}"
    )


def _parse_weights(raw: object) -> dict[str, float]:
    weights: dict[str, float] = {}
    for name, name_field, weight, weight_field in _weight_entries(raw):
        if not isinstance(name, str) or not name.strip():
            raise InvalidShiftRequest(name_field, f"must be a variant name, got {name!r}")
        if name in weights:
            raise InvalidShiftRequest(name_field, f"variant {name!r} is named more than once")
        value = _number(weight, weight_field)
        if value < 0:
            raise InvalidShiftRequest(weight_field, f"must be >= 0, got {value:g}")
        weights[name] = value
    if not weights:
        raise InvalidShiftRequest("weights", "names no variant")
    return weights


def _share_limit(value: object, field: str) -> float:
    number = _number(value, field)
    if not 0 < number <= 1:
        raise InvalidShiftRequest(
            field, f"must be a share of the traffic in (0, 1], got {number:g}"
        )
    return number


def parse_request(
    event: object, prefix: str, default_max_step: float | None = None
) -> ShiftRequest:
    """Validate a request's shape and values; the endpoint must be one of the workshop's."""
    if not isinstance(event, Mapping):
        raise InvalidShiftRequest("request", f"must be a JSON object, got {type(event).__name__}")
    unknown = sorted(str(key) for key in event if key not in REQUEST_FIELDS)
    if unknown:
        raise InvalidShiftRequest(unknown[0], f"unknown field; use {', '.join(REQUEST_FIELDS)}")
    endpoint = event.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidShiftRequest("endpoint", f"must be an endpoint name, got {endpoint!r}")
    if not endpoint.startswith(f"{prefix}-"):
        raise InvalidShiftRequest(
            "endpoint", f"{endpoint!r} is not this workshop's (names start with '{prefix}-')"
        )
    if ("weights" in event) == ("shift" in event):
        raise InvalidShiftRequest(
            "shift" if "shift" in event else "weights", "give either weights or shift, not both"
        )
    raw_step = event.get("max_step", default_max_step)
    max_step = None if raw_step is None else _share_limit(raw_step, "max_step")
    if "weights" in event:
        return ShiftRequest(endpoint, weights=_parse_weights(event["weights"]), max_step=max_step)
    shift = event["shift"]
    if not isinstance(shift, Mapping) or set(shift) != {"to", "by"}:
        raise InvalidShiftRequest("shift", 'must be {"to": variant, "by": share in (0, 1]}')
    if not isinstance(shift["to"], str) or not shift["to"]:
        raise InvalidShiftRequest("shift.to", f"must be a variant name, got {shift['to']!r}")
    return ShiftRequest(
        endpoint,
        shift_to=shift["to"],
        shift_by=_share_limit(shift["by"], "shift.by"),
        max_step=max_step,
    )


def _shifted(current: Mapping[str, float], to: str, by: float) -> dict[str, float]:
    before = shares(current)
    target = min(1.0, before[to] + by)
    rest = 1.0 - before[to]
    after = {
        name: target if name == to else (share * (1.0 - target) / rest if rest > 0 else 0.0)
        for name, share in before.items()
    }
    return {name: round(weight, ROUNDING) for name, weight in after.items()}


def plan_shift(request: ShiftRequest, current: Mapping[str, float]) -> ShiftPlan:
    """The weights ``request`` leads to from ``current`` (the endpoint's variant weights).

    Raises InvalidShiftRequest for a variant the endpoint does not have, for weights that would
    leave no variant to send requests to, and for a step larger than ``max_step``.
    """
    if not current:
        raise InvalidShiftRequest("endpoint", f"{request.endpoint} has no production variants")
    known = ", ".join(sorted(current))
    if request.weights is not None:
        for name in request.weights:
            if name not in current:
                raise InvalidShiftRequest(
                    f"weights.{name}", f"no such variant on {request.endpoint} (has {known})"
                )
        after = {**current, **request.weights}
        if sum(after.values()) <= 0:
            raise InvalidShiftRequest(
                "weights", "every variant would have weight 0: no variant left to serve requests"
            )
        field = "weights"
    else:
        assert request.shift_to is not None and request.shift_by is not None
        if request.shift_to not in current:
            raise InvalidShiftRequest(
                "shift.to", f"no such variant on {request.endpoint} (has {known})"
            )
        after = _shifted(current, request.shift_to, request.shift_by)
        field = "shift.by"
    plan = ShiftPlan(request.endpoint, dict(current), after)
    if request.max_step is not None:
        variant, step = plan.largest_step()
        if step > request.max_step + SHARE_TOLERANCE:
            raise InvalidShiftRequest(
                field,
                f"moves {step:.1%} of the traffic for {variant}; max_step allows "
                f"{request.max_step:.1%} per request",
            )
    return plan
