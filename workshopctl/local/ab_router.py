"""A local stand-in for an endpoint's production variants: a weighted router over real HTTP.

SageMaker sends each request to one variant, chosen at random in proportion to the variant
weights, names it in the response header ``X-Amzn-Invoked-Production-Variant``, and lets a caller
pin a variant with ``TargetVariant`` (HTTP header ``X-Amzn-SageMaker-Target-Variant``). This router
does the same in front of local model servers, with a seeded random choice so a rehearsal is
repeatable. ``set_weights`` changes the split in place, as UpdateEndpointWeightsAndCapacities does
without a redeploy. Listens on 127.0.0.1, on a free port the OS picks.
"""

from __future__ import annotations

import http.client
import math
import random
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from workshopctl.local.background_server import BackgroundServer

INVOKED_VARIANT_HEADER = "X-Amzn-Invoked-Production-Variant"
TARGET_VARIANT_HEADER = "X-Amzn-SageMaker-Target-Variant"
UPSTREAM_TIMEOUT_SECONDS = 60  # SageMaker's limit for an invocation


class WeightedChoice:
    """SageMaker's pick of a production variant per request: at random, in proportion to the
    variants' weights, from a seeded generator (same seed, same sequence of picks).

    Shared by the router below and the emulator's InvokeEndpoint; thread-safe."""

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


class WeightedRouter(BackgroundServer):
    """Routes ``POST /invocations`` to variant servers (name → port on 127.0.0.1) by weight."""

    def __init__(self, variants: Mapping[str, int], weights: Mapping[str, float], seed: int):
        self.variants = dict(variants)
        if set(weights) != set(self.variants):
            raise ValueError(
                f"weights name {sorted(weights)}, the router has {sorted(self.variants)}"
            )
        self._choice = WeightedChoice(weights, seed)
        super().__init__(_RouterHTTPServer(self), "ab-router")

    @property
    def weights(self) -> dict[str, float]:
        return self._choice.weights

    def set_weights(self, weights: Mapping[str, float]) -> None:
        self._choice.set_weights(weights)

    def choose(self) -> str:
        return self._choice.choose()


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


def _forward(
    port: int, body: bytes, content_type: str | None, accept: str | None = None
) -> tuple[int, bytes, str]:
    # As SageMaker does: the variant sees the caller's Content-Type and Accept.
    headers = {k: v for k, v in (("Content-Type", content_type), ("Accept", accept)) if v}
    return post_to_model(port, "/invocations", body, headers)


class _Handler(BaseHTTPRequestHandler):
    server: _RouterHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # the step measures and reports; per-request lines would drown its output

    def _answer(self, status: int, body: bytes, content_type: str, variant: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if variant:
            self.send_header(INVOKED_VARIANT_HEADER, variant)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._answer(200, b"", "text/plain", None)
        else:
            self._answer(404, b"not found: use POST /invocations\n", "text/plain", None)

    def do_POST(self) -> None:
        router = self.server.router
        if self.path != "/invocations":
            self._answer(404, b"not found: use POST /invocations\n", "text/plain", None)
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._answer(411, b"send a Content-Length\n", "text/plain", None)
            return
        body = self.rfile.read(int(length))
        target = self.headers.get(TARGET_VARIANT_HEADER)
        if target is not None and target not in router.variants:
            message = f"no variant {target!r}; the endpoint has {', '.join(router.variants)}\n"
            self._answer(400, message.encode(), "text/plain", None)
            return
        variant = target or router.choose()
        try:
            status, answer, content_type = _forward(
                router.variants[variant],
                body,
                self.headers.get("Content-Type"),
                self.headers.get("Accept"),
            )
        except OSError as error:
            self._answer(
                502, f"variant {variant} did not answer: {error}\n".encode(), "text/plain", variant
            )
            return
        self._answer(status, answer, content_type, variant)


class _RouterHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, router: WeightedRouter):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.router = router
