"""A SageMaker SDK session that can build pipeline definitions and can never reach AWS.

The SDK (2.x) builds a definition offline when every input is an ``s3://`` URI, but a few
code paths still reach for AWS when something is left unset: the default bucket (STS + S3),
the account id, the intelligent-defaults config files (which may even live in S3), and
telemetry (an HTTP request per job built). Each is pinned here, and the clients point at an
unroutable endpoint with dummy credentials, so a stray call fails at once instead of silently
depending on whoever runs the synth.
"""

from __future__ import annotations

from functools import cache

import boto3
import botocore.config
from sagemaker import image_uris
from sagemaker.workflow.pipeline_context import PipelineSession

from workshop_spec import platforms

# Nothing listens there: a call that slips through fails fast and loudly.
UNREACHABLE_ENDPOINT = "http://127.0.0.1:9"
# Only used by SDK code paths that need *a* bucket name; every URI we pass is explicit.
PLACEHOLDER_BUCKET = "pipeline-definition-placeholder"
# Our own intelligent-defaults config, so no config file (user, admin or in S3) can add tags,
# roles, VPCs or KMS keys to the definition behind our back; and telemetry off: the SDK
# otherwise sends an HTTP request to S3 on every estimator.fit() and processor.run().
SDK_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
# The newest scikit-learn 1.x image sagemaker 2.257 knows, from the platform matrix.
SKLEARN_VERSION = platforms.identifier("sagemaker-sklearn")


def offline_session(region: str) -> PipelineSession:
    """A PipelineSession for ``region`` with dummy credentials and no reachable endpoint."""
    boto_session = boto3.Session(
        aws_access_key_id="offline",
        aws_secret_access_key="offline",  # not a secret: nothing accepts it
        region_name=region,
    )
    no_retries = botocore.config.Config(retries={"max_attempts": 0}, connect_timeout=1)
    client = boto_session.client("sagemaker", endpoint_url=UNREACHABLE_ENDPOINT, config=no_retries)
    session = PipelineSession(
        boto_session=boto_session,
        sagemaker_client=client,
        default_bucket=PLACEHOLDER_BUCKET,
        sagemaker_config=SDK_CONFIG,
    )
    # default_bucket() would still check (and create) the bucket once; the resolved name is
    # cached in this attribute, so presetting it skips that round trip.
    session._default_bucket = PLACEHOLDER_BUCKET
    session.s3_client = boto_session.client(
        "s3", endpoint_url=UNREACHABLE_ENDPOINT, config=no_retries
    )
    session.s3_resource = boto_session.resource(
        "s3", endpoint_url=UNREACHABLE_ENDPOINT, config=no_retries
    )
    return session


@cache
def sklearn_image(region: str) -> str:
    """The newest 1.x scikit-learn framework image this SDK knows.

    One image trains, processes and serves (the SDK lists 1.4-2 under "training" only, but
    the inference URI of every version is the same image).
    """
    return image_uris.retrieve("sklearn", region, SKLEARN_VERSION, image_scope="training")


@cache
def xgboost_image(region: str, version: str) -> str:
    """The built-in XGBoost algorithm image (training, and evaluation that reads its models)."""
    return image_uris.retrieve("xgboost", region, version, image_scope="training")
