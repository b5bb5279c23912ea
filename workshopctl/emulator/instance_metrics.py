"""A job host's instance metrics, measured from its real process while it runs.

SageMaker publishes, per instance of a training or processing job ("SageMaker AI job
metrics", https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html):

* ``CPUUtilization``: "the sum of each individual CPU core's utilization", 0-100 % per core
  (0-400 % on four cores): here the CPU time the host's process tree used over the interval,
  over the interval's length;
* ``MemoryUtilization``: the percentage of the instance's memory the containers use: here the
  tree's resident memory over the memory of the job's instance type (:data:`INSTANCE_MEMORY_GIB`;
  a type missing there is measured against this machine's memory);
* ``DiskUtilization``: the percentage of the instance's disk the containers use: here the bytes
  under the host's ``/opt/ml`` folder over the job's ``VolumeSizeInGB``;

each with the dimension ``Host`` = ``<job-name>/algo-<n>``, unit Percent. AWS publishes them
once a minute; rehearsal jobs last seconds, so the emulator samples every
:data:`SAMPLE_SECONDS` (a reader asking for 60-second periods gets each minute's average, as
in AWS). GPU metrics are not emulated (no GPU here).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import psutil

from workshopctl.emulator.service_metrics import Series, ServiceMetrics

SAMPLE_SECONDS = 0.5
GIB = 1024**3
# Memory of the instance types the workshop uses, from the instance details of "Amazon
# SageMaker AI pricing" (https://aws.amazon.com/sagemaker/pricing/), same types as the price
# table lambdas/janitor/prices.json.
INSTANCE_MEMORY_GIB = {
    "ml.t2.medium": 4, "ml.t3.medium": 4, "ml.m4.xlarge": 16, "ml.m5.large": 8,
    "ml.m5.xlarge": 16, "ml.m5.2xlarge": 32, "ml.c5.xlarge": 8, "ml.c5.2xlarge": 16,
    "ml.g4dn.xlarge": 16, "ml.p3.2xlarge": 61,
}  # fmt: skip


def instance_memory_bytes(instance_type: str | None) -> int:
    if instance_type in INSTANCE_MEMORY_GIB:
        return INSTANCE_MEMORY_GIB[instance_type] * GIB
    return psutil.virtual_memory().total


def folder_bytes(folder: Path) -> int:
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:  # written or removed while we walk
                continue
    return total


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu_seconds_and_memory(process: psutil.Process) -> tuple[float, int] | None:
    """CPU seconds used by the tree so far (its live processes plus the children they
    reaped) and its resident bytes; None when the host's process is gone."""
    cpu, memory, seen = 0.0, 0, False
    for member in _tree(process):
        try:
            with member.oneshot():
                times = member.cpu_times()
                memory += member.memory_info().rss
        except psutil.Error:
            continue
        seen = True
        cpu += times.user + times.system + times.children_user + times.children_system
    return (cpu, memory) if seen else None


class HostSampler:
    """Samples one host's process every :data:`SAMPLE_SECONDS` until it exits."""

    def __init__(
        self,
        metrics: ServiceMetrics,
        namespace: str,
        host: str,
        process: subprocess.Popen,
        root: Path,
        *,
        instance_type: str | None,
        volume_gb: float,
        interval: float = SAMPLE_SECONDS,
    ):
        self.metrics, self.process, self.root, self.interval = metrics, process, root, interval
        dimensions = (("Host", host),)
        self.cpu, self.memory, self.disk = (
            Series(namespace, name, dimensions, "Percent")
            for name in ("CPUUtilization", "MemoryUtilization", "DiskUtilization")
        )
        self.memory_bytes = instance_memory_bytes(instance_type)
        self.volume_bytes = max(1.0, float(volume_gb)) * GIB
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"metrics {host}", daemon=True)

    def start(self) -> HostSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            watched = psutil.Process(self.process.pid)
        except psutil.Error:
            return
        previous = _cpu_seconds_and_memory(watched)
        last = time.time()
        while not self._done.wait(self.interval) and self.process.poll() is None:
            reading = _cpu_seconds_and_memory(watched)
            now = time.time()
            if reading is None or previous is None:
                break
            cpu_seconds, memory = reading
            # A grandchild whose parent never reaped it takes its CPU time with it: never < 0.
            used = max(0.0, cpu_seconds - previous[0])
            self.metrics.sample(self.cpu, 100 * used / (now - last), now)
            self.metrics.sample(self.memory, 100 * memory / self.memory_bytes, now)
            self.metrics.sample(self.disk, 100 * folder_bytes(self.root) / self.volume_bytes, now)
            previous, last = reading, now
