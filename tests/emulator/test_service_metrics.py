"""SageMaker's own CloudWatch metrics in the emulator: per-minute statistics folded and
published as StatisticValues, job hosts measured from their real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from workshopctl.emulator.instance_metrics import HostSampler, folder_bytes
from workshopctl.emulator.service_metrics import (
    ENDPOINT_NAMESPACE,
    PUT_BATCH,
    TRAINING_JOBS_NAMESPACE,
    Series,
    ServiceMetrics,
    account_publisher,
)

LATENCY = Series(ENDPOINT_NAMESPACE, "ModelLatency", (("EndpointName", "e"), ("VariantName", "v")),
                 "Microseconds")  # fmt: skip
MINUTE_START = 1_800_000_000.0  # a whole UTC minute (divisible by 60)


def _collecting() -> tuple[ServiceMetrics, list[tuple[str, list[dict]]]]:
    sent: list[tuple[str, list[dict]]] = []
    return ServiceMetrics(lambda namespace, data: sent.append((namespace, data))), sent


def test_requests_of_one_minute_are_published_as_that_minutes_statistics():
    metrics, sent = _collecting()
    for offset, value in ((1, 300.0), (20, 100.0), (59, 200.0), (61, 50.0)):
        metrics.add(LATENCY, value, MINUTE_START + offset)

    assert metrics.flush() == 2
    ((namespace, data),) = sent
    assert namespace == ENDPOINT_NAMESPACE
    by_minute = {d["Timestamp"]: d["StatisticValues"] for d in data}
    first = datetime.fromtimestamp(MINUTE_START, UTC)
    assert by_minute[first] == {"SampleCount": 3, "Sum": 600.0, "Minimum": 100.0, "Maximum": 300.0}
    assert data[0]["Unit"] == "Microseconds"
    assert data[0]["Dimensions"] == [{"Name": "EndpointName", "Value": "e"},
                                     {"Name": "VariantName", "Value": "v"}]  # fmt: skip


def test_a_second_flush_publishes_only_what_came_after_the_first():
    metrics, sent = _collecting()
    metrics.add(LATENCY, 10.0, MINUTE_START)
    metrics.flush()
    assert metrics.flush() == 0
    metrics.add(LATENCY, 30.0, MINUTE_START + 5)
    metrics.flush()
    assert [d["StatisticValues"]["Sum"] for _, data in sent for d in data] == [10.0, 30.0]
    assert metrics.published == 2


def test_samples_keep_their_own_times_and_go_in_batches_under_the_put_limit():
    metrics, sent = _collecting()
    cpu = Series(TRAINING_JOBS_NAMESPACE, "CPUUtilization", (("Host", "job/algo-1"),), "Percent")
    for second in range(PUT_BATCH + 3):
        metrics.sample(cpu, second, MINUTE_START + second)

    assert metrics.flush() == PUT_BATCH + 3
    assert [len(data) for _, data in sent] == [PUT_BATCH, 3]
    last = sent[-1][1][-1]
    assert last["Value"] == PUT_BATCH + 2
    assert last["Timestamp"] == datetime.fromtimestamp(MINUTE_START + PUT_BATCH + 2, UTC)


def _sampled(tmp_path, program: str) -> dict[str, list[dict]]:
    """Every datapoint a HostSampler published while ``program`` ran (sampled every 0.2 s)."""
    metrics, sent = _collecting()
    process = subprocess.Popen([sys.executable, "-c", program])
    sampler = HostSampler(
        metrics, TRAINING_JOBS_NAMESPACE, "job/algo-1", process, tmp_path,
        instance_type="ml.m5.large", volume_gb=1, interval=0.2,
    ).start()  # fmt: skip
    process.wait()
    sampler.stop()
    metrics.flush()
    points: dict[str, list[dict]] = {}
    for _, data in sent:
        for datum in data:
            points.setdefault(datum["MetricName"], []).append(datum)
    return points


def test_a_host_sampler_measures_its_processs_cpu_memory_and_disk(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights").write_bytes(b"x" * 1024 * 1024)
    started = time.time()
    busy = _sampled(tmp_path, "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass")
    idle = _sampled(tmp_path, "import time\ntime.sleep(1.5)")

    assert set(busy) == {"CPUUtilization", "MemoryUtilization", "DiskUtilization"}
    cpu = [d["Value"] for d in busy["CPUUtilization"]]
    # A busy loop uses CPU (how much depends on the machine's load), a sleeping one none.
    assert len(cpu) >= 3 and max(cpu) > 5
    assert max(d["Value"] for d in idle["CPUUtilization"]) < 5
    assert all(value <= 100 * (os.cpu_count() or 1) + 10 for value in cpu)
    memory = [d["Value"] for d in busy["MemoryUtilization"]]
    assert all(0 < value < 5 for value in memory)  # a small Python of 8 GiB (ml.m5.large)
    disk = busy["DiskUtilization"][0]["Value"]
    assert disk == 100 * folder_bytes(tmp_path) / 1024**3
    assert all(d["Dimensions"] == [{"Name": "Host", "Value": "job/algo-1"}] and
               d["Unit"] == "Percent" for d in busy["CPUUtilization"])  # fmt: skip
    assert busy["CPUUtilization"][0]["Timestamp"].timestamp() >= started


def test_the_service_sends_large_batches_uncompressed():
    """botocore gzips PutMetricData bodies over 10 KB; the emulator's wire reader takes plain
    ones (a full rehearsal's flush of many jobs' samples is that large)."""
    made: list = []

    class Session:
        def client(self, service, endpoint_url, config):
            made.append((service, endpoint_url, config))
            return type("Client", (), {"put_metric_data": lambda self, **kwargs: None})()

    account = type("Account", (), {"url": "http://127.0.0.1:1",
                                   "session": lambda self, label: Session()})()  # fmt: skip
    account_publisher(account)("ns", [{"MetricName": "m", "Value": 1.0}])

    [(service, url, config)] = made
    assert (service, url, config.disable_request_compression) == ("cloudwatch", account.url, True)
