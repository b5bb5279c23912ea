"""SageMaker's routing between an endpoint's production variants, and one POST to a model server.

SageMaker sends each request to one variant, chosen at random in proportion to the variant
weights, and names it in the response header ``X-Amzn-Invoked-Production-Variant``; a caller may
pin one with ``TargetVariant``. The emulator's InvokeEndpoint makes that choice with
:class:`WeightedChoice` (seeded, so a rehearsal is repeatable) and reaches the variant's local
model server with :func:`post_to_model`.
"""

from __future__ import annotations

import http.client
import math
import random
import threading
from collections.abc import Mapping

UPSTREAM_TIMEOUT_SECONDS = 60  # SageMaker's limit for an invocation


class WeightedChoice:
    """SageMaker's pick of a production variant per request: at random, in proportion to the
    variants' weights, from a seeded generator (same seed, same sequence of picks).

    Thread-safe: the emulator's InvokeEndpoint draws from it on every request thread."""

    def __init__(self, weights: Mapping[str, float], seed: int | str):
        self.variants = tuple(weights)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._weights: dict[str, float] = {}
        self.set_weights(weights)

    @property
    def weights(self) -> dict[str, float]:
        with self._lock:
            return dict(self._weights)

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Replace every variant's weight. Requests are validated upstream (the traffic-shift
        rules); this only keeps the choice from being left with nowhere to route."""
        if set(weights) != set(self.variants):
            raise ValueError(
                f"weights name {sorted(weights)}, the variants are {list(self.variants)}"
            )
        values = [float(w) for w in weights.values()]
        if not all(math.isfinite(w) and w >= 0 for w in values) or sum(values) <= 0:
            raise ValueError(f"weights must be finite, >= 0 and not all 0: {dict(weights)}")
        with self._lock:
            self._weights = {name: float(w) for name, w in weights.items()}

    def choose(self) -> str:
        """One variant, drawn in proportion to the weights (seeded: same run, same draws)."""
        with self._lock:
            names = list(self._weights)
            return self._rng.choices(names, weights=[self._weights[n] for n in names])[0]


def post_to_model(
    port: int, path: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, bytes, str]:
    """One POST to a model server on 127.0.0.1: status, body, Content-Type (SageMaker's 60 s
    invocation limit as the timeout)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=UPSTREAM_TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Content-Type", "text/plain")
    finally:
        connection.close()
