"""A local stand-in for the serving side of SageMaker's built-in XGBoost (1.7-1) container.

The contract it keeps: the model is ``model.tar.gz`` holding the file ``xgboost-model``;
``GET /ping`` answers 200 once the model is loaded; ``POST /invocations`` takes ``text/csv``
(feature rows, no label, no header; an empty field is a missing value) and answers ``text/csv``
with one probability per line. A malformed body gets a 4xx with a message and the server keeps
serving: 400 for bad CSV, 411 without a length, 413 above SageMaker's 6 MB payload limit, 415
for another content type. Real HTTP on 127.0.0.1, on a free port the OS picks.

It reads the model with xgboost alone, independent of ``training_code/``: this is the serving
half of the contract, as the real container would see the artifact the training job produced.

In process (``XGBoostServer``, the local target's serving step) or as a process of its own, as
the emulator's endpoints run it: ``python -m workshopctl.local.xgboost_server --opt-ml ROOT
--port PORT`` serves ``ROOT/model/xgboost-model`` (where SageMaker unpacks ``model.tar.gz``,
under ``/opt/ml``) until SIGTERM.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import tarfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import xgboost as xgb

from workshopctl.local.background_server import BackgroundServer

MODEL_FILE = "xgboost-model"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker real-time invocation limit
CSV_TYPES = ("text/csv",)


class PayloadError(ValueError):
    """A request the model cannot answer; ``status`` is the HTTP code to send back."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def load_model(tarball: Path) -> xgb.Booster:
    """The booster inside a built-in-style ``model.tar.gz`` (read in memory, nothing unpacked)."""
    with tarfile.open(tarball, "r:gz") as archive:
        member = next(
            (m for m in archive.getmembers() if m.isfile() and Path(m.name).name == MODEL_FILE),
            None,
        )
        if member is None:
            raise FileNotFoundError(f"{tarball} holds no {MODEL_FILE} file")
        handle = archive.extractfile(member)
        assert handle is not None  # a regular file always has a handle
        raw = handle.read()
    return _booster(raw)


def load_model_file(model_file: Path) -> xgb.Booster:
    """The booster in an unpacked model folder's ``xgboost-model`` file."""
    return _booster(model_file.read_bytes())


def _booster(raw: bytes) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    # One thread per prediction: on a shared 2-core machine OpenMP threads only contend.
    booster.set_param({"nthread": 1})
    return booster


def parse_csv(body: bytes, features: int) -> np.ndarray:
    """Feature rows from a text/csv body; raises PayloadError naming the line and column."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError(400, "the body is not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise PayloadError(400, "the body holds no CSV rows")
    rows = np.empty((len(lines), features), dtype=np.float32)
    for row, line in enumerate(lines):
        values = line.split(",")
        if len(values) != features:
            raise PayloadError(
                400, f"line {row + 1} has {len(values)} values; the model takes {features}"
            )
        for column, value in enumerate(values):
            try:
                rows[row, column] = float(value) if value.strip() else math.nan
            except ValueError:
                raise PayloadError(
                    400, f"line {row + 1}, column {column + 1}: {value.strip()!r} is not a number"
                ) from None
    return rows


def predict_csv(booster: xgb.Booster, body: bytes) -> bytes:
    """One probability per line for the rows of a text/csv body."""
    rows = parse_csv(body, booster.num_features())
    probabilities = booster.inplace_predict(rows)
    return "".join(f"{p:.8f}\n" for p in np.asarray(probabilities, dtype=float)).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _ModelHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # the step measures and reports; per-request lines would drown its output

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._answer(200, b"")
        else:
            self._answer(404, b"not found: use GET /ping or POST /invocations\n")

    def do_POST(self) -> None:
        if self.path != "/invocations":
            self._answer(404, b"not found: use GET /ping or POST /invocations\n")
            return
        try:
            body = self._read_body()
            answer = predict_csv(self.server.booster, body)
        except PayloadError as error:
            self._answer(error.status, f"{error}\n".encode())
            return
        self._answer(200, answer, "text/csv")

    def _read_body(self) -> bytes:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in CSV_TYPES:
            raise PayloadError(415, f"content type {content_type or 'none'!r}; send text/csv")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise PayloadError(411, "send a Content-Length")
        if int(length) > MAX_PAYLOAD_BYTES:
            _discard(self.rfile, int(length))  # so the client, still sending, reads the 413
            raise PayloadError(413, f"{length} bytes is above the {MAX_PAYLOAD_BYTES} limit")
        return self.rfile.read(int(length))


def _discard(stream, length: int, chunk: int = 1 << 20) -> None:
    while length > 0:
        read = len(stream.read(min(chunk, length)))
        if not read:
            return
        length -= read


class _ModelHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, booster: xgb.Booster, address: tuple[str, int] = ("127.0.0.1", 0)):
        super().__init__(address, _Handler)
        self.booster = booster


class XGBoostServer(BackgroundServer):
    """One model served over HTTP on 127.0.0.1 until ``stop()`` (or the ``with`` block ends)."""

    def __init__(self, tarball: Path):
        self.tarball = tarball
        self.booster = load_model(tarball)
        super().__init__(_ModelHTTPServer(self.booster), "xgboost-server")


def main(argv: list[str] | None = None) -> int:
    """Serve ``<opt-ml>/model/xgboost-model`` until SIGTERM or SIGINT; exit 0 then."""
    parser = argparse.ArgumentParser(prog="xgboost_server", description=main.__doc__)
    parser.add_argument("--opt-ml", type=Path, required=True, help="the /opt/ml root")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    booster = load_model_file(args.opt_ml / "model" / MODEL_FILE)
    server = _ModelHTTPServer(booster, (args.host, args.port))

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # leaves serve_forever in the main thread

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
