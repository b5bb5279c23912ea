"""ServingStack: Module 7's real-time endpoints, safe to operate during a live event.

Reads top to bottom as a request travels: the first model artifacts (trained from the vendored
data at synth, see ``workshop_artifacts/serving_models.py``) → SageMaker models on the built-in
XGBoost image and the workshop's BYOM image → the A/B endpoint (two production variants
answering the same CSV with the probability of "yes", KMS-encrypted, data capture into the
curated bucket) and the BYOM endpoint → autoscaling per variant → alarms (5XX, p99 latency, a
forgotten endpoint) that also roll back a bad update → a dashboard.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import nag
from stacks.constructs import grants
from stacks.constructs.algorithm_images import XGBOOST, AlgorithmImages
from stacks.constructs.exact_role import exact_role
from stacks.constructs.grants import Grant
from stacks.constructs.packaged_function import packaged_function
from stacks.constructs.teardown import customer_key, encrypted_log_group
from stacks.data_lake import DataLakeStack
from stacks.model_image import ModelImageStack
from stacks.pipelines import BANK_PIPELINE_KEY, PIPELINES_PREFIX
from workshop_artifacts.serving_models import ServingArtifacts
from workshop_spec.config import WorkshopConfig

CHAMPION, CHALLENGER = (
    "variant-a",
    "variant-b",
)  # stable across updates: alarms and weights key on them
BYOM_VARIANT = "byom"
DATA_CAPTURE_PREFIX = "data-capture/"
BYOM_MODELS_PREFIX = "serving/byom-models/"
ENDPOINT_NAMESPACE = "AWS/SageMaker"


class ServingStack(cdk.Stack):
    """The bank-marketing A/B endpoint (champion and challenger variants, weights from config,
    data capture, autoscaling, blue/green canary updates that roll back on alarm) and the BYOM
    endpoint (one variant, or multi-model), with alarms and a dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WorkshopConfig,
        data_lake: DataLakeStack,
        model_image: ModelImageStack,
        artifacts: ServingArtifacts,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._config = config
        self._settings = config.serving
        self._data_lake = data_lake
        self.endpoint_key = customer_key(
            self,
            "EndpointKey",
            config=config,
            purpose="encrypts the endpoints' ML storage volumes and the serving functions' logs",
            for_log_groups=True,
        )
        images = AlgorithmImages(self, "AlgorithmImages", images=(XGBOOST,))
        self.model_assets = {
            name: s3_assets.Asset(
                self,
                f"{name.title()}Artifact",
                path=str(path),
                asset_hash=artifacts.asset_hash(name),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
            )
            for name, path in (
                ("champion", artifacts.champion),
                ("challenger", artifacts.challenger),
            )
        }
        self.execution_role = self._execution_role(model_image)

        # -- the A/B endpoint --
        champion = self._xgboost_model("ChampionModel", images, self.model_assets["champion"])
        challenger = self._xgboost_model("ChallengerModel", images, self.model_assets["challenger"])
        self.ab_endpoint_name = config.ab_endpoint_name
        ab_alarms = self._alarms("Ab", self.ab_endpoint_name, (CHAMPION, CHALLENGER))
        ab_config = self._ab_endpoint_config(champion, challenger)
        self.ab_endpoint = self._endpoint(
            "AbEndpoint", self.ab_endpoint_name, ab_config, rollback_alarms=ab_alarms
        )
        for variant in (CHAMPION, CHALLENGER):
            self._autoscaling(self.ab_endpoint, variant)

        # -- the Module 7 endpoint: the bring-your-own container --
        byom_config = self._byom_endpoint_config(model_image, artifacts)
        self.byom_endpoint_name = config.byom_endpoint_name
        byom_alarms = self._alarms("Byom", self.byom_endpoint_name, (BYOM_VARIANT,))
        self.byom_endpoint = self._endpoint(
            "ByomEndpoint",
            self.byom_endpoint_name,
            byom_config,
            rollback_alarms=byom_alarms,
            serverless=self._settings.byom_serverless,
        )
        if not self._settings.byom_serverless:  # serverless scales itself, per request
            self._autoscaling(self.byom_endpoint, BYOM_VARIANT)

        self.promotion = self._promotion(ab_config, ab_alarms)
        self.traffic_shift = self._traffic_shift()
        self._dashboard()
        self._outputs()
        nag.acknowledge_cdk_helpers(self)

    # -- who the endpoints run as ------------------------------------------------------------
    def _execution_role(self, model_image: ModelImageStack) -> iam.IRole:
        data = self._data_lake
        role = iam.Role(
            self,
            "EndpointRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{self._config.prefix}: workshop endpoints read models, capture data",
        )
        statements = [
            (
                iam.PolicyStatement(
                    sid="ReadModelArtifacts",
                    actions=["s3:GetObject"],
                    resources=[
                        *(
                            asset.bucket.arn_for_objects(asset.s3_object_key)
                            for asset in self.model_assets.values()
                        ),
                        data.exports.curated_bucket_arn + f"/{BYOM_MODELS_PREFIX}*",
                    ],
                ),
                "The multi-model BYOM endpoint loads any model archive under its one models "
                "prefix; the archives' names are chosen when attendees add models.",
            ),
            (
                iam.PolicyStatement(
                    sid="ReadRegisteredModels",
                    actions=["s3:GetObject"],
                    resources=[
                        f"{data.exports.curated_bucket_arn}/{PIPELINES_PREFIX}{BANK_PIPELINE_KEY}/*"
                    ],
                ),
                "An approved bank-marketing package, which the promotion serves as the "
                "challenger, points at a model archive below its pipeline execution's own "
                "prefix; execution ids and training-job names are generated at run time.",
            ),
            (
                iam.PolicyStatement(
                    sid="ListModelArtifacts",
                    actions=["s3:ListBucket"],
                    resources=[data.exports.curated_bucket_arn],
                    conditions={"StringLike": {"s3:prefix": f"{BYOM_MODELS_PREFIX}*"}},
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="WriteCapturedData",
                    actions=["s3:PutObject"],
                    resources=[data.exports.curated_bucket_arn + f"/{DATA_CAPTURE_PREFIX}*"],
                ),
                "Data capture writes one object per captured batch under the capture prefix, "
                "named by SageMaker with the endpoint, variant and time.",
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
        endpoint_grants = [
            *(Grant(statement, why) for statement, why in statements),
            *grants.pull_image(*model_image.image_repositories),
            grants.sagemaker_logs(
                self,
                "WriteEndpointLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                groups="/aws/sagemaker/Endpoints/*",
            ),
            grants.sagemaker_metrics(),
        ]
        self._execution_policy = grants.managed_policy(
            self,
            "EndpointPolicy",
            "The workshop endpoints: model archives, data capture, image, logs",
            endpoint_grants,
            roles=[role],
        )
        return role.without_policy_updates()

    # -- models --------------------------------------------------------------------------------
    def _xgboost_model(
        self, construct_id: str, images: AlgorithmImages, artifact: s3_assets.Asset
    ) -> sagemaker.CfnModel:
        model = sagemaker.CfnModel(
            self,
            construct_id,
            execution_role_arn=self.execution_role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=images.uri(XGBOOST.framework), model_data_url=artifact.s3_object_url
            ),
            enable_network_isolation=True,  # the built-in container needs no network
        )
        model.node.add_dependency(self._execution_policy)
        return model

    def _byom_endpoint_config(
        self, model_image: ModelImageStack, artifacts: ServingArtifacts
    ) -> sagemaker.CfnEndpointConfig:
        if self._settings.multi_model:
            # A multi-model endpoint serves every archive under one S3 prefix; the first one is
            # copied there at deploy, attendees add more during the lab.
            # The curated bucket by its named export, so the copy function's wildcard findings
            # have ids known before synthesis.
            curated = s3.Bucket.from_bucket_attributes(
                self,
                "CuratedBucket",
                bucket_arn=self._data_lake.exports.curated_bucket_arn,
                encryption_key=self._data_lake.data_key,
            )
            deployment = s3_deployment.BucketDeployment(
                self,
                "ByomModels",
                sources=[s3_deployment.Source.asset(str(artifacts.byom.parent))],
                destination_bucket=curated,
                destination_key_prefix=BYOM_MODELS_PREFIX,
                prune=False,
                retain_on_delete=False,
            )
            container = sagemaker.CfnModel.ContainerDefinitionProperty(
                image=model_image.image_uri,
                mode="MultiModel",
                model_data_url=curated.s3_url_for_object(BYOM_MODELS_PREFIX),
            )
            nag.acknowledge_bucket_deployment_role(self, curated)
        else:
            deployment = None
            artifact = s3_assets.Asset(
                self,
                "ByomArtifact",
                path=str(artifacts.byom),
                asset_hash=artifacts.asset_hash("byom"),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
            )
            self.model_assets["byom"] = artifact
            self._execution_policy.add_statements(
                iam.PolicyStatement(
                    sid="ReadByomArtifact",
                    actions=["s3:GetObject"],
                    resources=[artifact.bucket.arn_for_objects(artifact.s3_object_key)],
                )
            )
            container = sagemaker.CfnModel.ContainerDefinitionProperty(
                image=model_image.image_uri, model_data_url=artifact.s3_object_url
            )
        model = sagemaker.CfnModel(
            self,
            "ByomModel",
            execution_role_arn=self.execution_role.role_arn,
            primary_container=container,
            # The BYOM server needs no network; Serverless Inference does not support
            # network isolation, so a serverless BYOM endpoint runs without it.
            enable_network_isolation=not self._settings.byom_serverless,
        )
        model.node.add_dependency(self._execution_policy)
        if deployment is not None:
            model.node.add_dependency(deployment)
        return self._endpoint_config(
            "ByomEndpointConfig",
            [(BYOM_VARIANT, model, 1.0)],
            capture=False,
            serverless=self._settings.byom_serverless,
        )

    def _ab_endpoint_config(
        self, champion: sagemaker.CfnModel, challenger: sagemaker.CfnModel
    ) -> sagemaker.CfnEndpointConfig:
        weight = self._settings.champion_weight
        return self._endpoint_config(
            "AbEndpointConfig",
            [(CHAMPION, champion, weight), (CHALLENGER, challenger, round(1 - weight, 6))],
            capture=self._settings.data_capture_percent > 0,
        )

    def _endpoint_config(
        self,
        construct_id: str,
        variants: list[tuple[str, sagemaker.CfnModel, float]],
        *,
        capture: bool,
        serverless: bool = False,
    ) -> sagemaker.CfnEndpointConfig:
        # No fixed name: endpoint configs are immutable, so each change creates a new one and
        # the endpoint moves to it in place (no replacement of the endpoint).
        capacity = (
            {
                # A quiet workshop's endpoint: billed per request, no instance idles overnight.
                "serverless_config": sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    max_concurrency=self._settings.serverless_max_concurrency,
                    memory_size_in_mb=self._settings.serverless_memory_mb,
                )
            }
            if serverless
            else {
                "initial_instance_count": self._settings.initial_instance_count,
                "instance_type": self._config.instance_types.endpoint,
            }
        )
        return sagemaker.CfnEndpointConfig(
            self,
            construct_id,
            kms_key_id=self.endpoint_key.key_arn,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=name,
                    model_name=model.attr_model_name,
                    initial_variant_weight=weight,
                    **capacity,
                )
                for name, model, weight in variants
            ],
            data_capture_config=self._data_capture() if capture else None,
        )

    def _data_capture(self) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=self._settings.data_capture_percent,
            destination_s3_uri=self._data_lake.curated_bucket.s3_url_for_object(
                DATA_CAPTURE_PREFIX + self._config.ab_endpoint_name
            ),
            kms_key_id=self._data_lake.data_key.key_arn,
            capture_options=[
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
            ],
            capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                csv_content_types=["text/csv"]
            ),
        )

    # -- endpoints -----------------------------------------------------------------------------
    def _endpoint(
        self,
        construct_id: str,
        name: str,
        endpoint_config: sagemaker.CfnEndpointConfig,
        *,
        rollback_alarms: list[cloudwatch.Alarm],
        serverless: bool = False,
    ) -> sagemaker.CfnEndpoint:
        # A canary step may shift at most half of a variant's instances: with one instance (or
        # a serverless variant, which has none) the update shifts all at once, and the old
        # fleet stays for termination_wait_in_seconds, when the alarms can still roll it back.
        all_at_once = serverless or self._settings.initial_instance_count < 2
        routing = (
            sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(type="ALL_AT_ONCE")
            if all_at_once
            else sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type="CANARY",
                canary_size=sagemaker.CfnEndpoint.CapacitySizeProperty(
                    type="CAPACITY_PERCENT", value=10
                ),
                wait_interval_in_seconds=300,
            )
        )
        endpoint = sagemaker.CfnEndpoint(
            self,
            construct_id,
            endpoint_name=name,  # a contract with the labs and the promotion function
            endpoint_config_name=endpoint_config.attr_endpoint_config_name,
            # Keep the live weights and autoscaled counts on an update unless asked otherwise.
            retain_all_variant_properties=not self._settings.reset_variant_properties,
            deployment_config=sagemaker.CfnEndpoint.DeploymentConfigProperty(
                blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                    traffic_routing_configuration=routing,
                    termination_wait_in_seconds=120,
                    maximum_execution_timeout_in_seconds=3600,
                ),
                auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[
                        sagemaker.CfnEndpoint.AlarmProperty(alarm_name=alarm.alarm_name)
                        for alarm in rollback_alarms
                    ]
                ),
            ),
        )
        return endpoint

    def _autoscaling(self, endpoint: sagemaker.CfnEndpoint, variant: str) -> None:
        settings = self._settings
        target = autoscaling.CfnScalableTarget(
            self,
            f"{endpoint.node.id}-{variant}-Scaling",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            # The reference to the endpoint's name makes CloudFormation create the target after
            # the endpoint and delete it (deregistering the target) before the endpoint.
            resource_id=f"endpoint/{endpoint.attr_endpoint_name}/variant/{variant}",
            min_capacity=settings.min_instances,
            max_capacity=settings.max_instances,
        )
        target.add_dependency(endpoint)
        autoscaling.CfnScalingPolicy(
            self,
            f"{endpoint.node.id}-{variant}-InvocationsPerInstance",
            policy_name=f"{endpoint.node.id}-{variant}-invocations-per-instance",
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.ref,
            target_tracking_scaling_policy_configuration=autoscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=settings.invocations_per_instance,
                predefined_metric_specification=autoscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                ),
                scale_in_cooldown=settings.scale_in_cooldown_seconds,
                scale_out_cooldown=settings.scale_out_cooldown_seconds,
            ),
        )

    # -- promotion of approved models and A/B control --------------------------------------------
    def _function(
        self,
        construct_id: str,
        package: str,
        description: str,
        statements,
        environment,
        *,
        why_no_dead_letter_queue: str,
    ) -> lambda_.Function:
        """A function from ``lambdas/<package>`` with a written-out role and its own log group."""
        log_group = encrypted_log_group(
            self, f"{construct_id}Logs", config=self._config, key=self.endpoint_key
        )
        role = exact_role(
            self,
            f"{construct_id}Role",
            policy_id=f"{construct_id}Policy",
            service="lambda.amazonaws.com",
            description=description,
            log_group=log_group,
            statements=[statement for statement, _ in statements],
        )
        nag.acknowledge_wildcards(role.policy, [(s, why) for s, why in statements if why])
        return packaged_function(
            self,
            construct_id,
            package=package,
            handler="handler.handler",
            description=description,
            role=role.role,
            policy=role.policy,
            log_group=log_group,
            timeout=cdk.Duration.minutes(1),
            environment=environment,
            why_no_dead_letter_queue=why_no_dead_letter_queue,
            why_no_vpc="It calls only the SageMaker API; a VPC would add a NAT gateway's cost "
            "without narrowing what it can reach.",
        )

    def _promotion(
        self, ab_config: sagemaker.CfnEndpointConfig, rollback_alarms: list[cloudwatch.Alarm]
    ) -> lambda_.Function:
        """Approving a model package in the bank group puts it in as the challenger."""
        prefix, endpoint = self._config.prefix, self.ab_endpoint_name
        group = self._config.bank_model_package_group
        configs = [
            self._sagemaker_arn("endpoint-config", f"{endpoint}-v*"),
            self._sagemaker_arn("endpoint-config", ab_config.attr_endpoint_config_name),
        ]
        why_versions = (
            "Each promotion creates a model and an endpoint config whose names carry the "
            "package version, unknown when the policy is written; the names are limited to "
            f"'{prefix}-*' models and '{endpoint}-v*' configs."
        )
        statements = [
            (
                iam.PolicyStatement(
                    sid="ReadApprovedPackages",
                    actions=["sagemaker:DescribeModelPackage"],
                    resources=[self._sagemaker_arn("model-package", f"{group}/*")],
                ),
                "Package versions are numbered by the registry as the pipeline registers them.",
            ),
            (
                iam.PolicyStatement(
                    sid="ReadTheEndpoint",
                    actions=["sagemaker:DescribeEndpoint"],
                    resources=[self._sagemaker_arn("endpoint", endpoint)],
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="CreateChallenger",
                    actions=[
                        "sagemaker:DescribeModel",
                        "sagemaker:CreateModel",
                        "sagemaker:DescribeEndpointConfig",
                        "sagemaker:CreateEndpointConfig",
                        "sagemaker:AddTags",
                    ],
                    resources=[self._sagemaker_arn("model", f"{prefix}-*"), *configs],
                ),
                why_versions,
            ),
            (
                iam.PolicyStatement(
                    sid="UpdateTheEndpoint",
                    actions=["sagemaker:UpdateEndpoint"],
                    resources=[self._sagemaker_arn("endpoint", endpoint), *configs],
                ),
                why_versions,
            ),
            (
                iam.PolicyStatement(
                    sid="PassEndpointRole",
                    actions=["iam:PassRole"],
                    resources=[self.execution_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="EncryptNewConfig",
                    actions=["kms:CreateGrant", "kms:DescribeKey"],
                    resources=[self.endpoint_key.key_arn],
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="ReadRollbackAlarms",
                    actions=["cloudwatch:DescribeAlarms"],
                    resources=[alarm.alarm_arn for alarm in rollback_alarms],
                ),
                None,
            ),
        ]
        function = self._function(
            "Promotion",
            "promotion",
            "Puts a newly approved bank-marketing model in as the A/B challenger",
            statements,
            {
                "WORKSHOP_PREFIX": prefix,
                "MODEL_PACKAGE_GROUP": group,
                "ENDPOINT_NAME": endpoint,
                "EXECUTION_ROLE_ARN": self.execution_role.role_arn,
                "CHALLENGER_WEIGHT": str(self._settings.challenger_weight_on_promotion),
                "CHALLENGER_VARIANT": CHALLENGER,
                "ROLLBACK_ALARMS": ",".join(alarm.alarm_name for alarm in rollback_alarms),
            },
            why_no_dead_letter_queue="Invoked by the EventBridge rule, whose target has a "
            "dead-letter queue (PromotionFailures) for events it could not deliver; the function "
            "itself is synchronous for EventBridge, so a function-level DLQ would stay empty.",
        )
        failed_events = sqs.Queue(
            self,
            "PromotionFailures",
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        nag.acknowledge(
            failed_events,
            "This queue is itself the dead-letter queue of the promotion rule: approvals that "
            "could not be delivered wait here (14 days) for an operator; a queue behind it "
            "would never receive anything.",
            "AwsSolutions-SQS3",
        )
        events.Rule(
            self,
            "OnModelApproval",
            description=f"A model package approved in {group} → the A/B challenger",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={
                    "ModelPackageGroupName": [group],
                    "ModelApprovalStatus": ["Approved"],
                },
            ),
            targets=[
                events_targets.LambdaFunction(
                    function, retry_attempts=2, dead_letter_queue=failed_events
                )
            ],
        )
        return function

    def _traffic_shift(self) -> lambda_.Function:
        """Moves weights between variants on request (the lab's A/B exercise, the organiser)."""
        prefix = self._config.prefix
        return self._function(
            "TrafficShift",
            "traffic_shift",
            "Moves traffic between the variants of a workshop endpoint; refuses bad weights",
            [
                (
                    iam.PolicyStatement(
                        sid="ShiftWorkshopEndpoints",
                        actions=[
                            "sagemaker:DescribeEndpoint",
                            "sagemaker:UpdateEndpointWeightsAndCapacities",
                        ],
                        resources=[self._sagemaker_arn("endpoint", f"{prefix}-*")],
                    ),
                    f"Any endpoint of this workshop (names '{prefix}-*'), including those "
                    "attendees deploy in the A/B lab.",
                )
            ],
            {"WORKSHOP_PREFIX": prefix, "MAX_STEP": "0.5"},
            why_no_dead_letter_queue="Invoked synchronously by an operator or the lab (aws lambda "
            "invoke); the caller sees the error directly, so a dead-letter queue would hold "
            "nothing.",
        )

    def _sagemaker_arn(self, kind: str, name: str) -> str:
        return grants.sagemaker_arn(self, kind, name)

    # -- alarms and the dashboard ----------------------------------------------------------------
    def _metric(self, name: str, endpoint: str, variant: str, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=ENDPOINT_NAMESPACE,
            metric_name=name,
            dimensions_map={"EndpointName": endpoint, "VariantName": variant},
            statistic=statistic,
            period=cdk.Duration.minutes(1),
        )

    def _alarms(
        self, construct_prefix: str, endpoint: str, variants: tuple[str, ...]
    ) -> list[cloudwatch.Alarm]:
        """5XX and p99-latency alarms per variant (they also roll back updates) and one alarm
        for an endpoint nobody called for hours: a forgotten endpoint still bills."""
        # The guardrails' topic, by ARN: its stack deploys after this one (it watches it), so
        # a construct reference would be a dependency cycle.
        alerts = sns.Topic.from_topic_arn(
            self,
            f"{construct_prefix}-AlertsTopic",
            self.format_arn(
                service="sns",
                resource=self._config.alerts_topic_name,
                arn_format=cdk.ArnFormat.NO_RESOURCE_NAME,
            ),
        )
        rollback: list[cloudwatch.Alarm] = []
        for variant in variants:
            errors = cloudwatch.Alarm(
                self,
                f"{construct_prefix}-{variant}-5xx",
                alarm_name=f"{endpoint}-{variant}-5xx",
                alarm_description=f"{endpoint}/{variant} returns server errors",
                metric=self._metric("Invocation5XXErrors", endpoint, variant, "Sum"),
                threshold=5,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            latency = cloudwatch.Alarm(
                self,
                f"{construct_prefix}-{variant}-latency",
                alarm_name=f"{endpoint}-{variant}-latency-p99",
                alarm_description=f"{endpoint}/{variant} p99 model latency above "
                f"{self._settings.latency_p99_ms} ms",
                metric=self._metric("ModelLatency", endpoint, variant, "p99"),
                threshold=self._settings.latency_p99_ms * 1000,  # ModelLatency is in microseconds
                evaluation_periods=5,
                datapoints_to_alarm=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            rollback += [errors, latency]
        hours = self._settings.idle_alarm_hours
        calls = cloudwatch.MathExpression(
            expression=" + ".join(f"FILL(m{i}, 0)" for i in range(len(variants))),
            using_metrics={
                f"m{i}": self._metric("Invocations", endpoint, variant, "Sum").with_(
                    period=cdk.Duration.hours(1)
                )
                for i, variant in enumerate(variants)
            },
            period=cdk.Duration.hours(1),
            label="invocations",
        )
        forgotten = cloudwatch.Alarm(
            self,
            f"{construct_prefix}-forgotten",
            alarm_name=f"{endpoint}-no-invocations-{hours}h",
            alarm_description=f"{endpoint} got no request for {hours} h: delete it if the lab "
            "is over (it bills per instance-hour)",
            metric=calls,
            threshold=0,
            evaluation_periods=hours,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for alarm in (*rollback, forgotten):
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(alerts))
        return rollback

    def _dashboard(self) -> None:
        widgets = []
        for endpoint, variants in (
            (self.ab_endpoint_name, (CHAMPION, CHALLENGER)),
            (self.byom_endpoint_name, (BYOM_VARIANT,)),
        ):
            for title, metric, statistic in (
                ("invocations / min", "Invocations", "Sum"),
                ("model latency p50 (µs)", "ModelLatency", "p50"),
                ("model latency p99 (µs)", "ModelLatency", "p99"),
                ("4XX + 5XX errors / min", "Invocation5XXErrors", "Sum"),
            ):
                widgets.append(
                    cloudwatch.GraphWidget(
                        title=f"{endpoint}: {title}",
                        left=[
                            self._metric(metric, endpoint, v, statistic).with_(label=v)
                            for v in variants
                        ]
                        + (
                            [
                                self._metric("Invocation4XXErrors", endpoint, v, "Sum").with_(
                                    label=f"{v} 4XX"
                                )
                                for v in variants
                            ]
                            if metric == "Invocation5XXErrors"
                            else []
                        ),
                        width=6,
                    )
                )
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{endpoint}: instances per variant",
                    left=[
                        cloudwatch.Metric(
                            namespace=ENDPOINT_NAMESPACE,
                            metric_name="CPUUtilization",
                            dimensions_map={"EndpointName": endpoint, "VariantName": v},
                            statistic="SampleCount",
                            period=cdk.Duration.minutes(1),
                            label=f"{v} (instances reporting)",
                        )
                        for v in variants
                    ],
                    width=6,
                )
            )
        cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self._config.prefix}-endpoints",
            widgets=[widgets[i : i + 5] for i in range(0, len(widgets), 5)],
        )

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "AbEndpointName", value=self.ab_endpoint.attr_endpoint_name)
        cdk.CfnOutput(self, "ByomEndpointName", value=self.byom_endpoint.attr_endpoint_name)
        cdk.CfnOutput(self, "TrafficShiftFunctionName", value=self.traffic_shift.function_name)
        cdk.CfnOutput(
            self,
            "AbInvokeCommand",
            value=f"aws sagemaker-runtime invoke-endpoint --endpoint-name {self.ab_endpoint_name} "
            "--content-type text/csv --body fileb://row.csv /dev/stdout",
        )
