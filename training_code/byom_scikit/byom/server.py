"""``serve``: start the inference server the way SageMaker's hosting contract expects.

Settings (flag, else environment variable, else default):

* port: ``--port``, ``SAGEMAKER_BIND_TO_PORT`` (SageMaker sets it when the image has the
  ``accept-bind-to-port`` label), 8080;
* host: ``--host``, ``SAGEMAKER_BIND_TO_HOST``, ``0.0.0.0`` (tests use 127.0.0.1);
* workers: ``--workers``, ``MODEL_SERVER_WORKERS``, one per CPU;
* timeout: ``--timeout``, ``MODEL_SERVER_TIMEOUT``, 60 s: a worker silent that long is
  restarted by gunicorn;
* model folder: ``<root>/model`` with the root from ``--opt-ml`` / ``SM_ROOT`` / ``/opt/ml``;
* multi-model mode: ``SAGEMAKER_MULTI_MODEL=true`` (see :mod:`byom.model_store`).

SIGTERM stops gracefully: gunicorn stops accepting, lets in-flight requests finish (up to
``graceful_timeout``), stops the workers and exits 0.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

from byom.app import InferenceApp, settings_from_environment
from byom.logs import logging_config
from byom.paths import SageMakerPaths, resolve_root


class ByomWorker(UvicornWorker):
    """uvicorn in a gunicorn worker, with the C parser and loop, and our own request log."""

    CONFIG_KWARGS: ClassVar[dict] = {
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "access_log": False,
        "server_header": False,
    }


class _GunicornServer(BaseApplication):
    def __init__(self, app: InferenceApp, options: dict) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> InferenceApp:
        return self._app


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    environ = os.environ
    parser = argparse.ArgumentParser(prog="serve", description=__doc__.splitlines()[0])
    parser.add_argument("--opt-ml", help="the /opt/ml root (default: $SM_ROOT or /opt/ml)")
    parser.add_argument("--host", default=environ.get("SAGEMAKER_BIND_TO_HOST", "0.0.0.0"))
    parser.add_argument(
        "--port", type=int, default=int(environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(environ.get("MODEL_SERVER_WORKERS", "0") or 0) or (os.cpu_count() or 1),
    )
    parser.add_argument(
        "--timeout", type=int, default=int(environ.get("MODEL_SERVER_TIMEOUT", "60"))
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGTERM/SIGINT; return gunicorn's exit status."""
    args = parse_args(argv)
    paths = SageMakerPaths(resolve_root(args.opt_ml))
    registry_dir = _private_registry_dir()
    os.environ["MODEL_SERVER_WORKERS"] = str(args.workers)  # /execution-parameters reports it
    settings = settings_from_environment(paths.model_dir, registry_dir)
    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "worker_class": ByomWorker,
        "timeout": args.timeout,
        "graceful_timeout": min(args.timeout, 20),
        # Longer than a load balancer's usual 60 s idle timeout, so the client closes first.
        "keepalive": 65,
        "logconfig_dict": logging_config(),
        # Heartbeat files in memory: on a container's overlay disk they can stall workers.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        "proc_name": "byom-serve",
        # gunicorn's runtime-control socket: unused here, and it wants a writable $HOME.
        "control_socket_disable": True,
    }
    _GunicornServer(InferenceApp(settings), options).run()
    return 0


def _private_registry_dir() -> Path:
    """A fresh folder for the multi-model table, removed when the server (not a worker) exits."""
    directory = Path(tempfile.mkdtemp(prefix="byom-models-"))
    server_pid = os.getpid()

    def remove() -> None:
        if os.getpid() == server_pid:  # forked workers inherit atexit hooks; only we clean up
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)
    return directory
