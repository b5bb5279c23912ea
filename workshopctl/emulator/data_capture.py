"""SageMaker's data capture for an endpoint, as its DataCaptureConfig asks
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html, and the
record format of https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html).

Each invocation is sampled (``InitialSamplingPercentage``, from a seeded generator so a rehearsal
captures the same requests); a sampled one becomes one JSON line with its input and/or output
(``CaptureOptions``), its data as text for the content types ``CaptureContentTypeHeader``
lists as CSV or JSON, base64 otherwise. Lines wait per variant and are written together, one
object per variant and batch, at ``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/
<mm-ss-mmm>-<uuid>.jsonl``. This module keeps and shapes them; the hosting executor writes them.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DataCapture:
    """One endpoint's DataCaptureConfig at work: which requests are sampled, how their data is
    encoded, and the JSON lines waiting for their object."""

    endpoint: str
    destination: str  # s3://bucket/prefix, no trailing slash
    percent: float
    modes: frozenset[str]  # {"Input", "Output"}
    csv_types: tuple[str, ...]
    json_types: tuple[str, ...]
    rng: random.Random
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, endpoint: str, config: Mapping[str, Any], seed: int) -> DataCapture | None:
        """The capture an endpoint config asks for; None without one (or with it disabled)."""
        capture = config.get("DataCaptureConfig") or {}
        if not capture or not capture.get("EnableCapture", True):
            return None
        modes = {option["CaptureMode"] for option in capture.get("CaptureOptions", [])}
        if "InputAndOutput" in modes:
            modes |= {"Input", "Output"}
        headers = capture.get("CaptureContentTypeHeader") or {}
        return cls(
            endpoint=endpoint,
            destination=capture["DestinationS3Uri"].rstrip("/"),
            percent=float(capture.get("InitialSamplingPercentage", 100)),
            modes=frozenset(modes & {"Input", "Output"}),
            csv_types=tuple(headers.get("CsvContentTypes", ())),
            json_types=tuple(headers.get("JsonContentTypes", ())),
            rng=random.Random(f"{seed}:capture:{endpoint}"),
        )

    def summary(self) -> dict[str, Any]:
        """DescribeEndpoint's DataCaptureConfigSummary."""
        return {
            "EnableCapture": True,
            "CaptureStatus": "Started",
            "CurrentSamplingPercentage": int(self.percent),
            "DestinationS3Uri": self.destination,
        }

    def record(
        self,
        variant: str,
        request: tuple[bytes, str],
        response: tuple[bytes, str],
        inference_id: str | None,
    ) -> None:
        """Keep one invocation if it is sampled (SageMaker samples each request)."""
        with self.lock:
            if self.rng.uniform(0, 100) >= self.percent:
                return
            data: dict[str, Any] = {}
            if "Input" in self.modes:
                data["endpointInput"] = self._encoded(*request, "INPUT")
            if "Output" in self.modes:
                data["endpointOutput"] = self._encoded(*response, "OUTPUT")
            now = time.time()
            metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": _iso(now)}
            if inference_id:
                metadata["inferenceId"] = inference_id
            line = json.dumps({"captureData": data, "eventMetadata": metadata, "eventVersion": "0"})
            self.pending.setdefault(variant, []).append((now, line))

    def _encoded(self, body: bytes, content_type: str, mode: str) -> dict[str, str]:
        base = content_type.split(";")[0].strip().lower()
        if base in self.csv_types:
            encoding, data = "CSV", body.decode(errors="replace")
        elif base in self.json_types:
            encoding, data = "JSON", body.decode(errors="replace")
        else:  # no header configured for it: base64, as SageMaker does by default
            encoding, data = "BASE64", base64.b64encode(body).decode()
        return {
            "observedContentType": content_type,
            "mode": mode,
            "data": data,
            "encoding": encoding,
        }

    def take(self, older_than: float | None) -> list[tuple[str, str, bytes]]:
        """(variant, key, JSON lines) of each object due: all, or those whose first record
        waited ``older_than`` seconds."""
        due = []
        with self.lock:
            for variant, records in list(self.pending.items()):
                if not records or (
                    older_than is not None and time.time() - records[0][0] < older_than
                ):
                    continue
                first = datetime.datetime.fromtimestamp(records[0][0], datetime.UTC)
                key = (
                    f"{self.endpoint}/{variant}/{first:%Y/%m/%d/%H}/"
                    f"{first:%M-%S}-{first.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
                )
                body = "".join(line + "\n" for _, line in records).encode()
                due.append((variant, key, body))
                del self.pending[variant]
        return due


def _iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
