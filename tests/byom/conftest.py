"""Shared fixtures: a trained iris model and real ``serve`` processes on loopback ports."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BYOM_DIR = Path(__file__).resolve().parents[2] / "training_code" / "byom_scikit"
sys.path.insert(0, str(BYOM_DIR))

from byom.iris_data import write_iris_csv  # noqa: E402

IRIS_SETOSA = "5.1,3.5,1.4,0.2"
IRIS_VIRGINICA = "6.2,3.4,5.4,2.3"


def run_train(
    opt_ml: Path, hyperparameters: dict | None = None, python: str = sys.executable
) -> subprocess.CompletedProcess:
    if hyperparameters is not None:
        config = opt_ml / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    return subprocess.run(
        [python, str(BYOM_DIR / "train"), "--opt-ml", str(opt_ml)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="session")
def trained_root(tmp_path_factory) -> Path:
    """An /opt/ml root with iris in the training channel and a model trained from it."""
    root = tmp_path_factory.mktemp("opt_ml")
    write_iris_csv(root / "input" / "data" / "training" / "iris.csv")
    done = run_train(root, {"max_leaf_nodes": "5"})
    assert done.returncode == 0, done.stderr
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """``serve`` as a subprocess on a free 127.0.0.1 port, logs in a file."""

    def __init__(
        self,
        opt_ml: Path,
        log_path: Path,
        env: dict | None = None,
        workers: int = 2,
        python: str = sys.executable,
    ):
        self.port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        command = [python, str(BYOM_DIR / "serve"), "--opt-ml", str(opt_ml)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        self.process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.exit_code: int | None = None
        self.workers = workers
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                self.request("GET", "/ping")
                if len(self.worker_pids()) == self.workers:  # every worker has booted
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server did not start:\n{self.log_path.read_text()}")

    def request(self, method, path, body=b"", headers=None, timeout=10.0):
        """(status, headers dict, body) over a fresh connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def invoke(self, body: bytes | str, content_type="text/csv", accept=None, path="/invocations"):
        headers = {"Content-Type": content_type} if content_type is not None else {}
        if accept is not None:
            headers["Accept"] = accept
        data = body.encode() if isinstance(body, str) else body
        return self.request("POST", path, data, headers)

    def worker_pids(self) -> set[int]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {int(child) for child in children}

    def log_lines(self) -> list[str]:
        return [line for line in self.log_path.read_text().splitlines() if line.strip()]

    def stop(self) -> int:
        if self.exit_code is None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            try:
                self.exit_code = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.exit_code = self.process.wait()
            self._log.close()
        return self.exit_code


@pytest.fixture(scope="module")
def server(trained_root, tmp_path_factory):
    """A single-model server with 2 workers, shared by a test module."""
    started = ServerProcess(trained_root, tmp_path_factory.mktemp("logs") / "serve.log")
    yield started
    started.stop()


@pytest.fixture
def start_server(tmp_path):
    """Start servers with custom environment; all are stopped at the end of the test."""
    started: list[ServerProcess] = []

    def start(opt_ml: Path, env: dict | None = None, workers: int = 2) -> ServerProcess:
        server = ServerProcess(opt_ml, tmp_path / f"serve-{len(started)}.log", env, workers)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
