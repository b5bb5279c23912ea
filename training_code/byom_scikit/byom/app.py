"""The inference server's HTTP layer: a bare ASGI application, no web framework.

Why bare ASGI under uvicorn (httptools parser, uvloop event loop) in gunicorn-managed worker
processes, rather than the 2020 sample's nginx -> gunicorn -> Flask:

* The work per request is tiny (a 1-row tree walk is microseconds), so the HTTP stack *is*
  the cost. httptools/uvloop parse and write in C; a framework's routing, request objects and
  middleware would cost more than the prediction. We serve six routes; a dict lookup does.
* Keep-alive connections (which SageMaker's front end uses) are served without a thread per
  connection, so a slow client cannot tie up a worker, and ``/ping`` is answered between
  requests even while every worker is busy: no request holds the event loop for more than
  the parse-and-predict time of a body capped at 6 MB (tens of milliseconds).
* gunicorn supervises the workers: it restarts one that dies or stalls past
  ``MODEL_SERVER_TIMEOUT``, and shuts them down gracefully on SIGTERM.
* No nginx: its job in the 2020 sample (buffering slow clients, the body-size cap) is done
  here by the event loop and by checking Content-Length before reading a byte of the body.

Single-model mode serves ``/ping``, ``/invocations`` and ``/execution-parameters``;
multi-model mode (``SAGEMAKER_MULTI_MODEL=true``) serves SageMaker's ``/models`` API.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np

from byom.model_format import ModelFormatError, load_model
from byom.model_store import (
    CapacityPolicy,
    InsufficientCapacity,
    ModelAlreadyLoaded,
    ModelRegistry,
)
from byom.payloads import (
    JSON,
    MAX_BODY_BYTES,
    PayloadError,
    feature_batches,
    request_format,
    response_format,
)
from byom.tree_predictor import TreePredictor

logger = logging.getLogger("byom.server")

_JSON_HEADERS = [(b"content-type", b"application/json")]
_CSV_HEADERS = [(b"content-type", b"text/csv")]
_MODELS_PAGE_SIZE = 100
_MAX_MODEL_NAME_LENGTH = 1024


@dataclass(frozen=True)
class AppSettings:
    """What a worker needs to know; built once by ``serve`` from flags and environment."""

    model_dir: Path
    multi_model: bool = False
    registry_dir: Path | None = None
    policy: CapacityPolicy = field(default_factory=CapacityPolicy)
    max_body_bytes: int = MAX_BODY_BYTES
    workers: int = 1


@dataclass
class _Response:
    status: int
    body: bytes
    headers: list = field(default_factory=lambda: _JSON_HEADERS)
    rows: int = 0
    error: str = ""


def _json_response(status: int, document: object) -> _Response:
    error = document.get("error", "") if isinstance(document, dict) else ""
    return _Response(status, json.dumps(document).encode(), _JSON_HEADERS, error=error)


class InferenceApp:
    """The ASGI application (one instance per worker process)."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self.predictor: TreePredictor | None = None
        self.load_error = "the model has not been loaded yet"
        self.registry: ModelRegistry | None = None
        self._cache: dict[str, tuple[str, TreePredictor]] = {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            await self._handle_http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._handle_lifespan(receive, send)

    # -- lifecycle -------------------------------------------------------------------------

    async def _handle_lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                logger.info("worker stopping")
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        """Load the model (single-model mode) or open the shared registry (multi-model)."""
        if self.settings.multi_model:
            self.registry = ModelRegistry(self.settings.registry_dir, self.settings.policy)
            logger.info("multi-model mode", extra={"registry": str(self.settings.registry_dir)})
            return
        started = time.perf_counter()
        try:
            model = load_model(self.settings.model_dir)
        except ModelFormatError as error:
            # Not fatal to the process: /ping answers 503 with the reason, which is what
            # SageMaker's health check (and whoever reads the logs) needs to see.
            self.load_error = str(error)
            logger.error("model not loaded", extra={"reason": self.load_error})
            return
        self.predictor = TreePredictor(model)
        logger.info(
            "model loaded",
            extra={
                "load_ms": round((time.perf_counter() - started) * 1000, 2),
                "classes": list(model.classes),
                "n_features": model.n_features,
                "node_count": model.tree.node_count,
                "max_depth": model.max_depth,
                "trained_with_sklearn": model.manifest.get("sklearn_version"),
            },
        )

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle_http(self, scope, receive, send) -> None:
        started = time.perf_counter()
        bytes_in = 0
        try:
            headers = _headers_of(scope)
            response, bytes_in = await self._route(scope, headers, receive)
        except PayloadError as error:
            response = _json_response(error.status, {"error": error.message})
            bytes_in = _declared_length(scope)
        except Exception as error:  # a failing request must never take the worker down
            logger.exception("request failed", extra={"path": scope.get("path")})
            response = _json_response(500, {"error": f"internal error: {type(error).__name__}"})
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    *response.headers,
                    (b"content-length", str(len(response.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})
        if response.status != 200 or scope["path"] != "/ping":  # healthy pings are noise
            self._log_request(scope, response, bytes_in, started)

    def _log_request(self, scope, response: _Response, bytes_in: int, started: float) -> None:
        fields = {
            "method": scope["method"],
            "path": scope["path"],
            "status": response.status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "bytes_in": bytes_in,
            "bytes_out": len(response.body),
        }
        if response.rows:
            fields["rows"] = response.rows
        if response.error:
            fields["error"] = response.error
        logger.info("request", extra=fields)

    async def _route(self, scope, headers: dict, receive) -> tuple[_Response, int]:
        method, path = scope["method"], scope["path"]
        if path == "/ping" and method == "GET":
            return self._ping(), 0
        if self.settings.multi_model:
            return await self._route_multi_model(scope, method, path, headers, receive)
        if path == "/invocations":
            _require_method(method, "POST")
            if self.predictor is None:
                return _json_response(503, {"error": f"model not loaded: {self.load_error}"}), 0
            return await self._invoke(self.predictor, headers, receive)
        if path == "/execution-parameters" and method == "GET":
            return self._execution_parameters(), 0
        return _json_response(404, {"error": f"no route {method} {path}"}), 0

    def _ping(self) -> _Response:
        if self.settings.multi_model or self.predictor is not None:
            return _Response(200, b"", [])
        return _json_response(503, {"error": f"model not loaded: {self.load_error}"})

    def _execution_parameters(self) -> _Response:
        # SageMaker batch transform asks this once to size its requests.
        return _json_response(
            200,
            {
                "MaxConcurrentTransforms": self.settings.workers,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": self.settings.max_body_bytes // (1024 * 1024),
            },
        )

    async def _invoke(self, predictor: TreePredictor, headers: dict, receive):
        # Refuse what we cannot read or answer before reading the body.
        kind = request_format(headers.get(b"content-type", b"").decode("latin-1"))
        answer = response_format(headers.get(b"accept", b"").decode("latin-1"))
        body = await _read_body(headers, receive, self.settings.max_body_bytes)
        # Each cache-sized batch is predicted while its features are still in cache.
        batches = [
            predictor.predict_indices(features)
            for features in feature_batches(body, kind, predictor.n_features)
        ]
        indices = batches[0] if len(batches) == 1 else np.concatenate(batches)
        if answer == JSON:
            response = _Response(200, predictor.render_json(indices), _JSON_HEADERS)
        else:
            response = _Response(200, predictor.render_csv(indices), _CSV_HEADERS)
        response.rows = len(indices)
        return response, len(body)

    # -- multi-model -----------------------------------------------------------------------

    async def _route_multi_model(self, scope, method, path, headers, receive):
        if path == "/models":
            if method == "POST":
                body = await _read_body(headers, receive, self.settings.max_body_bytes)
                return self._load_model(body), len(body)
            _require_method(method, "GET")
            return self._list_models(scope.get("query_string", b"")), 0
        if path.startswith("/models/"):
            name = path[len("/models/") :]
            if name.endswith("/invoke"):
                _require_method(method, "POST")
                return await self._invoke_named(name[: -len("/invoke")], headers, receive)
            if method == "GET":
                return self._describe_model(name), 0
            _require_method(method, "DELETE")
            return self._unload_model(name), 0
        if path == "/invocations":
            return _json_response(
                400, {"error": "multi-model mode: invoke POST /models/{name}/invoke"}
            ), 0
        return _json_response(404, {"error": f"no route {method} {path}"}), 0

    def _load_model(self, body: bytes) -> _Response:
        try:
            request = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PayloadError(400, f"malformed JSON: {error}") from None
        if not isinstance(request, dict):
            raise PayloadError(400, 'send {"model_name": ..., "url": ...}')
        name, url = request.get("model_name"), request.get("url")
        if not isinstance(name, str) or not name or len(name) > _MAX_MODEL_NAME_LENGTH:
            raise PayloadError(400, "'model_name' must be a non-empty string")
        if not isinstance(url, str) or not url:
            raise PayloadError(400, "'url' must be the model's local folder")
        if self.registry.lookup(name) is not None:
            return _json_response(409, {"error": f"model {name!r} is already loaded"})
        try:
            predictor = TreePredictor(load_model(Path(url)))
        except ModelFormatError as error:
            raise PayloadError(400, f"cannot load model {name!r}: {error}") from None
        try:
            evicted = self.registry.register(name, url, predictor.nbytes)
        except ModelAlreadyLoaded:
            return _json_response(409, {"error": f"model {name!r} is already loaded"})
        except InsufficientCapacity as error:
            return _json_response(507, {"error": str(error)})
        entry = self.registry.lookup(name)
        if entry is not None:
            self._cache[name] = (entry.load_id, predictor)
        logger.info("model registered", extra={"model_name": name, "url": url, "evicted": evicted})
        return _json_response(200, {"message": f"model {name!r} loaded", "evicted": evicted})

    def _list_models(self, query_string: bytes) -> _Response:
        query = parse_qs(query_string.decode("latin-1"))
        try:
            start = int(query.get("next_page_token", ["0"])[0])
        except ValueError:
            raise PayloadError(
                400, "next_page_token must be a token from a previous page"
            ) from None
        entries = self.registry.entries()
        page = entries[start : start + _MODELS_PAGE_SIZE]
        document: dict = {"models": [{"modelName": e.model_name, "modelUrl": e.url} for e in page]}
        if start + _MODELS_PAGE_SIZE < len(entries):
            document["nextPageToken"] = str(start + _MODELS_PAGE_SIZE)
        return _json_response(200, document)

    def _describe_model(self, name: str) -> _Response:
        entry = self.registry.lookup(name)
        if entry is None:
            return _json_response(404, {"error": f"model {name!r} is not loaded"})
        return _json_response(200, {"modelName": entry.model_name, "modelUrl": entry.url})

    def _unload_model(self, name: str) -> _Response:
        self._cache.pop(name, None)
        if not self.registry.unregister(name):
            return _json_response(404, {"error": f"model {name!r} is not loaded"})
        logger.info("model unloaded", extra={"model_name": name})
        return _json_response(200, {"message": f"model {name!r} unloaded"})

    async def _invoke_named(self, name: str, headers: dict, receive):
        entry = self.registry.lookup(name)
        if entry is None:
            return _json_response(404, {"error": f"model {name!r} is not loaded"}), 0
        predictor = self._cached_predictor(entry)
        self.registry.touch(name)
        return await self._invoke(predictor, headers, receive)

    def _cached_predictor(self, entry) -> TreePredictor:
        cached = self._cache.get(entry.model_name)
        if cached is not None and cached[0] == entry.load_id:
            return cached[1]
        # Loaded by another worker (or reloaded under the same name): load it here too.
        predictor = TreePredictor(load_model(Path(entry.url)))
        if len(self._cache) >= self.settings.policy.max_models:
            self._drop_unregistered_from_cache()
        self._cache[entry.model_name] = (entry.load_id, predictor)
        return predictor

    def _drop_unregistered_from_cache(self) -> None:
        live = {entry.model_name: entry.load_id for entry in self.registry.entries()}
        for name in list(self._cache):
            if live.get(name) != self._cache[name][0]:
                del self._cache[name]


def _headers_of(scope) -> dict[bytes, bytes]:
    # ASGI servers lower-case header names; the last of repeated headers wins.
    return dict(scope["headers"])


def _declared_length(scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


def _require_method(method: str, allowed: str) -> None:
    if method != allowed:
        raise PayloadError(405, f"method {method} not allowed here; use {allowed}")


async def _read_body(headers: dict, receive, limit: int) -> bytes:
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadError(413, f"body of {int(declared)} bytes is over the {limit}-byte limit")
    chunks = []
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise PayloadError(400, "client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:  # chunked uploads declare no length: count as they arrive
            raise PayloadError(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def settings_from_environment(model_dir: Path, registry_dir: Path | None) -> AppSettings:
    """Read the serving environment variables SageMaker (or the operator) sets."""
    multi_model = os.environ.get("SAGEMAKER_MULTI_MODEL", "false").strip().lower() == "true"
    return AppSettings(
        model_dir=model_dir,
        multi_model=multi_model,
        registry_dir=registry_dir,
        policy=CapacityPolicy.from_environment() if multi_model else CapacityPolicy(),
        workers=int(os.environ.get("MODEL_SERVER_WORKERS", "0") or 0) or (os.cpu_count() or 1),
    )
