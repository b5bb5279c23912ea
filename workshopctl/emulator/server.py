"""The emulated account's API on localhost: moto behind a router that authorizes every call
and hands the operations that must compute to the project's executors.

    client ──HTTP──► Router ──► Gate (the synthesized IAM policies) ──► executor or moto

moto holds the state of every service whose state is enough (S3, IAM, SSM, Glue, Athena's
workgroups, ECR, CloudWatch, Logs, Application Auto Scaling, ...). An executor registered for a
(service, operation) runs instead, and may ask moto first (``forward``) to store and validate
what it then executes.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.serving import make_server

from workshopctl.cloud_assembly import Role
from workshopctl.emulator import waits
from workshopctl.emulator.call_log import CallLog, LoggedCall
from workshopctl.emulator.delete_objects import CHECKSUM_HEADERS, per_key
from workshopctl.emulator.gate import Gate
from workshopctl.emulator.wire import Call, _model, parse

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise
ORGANISER = "organiser"  # the deploy's own identity: CloudFormation acting for the organiser
CLOUDFORMATION_RESPONSES = "/__cloudformation-responses/"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    @classmethod
    def of_json(
        cls, value: Any, status: int = 200, content_type: str = "application/x-amz-json-1.1"
    ):
        return cls(
            status, [("Content-Type", content_type)], json.dumps(value, default=str).encode()
        )


Forward = Callable[[Call], Reply]
Executor = Callable[[Call, Forward], Reply]


@dataclass(frozen=True)
class Identity:
    """Who holds an access key: a role of the assembly (or the organiser), under a label."""

    label: str
    role: Role | None  # None: the organiser


@dataclass
class Router:
    """The WSGI application in front of moto."""

    moto_app: Any
    gate: Gate
    log: CallLog
    identities: dict[str, Identity] = field(default_factory=dict)
    executors: dict[tuple[str, str], Executor] = field(default_factory=dict)
    # Custom resource responses, by request id: the pre-signed URL CloudFormation gives a
    # provider is served here, under CLOUDFORMATION_RESPONSES.
    cloudformation_responses: dict[str, dict] = field(default_factory=dict)

    def __call__(self, environ, start_response):
        started, arrived = time.perf_counter(), time.time()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "")
        if path.startswith(CLOUDFORMATION_RESPONSES) and environ["REQUEST_METHOD"] == "PUT":
            request_id = path[len(CLOUDFORMATION_RESPONSES) :]
            self.cloudformation_responses[request_id] = json.loads(body or b"{}")
            return self._send(Reply(200, [], b""), start_response)
        call = parse(environ, body)
        identity = self.identities.get(call.access_key or "")
        if identity is None:
            reply = error_reply(call, 403, "InvalidClientTokenId", "unknown access key")
            return self._send(reply, start_response)
        call.caller = identity
        logged = LoggedCall(
            call.service, call.operation, identity.role.arn if identity.role else ORGANISER,
            at=arrived,
        )  # fmt: skip
        if identity.role is not None:
            logged.checks = self.gate.check(identity.role, call)
        if logged.denied and (call.service, call.operation) == ("s3", "DeleteObjects"):
            reply = per_key(call, logged.checks, self.forwarder(_without_checksums(environ)), Reply)
        elif logged.denied:
            denied = next(check for check in logged.checks if not check.allowed)
            message = (
                f"User: {identity.role.arn} is not authorized to perform: {denied.action} on "
                f"resource: {denied.resource} ({denied.reason})"
            )
            reply = error_reply(call, 403, "AccessDenied", message)
        else:
            executor = self.executors.get((call.service, call.operation))
            forward = self.forwarder(environ)
            try:
                reply = executor(call, forward) if executor else forward(call)
            except ServiceError as failure:
                reply = error_reply(call, failure.status, failure.code, str(failure))
            except Exception as failure:  # an emulator defect: loud, and in the service's shape
                traceback.print_exc()
                message = f"emulator failure in {call.service} {call.operation}: {failure!r}"
                reply = error_reply(call, 500, "InternalFailure", message)
        logged.status = reply.status
        logged.usage = call.usage
        if waits.observed(call.service, call.operation):
            answer = reply.json() if reply.status == 200 else None
            logged.subject, logged.state = waits.observe(
                call.service, call.operation, call.params, answer
            )
        logged.seconds = round(time.perf_counter() - started, 4)
        self.log.add(identity.label, logged)
        return self._send(reply, start_response)

    def forwarder(self, environ) -> Forward:
        def forward(call: Call) -> Reply:
            inner = dict(environ)
            inner["wsgi.input"] = io.BytesIO(call.body)
            inner["CONTENT_LENGTH"] = str(len(call.body))
            captured: dict[str, Any] = {}

            def start(status, headers, exc_info=None):
                captured["status"], captured["headers"] = int(status.split()[0]), headers

            chunks = self.moto_app(inner, start)
            body = b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
            if captured["status"] == 500 and body.lstrip()[:15].lower() == b"<!doctype html>":
                # moto raised (typically NotImplementedError): say so instead of an HTML page,
                # and with a status botocore does not retry.
                message = f"{call.service} {call.operation} is not emulated (moto failed on it)"
                return error_reply(call, 501, "NotImplementedByEmulator", message)
            return Reply(captured["status"], list(captured["headers"]), body)

        return forward

    @staticmethod
    def _send(reply: Reply, start_response):
        headers = list(reply.headers)
        if not any(k.lower() == "content-length" for k, _ in headers):
            # A HEAD reply keeps the length of the object it describes, as moto set it.
            headers.append(("Content-Length", str(len(reply.body))))
        start_response(f"{reply.status} {'OK' if reply.status < 400 else 'Error'}", headers)
        return [reply.body]


def _without_checksums(environ: dict) -> dict:
    """The request's environment without the checksum of a body the router rewrites."""
    return {
        key: value
        for key, value in environ.items()
        if key not in CHECKSUM_HEADERS and not key.startswith("HTTP_X_AMZ_CHECKSUM_")
    }


class ServiceError(Exception):
    """An executor's refusal, answered in the service's own error shape."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def error_reply(call: Call, status: int, code: str, message: str) -> Reply:
    """An error as the service's protocol shapes it, so botocore raises ``ClientError(code)``."""
    protocol = _model(call.service).protocol if call.service else "rest-xml"
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        return Reply.of_json({"__type": code, "message": message}, 400 if status == 403 else status)
    if protocol == "rest-json":
        body = json.dumps({"message": message}).encode()
        return Reply(
            status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)], body
        )
    if protocol == "query":
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>0</RequestId></ErrorResponse>"
        )
        return Reply(status, [("Content-Type", "text/xml")], xml.encode())
    xml = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    return Reply(status, [("Content-Type", "application/xml")], xml.encode())


def access_key_for(label: str, principal: str) -> str:
    """A stable access key per caller (AKIA + 16 characters, as AWS's look)."""
    digest = hashlib.sha256(f"{label}\0{principal}".encode()).hexdigest().upper()
    return "AKIA" + digest[:16]


class EmulatorServer:
    """The router served on a loopback port in a background thread."""

    def __init__(self, router: Router, host: str = "127.0.0.1", port: int = 0):
        self.router = router
        self._server = make_server(host, port, router, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> EmulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
