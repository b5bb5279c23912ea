"""What an AWS API request asks for, read off the wire: service, operation, parameters, caller.

Clients reach the emulator through one endpoint (``AWS_ENDPOINT_URL``), so the service is told
by the request itself, as AWS's front ends tell it: the SigV4 credential scope names the signing
service, the ``X-Amz-Target`` header names a JSON-protocol operation, ``Action=`` a query-protocol
one, and the HTTP method and path a REST one (matched against botocore's own service models, so
no operation table is typed here). Only the operations the emulator must understand need their
parameters parsed: JSON bodies, query forms and REST path labels.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session

# SigV4 signing name → boto3 client name, where they differ (sagemaker-runtime: by path).
CLIENT_BY_SIGNING_NAME = {"monitoring": "cloudwatch", "servicequotas": "service-quotas"}
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass
class Call:
    """One API request: ``service`` is the boto3 client name, ``operation`` botocore's."""

    service: str
    operation: str
    params: dict[str, Any]
    access_key: str | None
    region: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    query: dict[str, str] = field(default_factory=dict)
    caller: Any = None  # the server's Identity of the access key, set before execution
    # What the call consumes that AWS bills (bytes scanned, instance-seconds...), filled by
    # its executor, possibly later (a job's billable time is known when it ends).
    usage: dict[str, Any] = field(default_factory=dict)


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def _known_services() -> frozenset[str]:
    return frozenset(_session().get_available_services())


@functools.cache
def _model(service: str):
    return _session().get_service_model(service)


@functools.cache
def _rest_routes(service: str) -> list[tuple[str, str, re.Pattern, dict[str, str], int]]:
    """(operation, method, path regex, literal query keys → values, specificity)."""
    routes = []
    for name in _model(service).operation_names:
        http = _model(service).operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        pattern = "^"
        last = 0
        for match in LABEL.finditer(path):
            pattern += re.escape(path[last : match.start()])
            label, greedy = match.groups()
            pattern += f"(?P<{label.replace('-', '_')}>{'.+' if greedy else '[^/]+'})"
            last = match.end()
        pattern += re.escape(path[last:]).rstrip("/") + "/?$"
        literal = {}
        for part in filter(None, query.split("&")):
            key, _, value = part.partition("=")
            literal[key] = value
        specificity = len(literal) * 1000 + len(LABEL.sub("", path))
        routes.append((name, http["method"], re.compile(pattern), literal, specificity))
    return routes


@functools.cache
def _required_members(service: str, operation: str) -> tuple[frozenset[str], frozenset[str]]:
    """(headers, query keys) an operation cannot be sent without (CopyObject's
    x-amz-copy-source, AbortMultipartUpload's uploadId): what tells apart operations that share
    a method and a path."""
    shape = _model(service).operation_model(operation).input_shape
    if shape is None:
        return frozenset(), frozenset()
    required = [shape.members[name].serialization for name in shape.required_members]
    return (
        frozenset(m["name"].lower() for m in required if m.get("location") == "header"),
        frozenset(m["name"] for m in required if m.get("location") == "querystring"),
    )


def rest_operation(service: str, method: str, path: str, query: dict[str, str], headers=None):
    """The REST operation a method and path call, with its path labels; None if none fits."""
    best = None
    for name, verb, pattern, literal, specificity in _rest_routes(service):
        if verb != method or not (match := pattern.match(path)):
            continue
        if any(
            key not in query or (value and query[key] != value) for key, value in literal.items()
        ):
            continue
        headers_needed, query_needed = _required_members(service, name)
        if not headers_needed <= set(headers or {}) or not query_needed <= set(query):
            continue
        specificity += 100 * (len(headers_needed) + len(query_needed))
        if best is None or specificity > best[2]:
            best = (name, {k: unquote(v) for k, v in match.groupdict().items()}, specificity)
    return (best[0], best[1]) if best else (None, {})


def parse(environ: dict[str, Any], body: bytes) -> Call:
    """The call a WSGI request makes (``operation`` is "" when it cannot be told)."""
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO") or "/"
    query = {
        k: v[-1]
        for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
    }
    scope = CREDENTIAL.search(headers.get("authorization", "")) or CREDENTIAL.search(
        "Credential=" + query.get("X-Amz-Credential", "")
    )
    access_key, region, signing = (
        (scope.group(1), scope.group(2), scope.group(3)) if scope else (None, "", "")
    )
    service = CLIENT_BY_SIGNING_NAME.get(signing, signing)
    if service == "sagemaker" and path.startswith("/endpoints/"):
        service = "sagemaker-runtime"
    call = Call(service, "", {}, access_key, region, method, path, headers, body, query)
    if not service:
        return call
    target = headers.get("x-amz-target")
    protocol = _model(service).protocol if service in _known_services() else ""
    if target:
        call.operation = target.rpartition(".")[2]
        call.params = json.loads(body or b"{}")
    elif protocol in ("query", "ec2") or (
        method == "POST" and "Action=" in body.decode(errors="ignore")[:200]
    ):
        form = {k: v[-1] for k, v in parse_qs(body.decode(errors="replace")).items()}
        call.operation = form.pop("Action", query.get("Action", ""))
        call.params = form
    elif protocol in ("rest-json", "rest-xml"):
        operation, labels = rest_operation(service, method, path, query, headers)
        call.operation = operation or ""
        call.params = {**query, **labels}
        if (
            protocol == "rest-json"
            and body
            and operation
            and not _body_is_payload(service, operation)
            and headers.get("content-type", "").startswith("application/json")
        ):
            call.params.update(json.loads(body))
    return call


@functools.cache
def _body_is_payload(service: str, operation: str) -> bool:
    """Whether the body is one blob member (InvokeEndpoint's ``Body``), not the members'
    JSON: a caller's JSON payload must never be read as the request's parameters."""
    shape = _model(service).operation_model(operation).input_shape
    return shape is not None and "payload" in shape.serialization
