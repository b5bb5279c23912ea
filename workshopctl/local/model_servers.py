"""Model servers as local processes, under SageMaker's hosting contract, without Docker.

SageMaker starts an endpoint's (or a batch transform job's) container with the model archive
unpacked into ``/opt/ml/model`` and expects an HTTP server on a port it gives, answering
``GET /ping`` and ``POST /invocations``
(https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html); a
multi-model container (``SAGEMAKER_MULTI_MODEL=true``) adds the ``/models`` API instead
(https://docs.aws.amazon.com/sagemaker/latest/dg/mms-container-apis.html). Here each container
is a process of this repository's Python, with its own folder standing in for ``/opt/ml``, on a
free loopback port:

* ``xgboost`` (the built-in XGBoost image): :mod:`workshopctl.local.xgboost_server`;
* ``byom`` (the workshop's model image): the container's own ``serve`` program, one worker.

The server's command line names its folder, so whoever started it can find it in ``/proc``. It
is stopped with SIGTERM, as SageMaker stops a container.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from subprocess import STDOUT, Popen
from urllib.parse import quote

from workshopctl.local.ab_router import post_to_model
from workshopctl.local.pipeline_jobs import BYOM_DIR, REPO_ROOT, job_environment

SERVER_KINDS = ("xgboost", "byom")
READY_SECONDS = 60.0  # SageMaker allows 4 minutes; a loaded 2-core machine needs a few seconds
LOG_FILE = "serve.log"  # in the server's /opt/ml folder: what CloudWatch would hold


class ServerFailed(RuntimeError):
    """The server exited or never answered /ping; the message ends with its log's tail."""


@dataclass
class ModelServer:
    """One model server process (``start``, then ``wait_until_ready``; ``stop`` when done)."""

    kind: str
    opt_ml: Path
    port: int
    process: Popen

    @classmethod
    def start(
        cls,
        kind: str,
        opt_ml: Path,
        *,
        environment: Mapping[str, str] | None = None,
        multi_model: bool = False,
        program: Path | None = None,
    ) -> ModelServer:
        """Launch the server of ``kind`` over ``opt_ml`` (its model in ``opt_ml/model``); does
        not wait for it: start every variant's server first, then wait for each. ``program``:
        a ``byom`` image's own ``/opt/program`` (an image pushed to the emulated ECR), instead
        of the container's source in training_code/byom_scikit."""
        if kind not in SERVER_KINDS:
            raise ValueError(f"kind {kind!r}: use one of {SERVER_KINDS}")
        if multi_model and kind != "byom":
            raise ValueError("only the workshop's model image serves multi-model endpoints")
        port = _free_loopback_port()
        if kind == "xgboost":
            command = [sys.executable, "-m", "workshopctl.local.xgboost_server"]
            code_path = REPO_ROOT
        else:
            code_path = program or BYOM_DIR
            command = [sys.executable, str(code_path / "serve"), "--workers", "1"]
        command += ["--opt-ml", str(opt_ml), "--host", "127.0.0.1", "--port", str(port)]
        env = _container_environment(opt_ml, code_path, environment or {}, multi_model)
        with open(opt_ml / LOG_FILE, "ab") as log:  # the child keeps its own copy of the handle
            process = Popen(command, env=env, cwd=opt_ml, stdout=log, stderr=STDOUT)
        return cls(kind, opt_ml, port, process)

    def wait_until_ready(self, timeout: float = READY_SECONDS) -> float:
        """Seconds until ``/ping`` answered 200; :class:`ServerFailed` (server stopped) if not."""
        try:
            return _wait_for_ping(self.port, self.process, timeout)
        except RuntimeError as error:
            self.stop()
            raise ServerFailed(f"{error}; its log ends with: {self.log_tail()}") from None

    def invoke(
        self, body: bytes, headers: Mapping[str, str], target_model: str | None = None
    ) -> tuple[int, bytes, str]:
        """``POST /invocations`` (or ``/models/<target>/invoke``): status, body, Content-Type."""
        path = "/invocations" if target_model is None else f"/models/{_quoted(target_model)}/invoke"
        return post_to_model(self.port, path, body, headers)

    def load_model(self, name: str, folder: Path) -> tuple[int, str]:
        """Multi-model load API: 200 loaded, 409 already loaded, 507 no room; and the message."""
        body = json.dumps({"model_name": name, "url": str(folder)}).encode()
        status, answer, _ = post_to_model(
            self.port, "/models", body, {"Content-Type": "application/json"}
        )
        return status, answer.decode(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then a kill after 30 s; the exit code."""
        return _stop(self.process)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 5) -> str:
        path = self.opt_ml / LOG_FILE
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty)"


def _quoted(name: str) -> str:
    return quote(name, safe="")


def _container_environment(
    opt_ml: Path, code_path: Path, container: Mapping[str, str], multi_model: bool
) -> dict[str, str]:
    """What the container sees: the model's Environment, the job layout, and no AWS settings of
    whoever started it (a container gets its role's credentials, not the caller's)."""
    env = {k: v for k, v in job_environment(opt_ml, code_path).items() if not k.startswith("AWS_")}
    env.update({str(k): str(v) for k, v in container.items()})
    if multi_model:
        env["SAGEMAKER_MULTI_MODEL"] = "true"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# -- a server process on a loopback port -----------------------------------------------
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


def _stop(server: subprocess.Popen) -> int:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        return server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        return server.wait()
