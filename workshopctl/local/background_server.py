"""An HTTP server on a loopback port, served from a daemon thread until ``stop()``.

The local endpoint stand-ins (a model server, the A/B router) are this plus their handler.
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Self

POLL_SECONDS = 0.05  # how quickly serve_forever notices shutdown()


class BackgroundServer:
    """Owns ``server`` (bound to 127.0.0.1, port 0) and the thread that serves it."""

    def __init__(self, server: ThreadingHTTPServer, name: str) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            args=(POLL_SECONDS,),
            daemon=True,
            name=f"{name}-{self.port}",
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, finish the loop and release the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
