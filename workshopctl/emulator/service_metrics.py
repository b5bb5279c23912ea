"""The metrics SageMaker publishes to CloudWatch on its own, published by the emulated account
into moto's CloudWatch, so labs read them with ``get_metric_data``/``get_metric_statistics``
exactly as in AWS ("Amazon SageMaker AI metrics in Amazon CloudWatch",
https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).

Two kinds of series, as that page describes them:

* **samples** (the job instance metrics of ``/aws/sagemaker/TrainingJobs`` and
  ``/aws/sagemaker/ProcessingJobs``): one datapoint per measurement, at the time it was taken
  (:mod:`workshopctl.emulator.instance_metrics` measures them);
* **per-minute statistics** (the ``AWS/SageMaker`` invocation metrics, "available at a 1-minute
  frequency"): every request adds its value to its minute's SampleCount, Sum, Minimum and
  Maximum, published as ``StatisticValues`` at the minute's start.

SageMaker publishes as the service, not as the caller: the datapoints go in through the
account's API under the label :data:`SERVICE_LABEL`, an identity no workshop policy decides (as
no attendee policy grants ``cloudwatch:PutMetricData``). Pending datapoints are published when
anyone reads metrics (the read executors of :mod:`workshopctl.emulator.executors.cloudwatch`
flush first) and when a job ends: in AWS a datapoint shows within a minute or two; here it is
there at the next read, so a lab never waits for it.

moto's CloudWatch, which stores them, has limits a reader should know (moto 5.2):
* ``get_metric_data`` counts its periods from ``StartTime`` (AWS aligns them to the period):
  start a query on a whole minute and both agree;
* percentile statistics (``p99``) and ``ExtendedStatistics`` are not computed: read
  Average, Sum, SampleCount, Minimum, Maximum;
* ``get_metric_data`` with dimensions matches the metric name and dimensions, not the
  namespace (the dimensions SageMaker uses keep its series apart anyway);
* data is never aged out (AWS keeps 1-minute data 15 days, sub-minute data 3 hours).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.config import Config

SERVICE_LABEL = "SageMaker (publishing its CloudWatch metrics)"
# PutMetricData takes at most 1,000 metrics per call (API_PutMetricData.html); fewer per call
# keeps each request small.
PUT_BATCH = 500
MINUTE = 60

# The AWS/SageMaker invocation metrics (monitoring-cloudwatch.html, "SageMaker AI endpoint
# invocation metrics"), dimensions EndpointName and VariantName.
ENDPOINT_NAMESPACE = "AWS/SageMaker"
# The job instance metrics (same page, "SageMaker AI job metrics"): dimension Host,
# "<job-name>/algo-<instance-number-in-cluster>".
TRAINING_JOBS_NAMESPACE = "/aws/sagemaker/TrainingJobs"
PROCESSING_JOBS_NAMESPACE = "/aws/sagemaker/ProcessingJobs"

Publish = Callable[[str, list[dict]], None]  # (namespace, MetricData) → PutMetricData


@dataclass(frozen=True)
class Series:
    """One metric: its namespace, name, dimensions (in the order given) and unit."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str = "None"

    def datum(self, at: datetime) -> dict:
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
            "Timestamp": at,
            "Unit": self.unit,
        }


@dataclass
class _Minute:
    count: int = 0
    total: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)


def minute_of(epoch: float) -> datetime:
    """The start of the UTC minute ``epoch`` falls in."""
    return datetime.fromtimestamp(epoch - epoch % MINUTE, UTC)


class ServiceMetrics:
    """Datapoints waiting to be published, and the publishing; thread-safe (jobs' samplers and
    endpoint requests add from their own threads)."""

    def __init__(self, publish: Publish):
        self._publish = publish
        self._lock = threading.Lock()
        self._samples: list[tuple[Series, float, float]] = []
        self._minutes: dict[tuple[Series, datetime], _Minute] = defaultdict(_Minute)
        self._flushing = threading.Lock()  # one flush at a time: no datum published twice
        self.published = 0  # datapoints sent so far (the tests' and the report's count)

    def sample(self, series: Series, value: float, at: float) -> None:
        """One measurement, published as a datapoint at ``at`` (epoch seconds)."""
        with self._lock:
            self._samples.append((series, float(value), at))

    def add(self, series: Series, value: float, at: float) -> None:
        """One request's value, folded into the statistics of its minute."""
        with self._lock:
            self._minutes[(series, minute_of(at))].add(float(value))

    def flush(self) -> int:
        """Publish everything pending; returns how many datapoints went. A minute published
        early and added to later is published again with the later requests only: CloudWatch
        combines two StatisticValues of one minute into the minute's statistics."""
        with self._flushing:
            with self._lock:
                samples, self._samples = self._samples, []
                minutes, self._minutes = self._minutes, defaultdict(_Minute)
            by_namespace: dict[str, list[dict]] = defaultdict(list)
            for series, value, at in samples:
                datum = series.datum(datetime.fromtimestamp(at, UTC))
                by_namespace[series.namespace].append({**datum, "Value": value})
            for (series, minute), stats in minutes.items():
                statistics = {"SampleCount": stats.count, "Sum": stats.total,
                              "Minimum": stats.low, "Maximum": stats.high}  # fmt: skip
                by_namespace[series.namespace].append(
                    {**series.datum(minute), "StatisticValues": statistics}
                )
            sent = 0
            for namespace, data in by_namespace.items():
                for batch in _batches(data, PUT_BATCH):
                    self._publish(namespace, batch)
                    sent += len(batch)
            self.published += sent
            return sent


def _batches(items: list[dict], size: int) -> Iterable[list[dict]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def account_publisher(account) -> Publish:
    """PutMetricData through ``account``'s API as the service (a client made on first use:
    the account serves by then). botocore gzips a PutMetricData body over 10 KB (its request
    compression); the emulator's wire reader takes plain bodies, so the service sends them so."""
    client: list = []

    def publish(namespace: str, data: list[dict]) -> None:
        if not client:
            config = Config(retries={"max_attempts": 1}, disable_request_compression=True)
            session = account.session(SERVICE_LABEL)
            client.append(session.client("cloudwatch", endpoint_url=account.url, config=config))
        client[0].put_metric_data(Namespace=namespace, MetricData=data)

    return publish
