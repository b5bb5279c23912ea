"""CloudWatch reads see what SageMaker has published: the service's pending datapoints
(:mod:`workshopctl.emulator.service_metrics`) go into moto's CloudWatch before moto answers
GetMetricData, GetMetricStatistics or ListMetrics, so a lab reads a job's or an endpoint's
metrics as soon as they exist, with the same calls as in AWS."""

from __future__ import annotations

READS = ("GetMetricData", "GetMetricStatistics", "ListMetrics")


def install(account) -> None:
    def published_first(call, forward):
        account.metrics.flush()
        return forward(call)

    for operation in READS:
        account.execute("cloudwatch", operation, published_first)
