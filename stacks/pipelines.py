"""PipelinesStack: Modules 5-7 as SageMaker Pipelines that `cdk deploy` creates and `cdk destroy`
removes, from the very definitions the local target runs.

Reads top to bottom as a pipeline is made: the code every step runs (one deterministic
``sourcedir.tar.gz`` of ``training_code/``, a CDK asset) → the role the steps run as → the model
registry groups → the definitions, built offline by the sagemaker SDK with placeholders
(``stacks/pipeline_definitions``; cached by their inputs) and given this stack's tokens → one
``CfnPipeline`` each → an optional schedule → outputs with a ready start command.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct

from stacks.constructs import grants
from stacks.constructs.algorithm_images import SKLEARN, XGBOOST, AlgorithmImages
from stacks.constructs.grants import Grant
from stacks.constructs.teardown import removal_policy
from stacks.data_lake import DataLakeStack
from stacks.model_image import ModelImageStack
from stacks.pipeline_definitions import (
    BYOM_IMAGE_PLACEHOLDER,
    ROLE_ARN_PLACEHOLDER,
    InstanceTypes,
    PipelineInputs,
    cached,
    substitute,
)
from workshop_artifacts.source_tarball import code_tarball
from workshop_spec.config import WorkshopConfig
from workshop_spec.datasets import BANK_MARKETING, BIKE_SHARING

BUILD_REGION = "us-east-1"  # the definitions name images of this region; tokens replace them
RAW = "s3://raw-bucket-placeholder"
CURATED = "s3://curated-bucket-placeholder"
TARBALL = "s3://code-asset-placeholder/sourcedir.tar.gz"
PIPELINES_PREFIX = "pipelines/"  # in the curated bucket: every execution's outputs
BANK_PIPELINE_KEY = "bank-marketing"  # its outputs: <PIPELINES_PREFIX><key>/<execution>/...


@dataclass(frozen=True)
class WorkshopPipeline:
    key: str  # bank-marketing, bike-sharing, byom
    pipeline: sagemaker.CfnPipeline


class PipelinesStack(cdk.Stack):
    """Three SageMaker pipelines (bank marketing: prepare → Bayesian tuning → evaluate → gate →
    register → batch transform; bike sharing: prepare → train → evaluate → gate → register;
    BYOM: train → model → batch transform), their model package groups, the role their steps
    run as, and an optional schedule."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WorkshopConfig,
        data_lake: DataLakeStack,
        model_image: ModelImageStack | None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._config = config
        self._data_lake = data_lake
        self._model_image = model_image
        self.source = self._source_tarball()
        self.role = self._pipeline_role()
        self.groups = {
            key: self._model_package_group(key, name)
            for key, name in (
                (BANK_PIPELINE_KEY, config.bank_model_package_group),
                ("bike-sharing", config.bike_model_package_group),
            )
        }
        images = AlgorithmImages(self, "AlgorithmImages", images=(SKLEARN, XGBOOST))
        self._replacements = {
            RAW: f"s3://{data_lake.raw_bucket.bucket_name}",
            CURATED: f"s3://{data_lake.curated_bucket.bucket_name}",
            TARBALL: self.source.s3_object_url,
            ROLE_ARN_PLACEHOLDER: self.role.role_arn,
            # Longest first: an image URI is never a prefix of another, but be explicit.
            cached.sklearn_image(BUILD_REGION): images.uri(SKLEARN.framework),
            cached.xgboost_image(BUILD_REGION, XGBOOST.version): images.uri(XGBOOST.framework),
            # Script mode passes the region as a JSON-quoted hyperparameter.
            f'"{BUILD_REGION}"': f'"{cdk.Aws.REGION}"',
        }
        if model_image is not None:
            self._replacements[BYOM_IMAGE_PLACEHOLDER] = model_image.image_uri
        self.pipelines = [
            self._pipeline(BANK_PIPELINE_KEY, BANK_MARKETING.raw_key),
            self._pipeline("bike-sharing", BIKE_SHARING.raw_key),
        ]
        if model_image is not None:
            self.pipelines.append(self._pipeline("byom", None))
        self._schedule()
        self._outputs()

    # -- code and role -------------------------------------------------------------------------
    def _source_tarball(self) -> s3_assets.Asset:
        """One deterministic tarball of training_code/: the same bytes give the same asset."""
        return s3_assets.Asset(self, "SourceTarball", path=str(code_tarball()))

    def _pipeline_role(self) -> iam.Role:
        prefix = self._config.prefix
        data = self._data_lake
        curated = data.exports.curated_bucket_arn
        groups = (self._config.bank_model_package_group, self._config.bike_model_package_group)
        role = iam.Role(
            self,
            "PipelineRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{prefix}: the workshop pipelines and the jobs their steps start",
        )
        why_generated = (
            "SageMaker Pipelines names each step's job itself ('pipelines-<execution>-<step>-"
            "<suffix>'), so the grant can only fix the 'pipelines-' prefix; tuning jobs and the "
            "training jobs they start get names derived from those."
        )
        job = lambda kind, name="pipelines-*": self._sagemaker_arn(kind, name)  # noqa: E731
        statements: list[tuple[iam.PolicyStatement, str | None]] = [
            (
                iam.PolicyStatement(
                    sid="RunStepJobs",
                    actions=[
                        "sagemaker:CreateProcessingJob",
                        "sagemaker:DescribeProcessingJob",
                        "sagemaker:StopProcessingJob",
                        "sagemaker:CreateTrainingJob",
                        "sagemaker:DescribeTrainingJob",
                        "sagemaker:StopTrainingJob",
                        "sagemaker:CreateHyperParameterTuningJob",
                        "sagemaker:DescribeHyperParameterTuningJob",
                        "sagemaker:StopHyperParameterTuningJob",
                        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                        "sagemaker:CreateTransformJob",
                        "sagemaker:DescribeTransformJob",
                        "sagemaker:StopTransformJob",
                        "sagemaker:AddTags",
                    ],
                    resources=[
                        job("processing-job"),
                        job("training-job", "*"),
                        job("hyper-parameter-tuning-job", "*"),
                        job("transform-job"),
                    ],
                ),
                why_generated,
            ),
            (
                iam.PolicyStatement(
                    sid="CreateModels",
                    actions=[
                        "sagemaker:CreateModel",
                        "sagemaker:DescribeModel",
                        "sagemaker:AddTags",
                    ],
                    resources=[job("model", "*")],
                ),
                "The pipelines' model steps name their models after the execution; the names "
                "are generated by SageMaker Pipelines.",
            ),
            (
                iam.PolicyStatement(
                    sid="RegisterModels",
                    actions=[
                        "sagemaker:CreateModelPackage",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:AddTags",
                    ],
                    resources=[
                        *(job("model-package-group", group) for group in groups),
                        *(job("model-package", f"{group}/*") for group in groups),
                    ],
                ),
                "Package versions are numbered by the registry; the grant names the two groups.",
            ),
            (
                iam.PolicyStatement(
                    sid="PassItself",
                    actions=["iam:PassRole"],
                    resources=[role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="ReadInputsAndCode",
                    actions=["s3:GetObject"],
                    resources=[
                        f"{data.exports.raw_bucket_arn}/{BANK_MARKETING.raw_prefix}/*",
                        f"{data.exports.raw_bucket_arn}/{BIKE_SHARING.raw_prefix}/*",
                        self.source.bucket.arn_for_objects(self.source.s3_object_key),
                    ],
                ),
                "The two datasets' folders in the raw bucket (one file each today).",
            ),
            (
                iam.PolicyStatement(
                    sid="WriteExecutionOutputs",
                    actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[f"{curated}/{PIPELINES_PREFIX}*"],
                ),
                "Every execution writes under its own id below the pipelines prefix.",
            ),
            (
                iam.PolicyStatement(
                    sid="ListBuckets",
                    actions=["s3:ListBucket"],
                    resources=[data.exports.raw_bucket_arn, curated],
                ),
                None,
            ),
            (
                # The steps read the code tarball as an S3Prefix input, which SageMaker lists
                # before it downloads: ListBucket on the asset bucket, for that one key only.
                iam.PolicyStatement(
                    sid="ListCodeTarball",
                    actions=["s3:ListBucket"],
                    resources=[self.source.bucket.bucket_arn],
                    conditions={"StringEquals": {"s3:prefix": self.source.s3_object_key}},
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="UseDataKey",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[data.data_key.key_arn],
                ),
                None,
            ),
        ]
        pipeline_grants = [
            *(Grant(statement, why) for statement, why in statements),
            *grants.job_logs_and_metrics(self),
        ]
        if self._model_image is not None:
            pipeline_grants += grants.pull_image(*self._model_image.image_repositories)
        policy = grants.managed_policy(
            self,
            "PipelinePolicy",
            "Exactly what the workshop pipelines' steps need",
            pipeline_grants,
            roles=[role],
        )
        self._policy = policy
        return role

    def _model_package_group(self, key: str, name: str) -> sagemaker.CfnModelPackageGroup:
        group = sagemaker.CfnModelPackageGroup(
            self,
            f"ModelPackageGroup-{key}",
            model_package_group_name=name,  # the promotion rule and the labs address it by name
            model_package_group_description=f"Models the {key} pipeline registered",
        )
        group.apply_removal_policy(removal_policy(self._config))
        return group

    # -- pipelines -----------------------------------------------------------------------------
    def _pipeline(self, key: str, data_key: str | None) -> WorkshopPipeline:
        name = f"{self._config.prefix}-{key}"
        types = self._config.instance_types
        inputs = PipelineInputs(
            pipeline_name=name,
            region=BUILD_REGION,
            output_uri=f"{CURATED}/{PIPELINES_PREFIX}{key}",
            data_uri=f"{RAW}/{data_key}" if data_key else "",
            source_tarball_uri=TARBALL if data_key else "",
            model_package_group_name=(
                self.groups[key].model_package_group_name if key in self.groups else ""
            ),
            instance_types=InstanceTypes(
                processing=types.processing,
                training=types.training,
                transform=types.endpoint,
                inference=types.endpoint,
            ),
        )
        # Built by the SDK on the first synth of these inputs, then from the cache.
        definition = substitute(cached.definition(key, inputs), self._replacements)
        pipeline = sagemaker.CfnPipeline(
            self,
            f"Pipeline-{key}",
            pipeline_name=name,
            pipeline_display_name=name,
            pipeline_description=f"Workshop pipeline: {key}",
            role_arn=self.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": self.to_json_string(definition)},
        )
        pipeline.node.add_dependency(self._policy)
        if key in self.groups:
            pipeline.add_dependency(self.groups[key])
        return WorkshopPipeline(key, pipeline)

    def _schedule(self) -> None:
        expression = self._config.pipelines.schedule
        if not expression:
            return
        role = grants.scheduler_role(
            self,
            "ScheduleRole",
            f"{self._config.prefix}: EventBridge Scheduler starts the workshop pipelines",
            [
                Grant(
                    iam.PolicyStatement(
                        sid="StartWorkshopPipelines",
                        actions=["sagemaker:StartPipelineExecution"],
                        resources=[
                            self._sagemaker_arn("pipeline", p.pipeline.pipeline_name)
                            for p in self.pipelines
                        ],
                    )
                )
            ],
        )
        for item in self.pipelines:
            scheduler.Schedule(
                self,
                f"Schedule-{item.key}",
                description=f"Start {item.pipeline.pipeline_name} on schedule",
                schedule=scheduler.ScheduleExpression.expression(
                    expression, cdk.TimeZone.of(self._config.guardrails.timezone)
                ),
                target=targets.Universal(
                    service="sagemaker",
                    action="startPipelineExecution",
                    input=scheduler.ScheduleTargetInput.from_object(
                        {"PipelineName": item.pipeline.pipeline_name}
                    ),
                    role=role,
                ),
            )

    def _outputs(self) -> None:
        for item in self.pipelines:
            name = item.pipeline.pipeline_name
            cdk.CfnOutput(
                self,
                f"Start-{item.key}",
                value=f"aws sagemaker start-pipeline-execution --pipeline-name {name}",
                description=f"Start the {item.key} pipeline",
            )

    def _sagemaker_arn(self, kind: str, name: str) -> str:
        return grants.sagemaker_arn(self, kind, name)
