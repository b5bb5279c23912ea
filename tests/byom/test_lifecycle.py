"""Starting, failing to load, and stopping the server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .conftest import BYOM_DIR, IRIS_SETOSA, free_port


def test_sigterm_stops_cleanly_and_finishes_in_flight_requests(trained_root, start_server):
    server = start_server(trained_root)
    big = ((IRIS_SETOSA + "\n") * 50_000).encode()
    answers = []
    sender = threading.Thread(target=lambda: answers.append(server.invoke(big)[0]))
    sender.start()
    time.sleep(0.05)
    server.process.send_signal(signal.SIGTERM)
    sender.join(timeout=30)
    assert server.stop() == 0
    assert answers == [200]
    messages = [json.loads(line)["message"] for line in server.log_lines()]
    assert "Shutting down: Master" in messages


def test_ping_is_503_with_the_reason_when_the_model_cannot_load(
    trained_root, tmp_path, start_server
):
    root = tmp_path / "opt_ml"
    shutil.copytree(trained_root / "model", root / "model")
    artifact = root / "model" / "tree.npz"
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    server = start_server(root, workers=1)
    status, _, body = server.request("GET", "/ping")
    assert status == 503
    assert "sha256" in json.loads(body)["error"]
    assert server.invoke(IRIS_SETOSA)[0] == 503
    assert server.stop() == 0


def test_worker_count_is_reported_for_batch_transform(trained_root, start_server):
    server = start_server(trained_root, workers=3)
    assert len(server.worker_pids()) == 3
    status, _, body = server.request("GET", "/execution-parameters")
    assert status == 200
    assert json.loads(body)["MaxConcurrentTransforms"] == 3


def test_port_workers_and_root_from_sagemaker_environment(trained_root, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "SAGEMAKER_BIND_TO_HOST": "127.0.0.1",
        "MODEL_SERVER_WORKERS": "1",
        "MODEL_SERVER_TIMEOUT": "30",
        "SM_ROOT": str(trained_root),
    }
    with open(tmp_path / "serve.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(BYOM_DIR / "serve")], env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.05)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
