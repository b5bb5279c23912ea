"""S3 DeleteObjects with some keys denied: answered per key, as S3 answers it.

DeleteObjects is authorized key by key (S3 API reference, DeleteObjects: "you must have the
s3:DeleteObject permission for each object"; a key named with a version also needs
s3:DeleteObjectVersion). A key the caller may not delete does not fail the request: the answer
is still 200, that key is in the result's ``Error`` list with ``AccessDenied``, and every other
key is deleted. Here the allowed keys go to moto in a request of their own, and the denied ones
are added to its answer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from xml.sax.saxutils import escape

from workshopctl.emulator.gate import Checked, deleted_keys

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
# The request's own checksum of its body, which no longer matches the body sent on to moto.
CHECKSUM_HEADERS = ("HTTP_CONTENT_MD5", "HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM")


def denied_keys(bucket: str, checks: Iterable[Checked]) -> set[str]:
    """The keys of ``bucket`` at least one of whose checks was denied."""
    prefix = f"arn:aws:s3:::{bucket}/"
    return {c.resource.removeprefix(prefix) for c in checks if not c.allowed}


def request_body(objects: list[tuple[str, str | None]], quiet: bool) -> bytes:
    """A DeleteObjects request body for ``objects`` ((key, version or None) pairs)."""
    items = "".join(
        f"<Object><Key>{escape(key)}</Key>"
        + (f"<VersionId>{escape(version)}</VersionId>" if version else "")
        + "</Object>"
        for key, version in objects
    )
    quiet_element = "<Quiet>true</Quiet>" if quiet else ""
    return f'<Delete xmlns="{S3_NAMESPACE}">{quiet_element}{items}</Delete>'.encode()


def _quiet(body: bytes) -> bool:
    root = ElementTree.fromstring(body or b"<Delete/>")
    return any(
        e.tag.rsplit("}", 1)[-1] == "Quiet" and (e.text or "").strip() == "true" for e in root
    )


def per_key(call, checks: list[Checked], forward: Callable, reply_type) -> object:
    """The answer to a DeleteObjects call some of whose keys were denied."""
    bucket = call.params.get("Bucket", "")
    denied = denied_keys(bucket, checks)
    objects = deleted_keys(call.body)
    allowed = [(key, version) for key, version in objects if key not in denied]
    refused = [(key, version) for key, version in objects if key in denied]
    quiet = _quiet(call.body)
    if allowed:
        call.body = request_body(allowed, quiet)
        reply = forward(call)
        if reply.status != 200:
            return reply
        body = reply.body.decode()
        headers = [(k, v) for k, v in reply.headers if k.lower() != "content-length"]
    else:
        body = f'<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="{S3_NAMESPACE}"/>'
        headers = [("Content-Type", "application/xml")]
    errors = "".join(
        f"<Error><Key>{escape(key)}</Key>"
        + (f"<VersionId>{escape(version)}</VersionId>" if version else "")
        + "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        for key, version in refused
    )
    if "</DeleteResult>" in body:
        closing = body.rindex("</DeleteResult>")
        body = body[:closing] + errors + body[closing:]
    else:  # an empty result, written as one element
        opening = body.rindex("/>")
        body = body[:opening] + ">" + errors + "</DeleteResult>"
    return reply_type(200, headers, body.encode())
