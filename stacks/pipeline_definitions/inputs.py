"""What a pipeline definition is built from: names, URIs and defaults, no SDK objects.

Every URI is a plain ``s3://bucket/key`` string, so the SDK never uploads anything and never
looks anything up. At deploy the lead's stack passes placeholders and substitutes the CDK
tokens (bucket names, asset URLs, the model image) into the parsed definition; locally the
values are real local-bucket URIs (``s3://raw/...``).
"""

from __future__ import annotations

from dataclasses import dataclass

# A syntactically valid role ARN for definitions whose real role is a CFN token until deploy.
ROLE_ARN_PLACEHOLDER = "arn:aws:iam::000000000000:role/pipeline-role-placeholder"
BYOM_IMAGE_PLACEHOLDER = "000000000000.dkr.ecr.us-east-1.amazonaws.com/byom-scikit:placeholder"


@dataclass(frozen=True)
class InstanceTypes:
    """Default instance types; each pipeline exposes them as parameters."""

    processing: str = "ml.m5.large"
    training: str = "ml.m5.xlarge"
    transform: str = "ml.m5.large"
    inference: str = "ml.m5.large"  # what the registered model package declares


@dataclass(frozen=True)
class PipelineInputs:
    """Everything one pipeline definition depends on.

    ``data_uri``: the pipeline's input file (bank: bank-additional-full.csv; bike: hour.csv;
    unused by the BYOM pipeline, which makes its example data with the model image itself).
    ``output_uri``: a prefix under which each execution writes ``<output_uri>/<execution
    id>/...`` (prepared data, models, evaluation reports, batch predictions).
    ``source_tarball_uri``: ``sourcedir.tar.gz`` of ``training_code/`` (see
    :func:`workshop_artifacts.source_tarball.build_source_tarball`); unused by the BYOM pipeline.
    ``byom_image_uri``: the workshop's model image (BYOM pipeline only).
    """

    pipeline_name: str
    region: str
    output_uri: str
    data_uri: str = ""
    source_tarball_uri: str = ""
    role_arn: str = ROLE_ARN_PLACEHOLDER
    model_package_group_name: str = ""
    byom_image_uri: str = BYOM_IMAGE_PLACEHOLDER
    instance_types: InstanceTypes = InstanceTypes()

    def __post_init__(self) -> None:
        if len(self.pipeline_name) > 82:  # SageMaker's limit for pipeline names
            raise ValueError(f"pipeline name {self.pipeline_name!r} is longer than 82 characters")
        if not self.output_uri.startswith("s3://"):
            raise ValueError("output_uri must be an s3:// URI")
        for name in ("data_uri", "source_tarball_uri"):
            value = getattr(self, name)
            if value and not value.startswith("s3://"):
                raise ValueError(f"{name} must be an s3:// URI (the SDK uploads local paths)")

    def require(self, *names: str) -> None:
        """Fail naming the inputs a pipeline needs and was not given."""
        missing = [name for name in names if not getattr(self, name)]
        if missing:
            raise ValueError(f"{self.pipeline_name}: set {', '.join(missing)}")
