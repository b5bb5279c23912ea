"""AWS plumbing for the janitor: clients, paging, throttling, "not found", bounded waits.

Every kind's code calls AWS through :class:`Calls`, so all of them page the same way, retry
throttling the same way and read "already gone" the same way.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .model import Scope
from .prices import Prices

# botocore's adaptive mode rate-limits the client itself after throttling responses; the janitor
# then retries a throttled call a few more times on its own (a cleanup must not give up early).
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
THROTTLE_ATTEMPTS = 6
THROTTLE_BASE_SECONDS = 1.0
THROTTLE_MAX_SECONDS = 20.0

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFound",
        "ResourceNotFoundException",
        "ObjectNotFoundException",
        "EntityNotFoundException",
        "RepositoryNotFoundException",
        "ImageNotFoundException",
        "NoSuchBucket",
        "NoSuchKey",
        "NoSuchVersion",
        "NoSuchUpload",
        "NotFoundException",
    }
)
# SageMaker and Athena answer "does not exist" with a generic validation error.
_NOT_FOUND_MESSAGE = re.compile(
    r"could not find|does not exist|not found|RecordNotFound|cannot be found", re.IGNORECASE
)


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def error_text(error: Exception) -> str:
    """``Code: message`` for an AWS error, the exception's text otherwise."""
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return f"{error_code(error)}: {message}".strip(": ")
    return f"{type(error).__name__}: {error}"


def is_throttling(error: Exception) -> bool:
    return isinstance(error, ClientError) and error_code(error) in THROTTLING_CODES


def is_not_found(error: Exception) -> bool:
    """True when AWS says the resource is not there: for a delete, that is success."""
    if not isinstance(error, ClientError):
        return False
    code = error_code(error)
    if code in NOT_FOUND_CODES:
        return True
    message = error.response.get("Error", {}).get("Message", "")
    return code in {"ValidationException", "InvalidRequestException"} and bool(
        _NOT_FOUND_MESSAGE.search(message)
    )


class Clients:
    """boto3 clients by service, each with adaptive retries.

    ``overrides`` replaces the main client of one kind (key: the kind's name, e.g. "endpoint"
    for its SageMaker calls) or every client of one service (key: the service name); tests use
    it to put a fake behind the one kind whose API moto lacks.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.session = session or boto3.Session()
        self.overrides = dict(overrides or {})
        self._cache: dict[str, Any] = {}

    def get(self, service: str, kind: str | None = None) -> Any:
        if kind is not None and kind in self.overrides:
            return self.overrides[kind]
        if service in self.overrides:
            return self.overrides[service]
        if service not in self._cache:
            self._cache[service] = self.session.client(service, config=RETRY_CONFIG)
        return self._cache[service]


def as_clients(session_or_clients: Any) -> Clients:
    """Accept a :class:`Clients`, a boto3 Session or None (the default session)."""
    if isinstance(session_or_clients, Clients):
        return session_or_clients
    return Clients(session_or_clients)


@dataclass(kw_only=True)
class Calls:
    """AWS calls with the janitor's retry on throttling and complete paging."""

    clients: Clients
    sleep: Callable[[float], None] = time.sleep

    def call(self, operation: Callable[..., Any], /, **kwargs: Any) -> Any:
        """``operation(**kwargs)``, retried with exponential backoff while AWS throttles."""
        for attempt in range(THROTTLE_ATTEMPTS):
            try:
                return operation(**kwargs)
            except ClientError as error:
                if not is_throttling(error) or attempt == THROTTLE_ATTEMPTS - 1:
                    raise
                self.sleep(min(THROTTLE_MAX_SECONDS, THROTTLE_BASE_SECONDS * 2**attempt))
        raise AssertionError("unreachable")  # the loop returns or raises

    def pages(self, client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
        """Every item of a list operation, across all pages (retried whole when throttled)."""
        return self.call(lambda: list(_iterate(client, operation, key, kwargs)))


def _iterate(client: Any, operation: str, key: str, kwargs: dict[str, Any]):
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
        return
    # Operations botocore has no paginator for (and fakes) page by NextToken.
    token: str | None = None
    while True:
        page = getattr(client, operation)(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


@dataclass(kw_only=True)
class Discovery(Calls):
    """What a kind's ``discover`` needs: scope, prices, and what earlier kinds found."""

    scope: Scope
    prices: Prices | None = None
    # Names of in-scope SageMaker resources found so far (log streams are named after them).
    found: set[str] = field(default_factory=set)
    _memo: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """Share one listing between kinds (pipelines, domains, model package groups)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def hourly(self, instance_type: str | None, count: int) -> float | None:
        if self.prices is None:
            return None
        return self.prices.hourly_usd(instance_type, count)


@dataclass(kw_only=True)
class Removal(Calls):
    """What a kind's ``remove`` needs: a clock and a deadline that bounds every wait."""

    clock: Callable[[], float] = time.monotonic
    deadline: float = math.inf
    poll_seconds: float = 10.0

    def wait_until(self, ready: Callable[[], bool]) -> bool:
        """Poll ``ready`` until it holds or the run's deadline passes; False on timeout."""
        while True:
            if ready():
                return True
            if self.clock() + self.poll_seconds > self.deadline:
                return False
            self.sleep(self.poll_seconds)
