"""Closed-loop HTTP load on loopback: wrk when installed, else a lean Python client.

Both keep connections alive and report requests/s, p50/p99 latency and failures. Only
127.0.0.1 is ever targeted. The Python client runs one process per connection, each sending
a pre-built request and parsing just the status line and Content-Length, so the client costs
as little CPU as Python allows (it shares the machine's cores with the servers).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


@dataclass
class LoadResult:
    """One run of load against one server."""

    requests: int
    failures: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    port: int,
    body: bytes,
    seconds: float,
    connections: int,
    path: str = "/invocations",
    use_wrk: bool | None = None,
) -> LoadResult:
    """POST ``body`` as text/csv to 127.0.0.1:port for ``seconds`` over ``connections``."""
    if use_wrk is None:
        use_wrk = wrk_available()
    if use_wrk:
        return _run_wrk(port, body, seconds, connections, path)
    return _run_python(port, [body], seconds, connections, path)


def run_mixed_python_load(
    port: int, bodies: list[bytes], seconds: float, connections: int
) -> LoadResult:
    """Like run_load with the Python client, cycling through several bodies."""
    return _run_python(port, bodies, seconds, connections, "/invocations")


# -- wrk --------------------------------------------------------------------------------------

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/csv"
local f = io.open("{body_path}", "rb"); wrk.body = f:read("*a"); f:close()
"""
_DURATION_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _run_wrk(port: int, body: bytes, seconds: float, connections: int, path: str) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="byom-wrk-") as folder:
        body_path = Path(folder) / "body.csv"
        body_path.write_bytes(body)
        script = Path(folder) / "post.lua"
        script.write_text(_WRK_SCRIPT.format(body_path=body_path))
        command = [
            "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
            "--timeout", "5s", "-s", str(script), f"http://{LOOPBACK}:{port}{path}",
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return _parse_wrk(output)


def _parse_wrk(output: str) -> LoadResult:
    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(found.group(1)) * _DURATION_UNITS[found.group(2)] if found else float("nan")

    requests = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    count = int(requests.group(1))
    seconds = float(requests.group(2)) * _DURATION_UNITS[requests.group(3)] / 1000.0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failures = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        failures += sum(int(n) for n in socket_errors.groups())
    return LoadResult(count, failures, seconds, latency("50"), latency("99"))


# -- Python client --------------------------------------------------------------------------


def _run_python(
    port: int, bodies: list[bytes], seconds: float, connections: int, path: str
) -> LoadResult:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.monotonic() + 0.2  # every client starts together
    workers = [
        context.Process(
            target=_client, args=(port, bodies, path, start_at, seconds, index, results)
        )
        for index in range(connections)
    ]
    for worker in workers:
        worker.start()
    latencies = array("d")
    failures = 0
    for _ in workers:
        worker_latencies, worker_failures = results.get()
        latencies.frombytes(worker_latencies)
        failures += worker_failures
    for worker in workers:
        worker.join()
    ordered = sorted(latencies)

    def percentile(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    return LoadResult(len(ordered), failures, seconds, percentile(0.50), percentile(0.99))


def _request_bytes(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _client(port, bodies, path, start_at, seconds, index, results) -> None:
    requests = [_request_bytes(port, path, body) for body in bodies]
    latencies = array("d")
    failures = 0
    connection = None
    time.sleep(max(0.0, start_at - time.monotonic()))
    deadline = time.monotonic() + seconds
    sent = index  # stagger which body each client starts with
    while time.monotonic() < deadline:
        request = requests[sent % len(requests)]
        sent += 1
        began = time.perf_counter()
        try:
            if connection is None:
                connection = socket.create_connection((LOOPBACK, port), timeout=10)
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                reader = connection.makefile("rb")
            connection.sendall(request)
            status = _read_response(reader)
        except OSError:
            failures += 1
            connection = None
            continue
        latencies.append((time.perf_counter() - began) * 1000.0)
        if not 200 <= status < 300:
            failures += 1
    if connection is not None:
        connection.close()
    results.put((latencies.tobytes(), failures))
    results.close()
    results.join_thread()  # flush to the parent before the hard exit below
    os._exit(0)  # skip the parent's atexit hooks in this forked child


def _read_response(reader) -> int:
    status_line = reader.readline()
    if not status_line:
        raise ConnectionResetError("server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    remaining = length
    while remaining:
        chunk = reader.read(remaining)
        if not chunk:
            raise ConnectionResetError("server closed mid-body")
        remaining -= len(chunk)
    return status
