"""The load client's ceiling: an HTTP server that answers every request without doing any work.

    python bench/byom_null_server.py PORT WORKERS ANSWER_BYTES

It reads each request's body and answers 200 with a canned body of ANSWER_BYTES bytes (the
size of the real server's answer for that payload, so the client reads as much as it would
from the real one). asyncio on uvloop with httptools, in WORKERS forked processes sharing the
port (SO_REUSEPORT): the cheapest server this machine's Python can run, so a load test that
gets no more from it than from a real server is measuring the client, not the server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import httptools
import uvloop


class _NullProtocol(asyncio.Protocol):
    def __init__(self, answers: dict[str, bytes]) -> None:
        self._answers = answers
        self._parser = httptools.HttpRequestParser(self)
        self._transport = None
        self._path = b""

    def connection_made(self, transport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._transport.close()

    def on_url(self, url: bytes) -> None:
        self._path = url

    def on_message_complete(self) -> None:
        self._transport.write(self._answers["ping" if self._path == b"/ping" else "invoke"])


def _response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


def main() -> None:
    port, workers, answer_bytes = (int(value) for value in sys.argv[1:4])
    answers = {"ping": _response(b""), "invoke": _response(b"x\n" * (answer_bytes // 2))}
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            uvloop.run(_serve(listener, answers))
            os._exit(0)
        children.append(pid)

    def stop(*_) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    for child in children:
        os.waitpid(child, 0)


async def _serve(listener: socket.socket, answers: dict[str, bytes]) -> None:
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stopped.set_result, None)
    server = await loop.create_server(lambda: _NullProtocol(answers), sock=listener)
    async with server:
        await stopped


if __name__ == "__main__":
    main()
