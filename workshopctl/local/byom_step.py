"""Module 7 locally: the bring-your-own scikit-learn container's programs, without Docker.

Runs the container's own ``train`` and ``serve`` programs as plain subprocesses with their
``/opt/ml`` root under the workspace's ``work`` bucket, then does what the workshop notebook
does against the endpoint: sends some iris rows as CSV (and as JSON), compares the answers
with the true species, and stops the server with SIGTERM, as SageMaker would.
"""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from workshopctl.local.workspace import Log, Metric, StepReport, Workspace

BYOM_DIR = Path(__file__).resolve().parents[2] / "training_code" / "byom_scikit"
HYPERPARAMETERS = {"max_leaf_nodes": "5"}  # as SageMaker passes them: strings
# The notebook's test rows: 10 flowers from each species (rows 40-49, 90-99, 140-148).
EXAMPLE_ROWS = [base + offset for base in (0, 50, 100) for offset in range(40, 50)][:-1]
LATENCY_SAMPLES = 50


class ByomScikitStep:
    """Train with ``train``, serve with ``serve``, query it like the workshop notebook."""

    name = "byom-scikit"

    def __init__(self, python: str = sys.executable, workers: int = 2) -> None:
        self.python = python
        self.workers = workers

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        folder = workspace.bucket("work") / "byom_scikit"
        shutil.rmtree(folder, ignore_errors=True)
        opt_ml = folder / "opt_ml"
        rows = self._prepare_inputs(opt_ml)
        log("byom: training with the container's train program")
        train_seconds = self._train(opt_ml)
        manifest = json.loads((opt_ml / "model" / "manifest.json").read_text())
        port = _free_loopback_port()
        server_log = folder / "serve.log"
        log(f"byom: serving on 127.0.0.1:{port} with {self.workers} workers")
        server = self._start_server(opt_ml, port, server_log)
        try:
            ready_seconds = _wait_for_ping(port, server)
            answers = _query_like_the_notebook(port, rows)
        finally:
            exit_code = _stop(server)
        if exit_code != 0:
            raise RuntimeError(f"serve exited with {exit_code} after SIGTERM; see {server_log}")
        return _report(manifest, answers, rows, train_seconds, ready_seconds, exit_code,
                       [opt_ml / "model" / "manifest.json", server_log])  # fmt: skip

    def _prepare_inputs(self, opt_ml: Path) -> list[tuple[str, list[str]]]:
        training_csv = opt_ml / "input" / "data" / "training" / "iris.csv"
        subprocess.run(
            [self.python, "-m", "byom.iris_data", str(training_csv)],
            cwd=BYOM_DIR, check=True, capture_output=True,
        )  # fmt: skip
        config = opt_ml / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(json.dumps(HYPERPARAMETERS))
        lines = training_csv.read_text().splitlines()
        return [(lines[i].split(",")[0], lines[i].split(",")[1:]) for i in EXAMPLE_ROWS]

    def _train(self, opt_ml: Path) -> float:
        started = time.perf_counter()
        done = subprocess.run(
            [self.python, str(BYOM_DIR / "train"), "--opt-ml", str(opt_ml)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            failure = opt_ml / "output" / "failure"
            reason = failure.read_text().strip() if failure.exists() else done.stderr[-2000:]
            raise RuntimeError(f"train failed ({done.returncode}): {reason}")
        return time.perf_counter() - started

    def _start_server(self, opt_ml: Path, port: int, server_log: Path) -> subprocess.Popen:
        command = [self.python, str(BYOM_DIR / "serve"), "--opt-ml", str(opt_ml)]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers)]
        with open(server_log, "wb") as output:  # the child keeps its own copy of the handle
            return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_ping(port: int, server: subprocess.Popen, timeout: float = 20.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"serve exited with {server.returncode} before answering /ping")
        try:
            status, _, _ = _request(port, "GET", "/ping")
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"serve did not answer /ping within {timeout:.0f} s")


def _request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        return response.status, payload, (time.perf_counter() - started) * 1000
    finally:
        connection.close()


def _query_like_the_notebook(port: int, rows: list[tuple[str, list[str]]]) -> dict:
    csv_body = "\n".join(",".join(features) for _, features in rows).encode()
    status, payload, csv_ms = _request(
        port, "POST", "/invocations", csv_body, {"Content-Type": "text/csv"}
    )
    if status != 200:
        raise RuntimeError(f"CSV invocation answered {status}: {payload[:200]!r}")
    csv_labels = payload.decode().splitlines()
    json_body = json.dumps({"instances": [[float(v) for v in f] for _, f in rows[:3]]}).encode()
    status, payload, json_ms = _request(
        port, "POST", "/invocations", json_body,
        {"Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    if status != 200:
        raise RuntimeError(f"JSON invocation answered {status}: {payload[:200]!r}")
    one_row = ",".join(rows[0][1]).encode()
    latencies = [
        _request(port, "POST", "/invocations", one_row, {"Content-Type": "text/csv"})[2]
        for _ in range(LATENCY_SAMPLES)
    ]
    return {
        "csv_labels": csv_labels,
        "csv_ms": csv_ms,
        "json_answer": json.loads(payload),
        "json_ms": json_ms,
        "one_row_ms": latencies,
    }


def _stop(server: subprocess.Popen) -> int:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        return server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        return server.wait()


def _report(manifest, answers, rows, train_seconds, ready_seconds, exit_code, artifacts):
    truth = [species for species, _ in rows]
    predicted = answers["csv_labels"]
    correct = sum(t == p for t, p in zip(truth, predicted, strict=True))
    accuracy = correct / len(truth)
    p50 = statistics.median(answers["one_row_ms"])
    return StepReport(
        title="Module 7: bring-your-own scikit-learn container (local)",
        lines=[
            f"trained a decision tree ({manifest['node_count']} nodes, depth "
            f"{manifest['max_depth']}) in {train_seconds:.1f} s; hyperparameters "
            f"{HYPERPARAMETERS}",
            f"server ready in {ready_seconds:.1f} s; CSV request of {len(rows)} rows answered in "
            f"{answers['csv_ms']:.1f} ms, {correct}/{len(rows)} species right",
            f"JSON request (3 rows, Accept: application/json) answered in "
            f"{answers['json_ms']:.1f} ms: {answers['json_answer']}",
            f"1-row request latency over {LATENCY_SAMPLES} requests (new connection each): "
            f"p50 {p50:.2f} ms, max {max(answers['one_row_ms']):.2f} ms",
            f"SIGTERM: serve exited with {exit_code}",
        ],
        metrics=[
            Metric("example accuracy", accuracy, ">= 0.90", accuracy >= 0.90),
            Metric("1-row p50 latency ms", round(p50, 3), "<= 5", p50 <= 5),
            Metric("training accuracy", manifest["training"]["train_accuracy"]),
            Metric("serve exit code after SIGTERM", exit_code, "== 0", exit_code == 0),
        ],
        artifacts=list(artifacts),
        tables={
            "predictions": [
                {"row": index, "species": t, "predicted": p}
                for index, t, p in zip(EXAMPLE_ROWS, truth, predicted, strict=True)
            ]
        },
    )
