"""What the rehearsal saw: every AWS call, by whom, on what, and what IAM decided.

Each caller (a lab notebook, a Lambda function, a job's role, the organiser's deploy) reaches the
emulator with its own access key, so each call is filed under that caller's label. The log is
written as ``api-calls.json``: per caller, every call with its operation, the ARNs it was
authorized against and the decision with its reason, when it arrived and, for the calls that
start or poll a resource, which one and the state seen (:mod:`workshopctl.emulator.waits`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workshopctl.emulator.gate import Checked


@dataclass
class LoggedCall:
    service: str
    operation: str
    principal: str
    checks: list[Checked] = field(default_factory=list)
    status: int = 0
    seconds: float = 0.0
    usage: dict = field(default_factory=dict)  # the Call's own dict: executors fill it later
    at: float = 0.0  # when the request arrived (epoch seconds)
    # The resource a starting call or a poll is about, and the state a poll answered
    # (workshopctl.emulator.waits: the AWS time a caller waited for).
    subject: str | None = None
    state: str | None = None

    @property
    def denied(self) -> bool:
        return any(not check.allowed for check in self.checks)


class CallLog:
    """Thread-safe record of calls per caller label."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, list[LoggedCall]] = defaultdict(list)
        self.started = time.time()

    def add(self, label: str, call: LoggedCall) -> None:
        with self._lock:
            self._calls[label].append(call)

    def calls(self, label: str | None = None) -> list[LoggedCall]:
        with self._lock:
            if label is not None:
                return list(self._calls.get(label, []))
            return [call for calls in self._calls.values() for call in calls]

    def labels(self) -> list[str]:
        with self._lock:
            return list(self._calls)

    def denials(self) -> list[tuple[str, LoggedCall]]:
        with self._lock:
            return [(label, c) for label, calls in self._calls.items() for c in calls if c.denied]

    def as_json(self) -> dict:
        with self._lock:
            return {
                label: [
                    {**asdict(call), "checks": [asdict(check) for check in call.checks]}
                    for call in calls
                ]
                for label, calls in self._calls.items()
            }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=1, sort_keys=True))
        return path
