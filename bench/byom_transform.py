"""Benchmark: SageMaker batch transform's contract against the model server, end to end.

    .venv/bin/python bench/byom_transform.py             # 2,000,000 rows (~33 MB of CSV)
    .venv/bin/python bench/byom_transform.py --rows 200000

What a transform job with ``SplitType=Line``, ``BatchStrategy=MultiRecord`` and
``AssembleWith=Line`` does with one input object, done here against ``serve`` on loopback:
ask ``GET /execution-parameters`` (MaxConcurrentTransforms, BatchStrategy, MaxPayloadInMB),
split the object into lines, pack as many whole lines as fit in MaxPayloadInMB into each
mini-batch, send the mini-batches over MaxConcurrentTransforms keep-alive connections, and
join the answers in input order, one output line per input line (checked). Prints rows per
second over the whole object, the mini-batch latencies (median and worst), and the same for
a second run (median of the runs). The server runs with one worker per core.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from byom_server import _flowers, _prepare_model, _start_ours


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    flowers = _flowers()
    data = "".join(flowers[i % len(flowers)] for i in range(args.rows)).encode()
    with tempfile.TemporaryDirectory(prefix="byom-transform-") as folder:
        workdir = Path(folder)
        _prepare_model(workdir)
        server = _start_ours(workdir, args.workers)
        try:
            parameters = _execution_parameters(server.port)
            batches = _mini_batches(data, parameters["MaxPayloadInMB"] * 1024 * 1024)
            print(
                f"batch transform: {args.rows:,} rows ({len(data) / 1e6:.1f} MB CSV), "
                f"SplitType=Line, BatchStrategy={parameters['BatchStrategy']}, "
                f"MaxPayloadInMB={parameters['MaxPayloadInMB']}, "
                f"MaxConcurrentTransforms={parameters['MaxConcurrentTransforms']} "
                f"(from /execution-parameters); {len(batches)} mini-batches; "
                f"{args.workers} server workers, {os.cpu_count()} cores, loopback"
            )
            runs = [
                _transform(server.port, batches, parameters["MaxConcurrentTransforms"], args.rows)
                for _ in range(args.runs)
            ]
        finally:
            server.stop()
    for index, (seconds, latencies) in enumerate(runs, start=1):
        print(
            f"run {index}: {seconds:.2f} s, {args.rows / seconds:,.0f} rows/s, "
            f"{len(data) / seconds / 1e6:.1f} MB/s; mini-batch latency median "
            f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        )
    median_seconds = statistics.median(seconds for seconds, _ in runs)
    print(f"median: {args.rows / median_seconds:,.0f} rows/s (every output line checked)")
    return 0


def _execution_parameters(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/execution-parameters")
    response = connection.getresponse()
    assert response.status == 200, response.status
    return json.loads(response.read())


def _mini_batches(data: bytes, limit: int) -> list[bytes]:
    """Whole lines, as many as fit in ``limit`` bytes per batch (SplitType=Line, MultiRecord)."""
    batches, start = [], 0
    while start < len(data):
        end = (
            data.rfind(b"\n", start, start + limit) + 1 if start + limit < len(data) else len(data)
        )
        if end <= start:
            raise ValueError(f"a record is longer than {limit} bytes")
        batches.append(data[start:end])
        start = end
    return batches


def _transform(port: int, batches: list[bytes], concurrency: int, rows: int):
    latencies: list[float] = []
    local = threading.local()  # one keep-alive connection per sending thread
    connections: list[http.client.HTTPConnection] = []

    def invoke(batch: bytes) -> bytes:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connections.append(local.connection)
        began = time.perf_counter()
        local.connection.request("POST", "/invocations", body=batch, headers=_HEADERS)
        response = local.connection.getresponse()
        answer = response.read()
        latencies.append(time.perf_counter() - began)
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {answer[:200]!r}")
        return answer

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(invoke, batches))  # in input order
    output = b"".join(answers)  # AssembleWith=Line: each answer ends with a newline
    seconds = time.perf_counter() - began
    for connection in connections:
        connection.close()
    lines = output.count(b"\n")
    if lines != rows:
        raise AssertionError(f"{lines} output lines for {rows} input lines")
    return seconds, latencies


_HEADERS = {"Content-Type": "text/csv", "Accept": "text/csv"}


if __name__ == "__main__":
    sys.exit(main())
