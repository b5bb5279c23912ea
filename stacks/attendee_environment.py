"""AttendeeEnvironmentStack: one SageMaker notebook per attendee, and roles a reviewer can sign.

Reads top to bottom as an attendee meets it: a customer key for the notebook volumes → the
network the notebooks live in (a workshop VPC with private subnets and one NAT gateway, or
SageMaker's direct internet access) → the lifecycle configuration (clone the labs, shell set-up,
idle auto-stop) → one role per attendee, built from the calls the labs make, which is also the
role the attendee's jobs and endpoints run as → the notebooks → the labs' parameter → what the
organiser hands out.

Attendee isolation rests on names and is checked as evaluated IAM decisions
(tests/contracts/test_attendee_isolation.py): attendee A's role creates and changes only
SageMaker resources named ``<prefix>-A-*``, writes only A's S3 prefix and the shared scratch
prefix, may pass only itself to SageMaker (so a job can do no more than A), and touches the
shared endpoints and pipelines only to invoke and run them.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from notebook_lifecycle.render import render, render_studio_jupyterlab
from stacks import nag
from stacks.constructs import grants
from stacks.constructs.exact_role import exact_role
from stacks.constructs.grants import Grant
from stacks.constructs.packaged_function import packaged_function
from stacks.constructs.teardown import customer_key, encrypted_log_group
from stacks.data_lake import ATHENA_RESULTS_PREFIX, DataLakeStack
from stacks.model_image import ModelImageStack
from workshop_spec.config import ATTENDEES_PREFIX, PROJECT_ROOT, SCRATCH_PREFIX, WorkshopConfig

LIFECYCLE_DIR = PROJECT_ROOT / "notebook_lifecycle"
LABS_DIR = PROJECT_ROOT / "labs"

# The workshop's original notebook role (Module 1), for `permissions: seed`.
SEED_MANAGED_POLICIES = (
    "AmazonSageMakerFullAccess",
    "AmazonS3FullAccess",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryFullAccess",
    "service-role/AmazonEC2ContainerServiceforEC2Role",
    "AmazonAthenaFullAccess",
    "ComprehendFullAccess",
)

NOTEBOOK_LOG_GROUP = "/aws/sagemaker/NotebookInstances"

# SageMaker resource types attendees create from the labs, by the ARN's resource-type segment.
JOB_TYPES = ("training-job", "hyper-parameter-tuning-job", "processing-job", "transform-job")
HOSTING_TYPES = ("model", "endpoint-config", "endpoint")
# The attendees' own entries per SSM parameter: at the longest names (a 12-digit account, generated
# role and repository names at their longest) ten fit a standard parameter's 4 KB with room
# (tests/contracts/test_policy_limits.py measures it); 100 attendees take 10 parameters.
ATTENDEES_PER_PARAMETER = 10
# What pulling a private image takes (SageMaker pulls with the model's or job's execution role).
PULL_IMAGE = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")


class AttendeeEnvironmentStack(cdk.Stack):
    """A notebook instance per attendee (KMS-encrypted volume, IMDSv2 only, no root by
    default) in private subnets of a workshop VPC or with direct internet access; a least-
    privilege role per attendee that their jobs and endpoints also run as; a lifecycle
    configuration that clones the labs, sets up the shell and stops idle notebooks; and the
    outputs an organiser hands to attendees."""

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
        self._settings = config.attendee_environment
        self._data_lake = data_lake
        self._model_image = model_image

        self.notebook_key = customer_key(
            self,
            "NotebookKey",
            config=config,
            purpose="encrypts the attendees' notebook volumes, the VPC flow logs and the "
            "attendees' first console passwords",
            for_log_groups=True,
        )
        self.vpc, self.notebook_security_group = self._network()
        self.labs = self._labs_asset()
        self.studio = self._settings.environment == "studio"
        self.lifecycle = None if self.studio else self._lifecycle_configuration()
        self.studio_lifecycle = self._studio_lifecycle_configuration() if self.studio else None
        self.domain = self._studio_domain() if self.studio else None
        self.attendee_roles: dict[str, iam.Role] = {}
        self.notebooks: dict[str, sagemaker.CfnNotebookInstance] = {}
        self.user_profiles: dict[str, sagemaker.CfnUserProfile] = {}
        shared_policies = self._attendee_shared_policies()
        for attendee in config.attendee_names:
            role, policies = self._attendee_role(attendee, shared_policies)
            self.attendee_roles[attendee] = role
            if self.studio:
                self.user_profiles[attendee] = self._user_profile(attendee, role, policies)
            else:
                self.notebooks[attendee] = self._notebook(attendee, role, policies)
        self.workshop_parameter = self._workshop_parameter()
        self.attendee_parameters = self._attendee_parameters()
        # Other stacks' policies name the domain's members: a named export keeps the ids of
        # their wildcard findings known before synthesis (see nag.acknowledge_wildcards).
        self.studio_domain_id = (
            self.export_value(self.domain.attr_domain_id, name=f"{self.stack_name}:StudioDomainId")
            if self.studio
            else None
        )
        if self.studio:
            self._studio_home_teardown()
        self._outputs()
        nag.acknowledge_cdk_helpers(self)

    # -- network -----------------------------------------------------------------------------
    def _network(self) -> tuple[ec2.Vpc | None, ec2.SecurityGroup | None]:
        if self._settings.network == "direct":
            return None, None
        flow_logs = encrypted_log_group(
            self, "FlowLogs", config=self._config, key=self.notebook_key
        )
        flow_logs_role = exact_role(
            self,
            "FlowLogsRole",
            policy_id="FlowLogsPolicy",
            service="vpc-flow-logs.amazonaws.com",
            description=f"{self._config.prefix}: VPC flow logs into their own log group",
            log_group=flow_logs,
            statements=[
                iam.PolicyStatement(
                    sid="FindOwnLogStreams",
                    actions=["logs:DescribeLogStreams"],
                    resources=[flow_logs.log_group_arn],
                )
            ],
        )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.42.0.0/16"),
            max_azs=2,
            restrict_default_security_group=True,  # nothing may use the default group
            nat_gateways=1,  # one is enough for a day's event; two AZs double the hourly cost
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="egress",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=26,
                    map_public_ip_on_launch=False,  # only the NAT gateway lives here
                ),
                ec2.SubnetConfiguration(
                    name="notebooks", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            gateway_endpoints={
                # Data-lake reads and writes stay on the AWS network and cost no NAT traffic.
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        flow_logs, flow_logs_role.role
                    )
                )
            },
        )
        for subnet in vpc.public_subnets:
            nag.acknowledge(
                subnet,
                "The public subnets hold only the NAT gateway that gives the private notebook "
                "subnets their outbound route (GitHub, PyPI, AWS APIs); nothing is launched into "
                "them and they assign no public IPs.",
                "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
            )
        security_group = ec2.SecurityGroup(
            self,
            "NotebookSecurityGroup",
            vpc=vpc,
            description="Attendee notebooks: no inbound; outbound HTTPS only",
            allow_all_outbound=False,
        )
        # git clones, pip, conda, AL2023's dnf repositories and the AWS APIs are all HTTPS
        # (Amazon Linux 2's yum mirrors needed HTTP; that platform is retired).
        security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS")
        return vpc, security_group

    # -- the labs, delivered with the environment -------------------------------------------------
    def _labs_asset(self) -> s3_assets.Asset | None:
        """labs/ as a zip asset: the lifecycle unpacks it into each notebook on first start, so
        the labs need no GitHub access and always match the deployed stacks. ``labs/container``
        is a symbolic link to the model image's source (training_code/byom_scikit): followed
        here, the archive holds the container's files themselves, which Module 7 reads,
        builds and pushes; one source, committed once."""
        if not LABS_DIR.is_dir():
            return None
        return s3_assets.Asset(
            self,
            "Labs",
            path=str(LABS_DIR),
            exclude=["__pycache__", "*.pyc", ".ipynb_checkpoints", ".workshop", ".pytest_cache"],
            follow_symlinks=cdk.SymlinkFollowMode.ALWAYS,
        )

    # -- the labs' configuration, one place ----------------------------------------------------
    def _workshop_parameter(self) -> ssm.StringParameter:
        """What the labs need to find the workshop's resources, read into each notebook: one
        parameter for what every attendee shares, and the attendees' own entries in a few more
        (:meth:`_attendee_parameters`). A standard parameter's value holds at most 4 KB
        ("Standard parameters have a value limit of 4 KB", PutParameter's ``Value``,
        https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html;
        tiers: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html):
        the shared one names nothing per attendee, so it does not grow with the workshop."""
        values = {
            "prefix": self._config.prefix,
            "region": cdk.Aws.REGION,
            "raw_bucket": self._data_lake.raw_bucket.bucket_name,
            "curated_bucket": self._data_lake.curated_bucket.bucket_name,
            "attendees_prefix": ATTENDEES_PREFIX,
            "scratch_prefix": SCRATCH_PREFIX,
            "athena_workgroup": self._config.athena_workgroup_name,
            "glue_database": self._config.glue_database_name,
            # Module 4 shows the deploy's run of the reviews ETL (GetJobRuns) by this name.
            "glue_jobs": {"reviews_etl": self._data_lake.reviews_etl_job.name},
            # Where the attendees' own entries are (the labs' helper merges them in).
            "attendee_parameters": [
                self._config.attendee_parameter_name(part)
                for part in range(1, len(self._attendee_groups()) + 1)
            ],
            "tags": self._config.tags,
        }
        if self._model_image is not None:
            values["model_repository_uri"] = self._model_image.repository.repository_uri
            values["byom_image_uri"] = self._model_image.image_uri
        values["instance_types"] = self._config.instance_types.model_dump()
        values["endpoints"] = {
            "ab": self._config.ab_endpoint_name,
            "byom": self._config.byom_endpoint_name,
        }
        return ssm.StringParameter(
            self,
            "WorkshopParameter",
            parameter_name=self._config.workshop_parameter_name,
            description="The workshop's resource names for the labs (read by the notebooks)",
            string_value=self.to_json_string(values),
            tier=ssm.ParameterTier.STANDARD,
        )

    def _attendee_groups(self) -> list[list[str]]:
        """Attendees in the order of the config, ATTENDEES_PER_PARAMETER at a time."""
        names = self._config.attendee_names
        step = ATTENDEES_PER_PARAMETER
        return [names[i : i + step] for i in range(0, len(names), step)]

    def _attendee_parameters(self) -> list[ssm.StringParameter]:
        """The attendees' own entries, as before in one map per kind (``execution_roles``,
        ``image_repositories``), split over ``/<prefix>/workshop/attendees/<n>`` parameters of
        ATTENDEES_PER_PARAMETER attendees each. Not one parameter per attendee: 100 more
        resources would take this stack past CloudFormation's 500 at the config's 100
        attendees (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
        Every attendee reads them all, as they read the one parameter before: role ARNs and
        repository names are names, not rights (tests/contracts/test_attendee_isolation.py)."""
        parameters = []
        for part, attendees in enumerate(self._attendee_groups(), start=1):
            # Their jobs and endpoints run as their own role, which can do no more than them.
            values = {"execution_roles": {a: self.attendee_roles[a].role_arn for a in attendees}}
            if self._model_image is not None:
                # Module 7 pushes each attendee's own build here (one repository per attendee,
                # in the registry of the shared model_repository_uri).
                repositories = self._model_image.attendee_repositories
                values["image_repositories"] = {
                    a: repositories[a].repository_name for a in attendees
                }
            parameters.append(
                ssm.StringParameter(
                    self,
                    f"AttendeesParameter{part}",
                    parameter_name=self._config.attendee_parameter_name(part),
                    description=f"Attendees {attendees[0]} to {attendees[-1]}: their own "
                    "resource names for the labs",
                    string_value=self.to_json_string(values),
                    tier=ssm.ParameterTier.STANDARD,
                )
            )
        return parameters

    # -- what attendees may do -----------------------------------------------------------------
    def _attendee_shared_policies(self) -> list[iam.ManagedPolicy]:
        """Two policies (an IAM managed policy holds at most 6,144 characters), and a third for
        notebooks in the workshop VPC."""
        if self._settings.permissions == "seed":
            return []
        network = [] if self.studio or self.vpc is None else [self._notebook_network_policy()]
        return [
            *network,
            self._managed_policy(
                "AttendeeSageMakerPolicy",
                "What every attendee needs of the workshop's shared SageMaker resources: read "
                "their logs and metrics, invoke the shared endpoints, run the workshop pipelines",
                [
                    *self._shared_sagemaker_grants(),
                    *self._job_log_grants(),
                    *self._autoscaling_reads(),
                    self._metric_reads(),
                ],
            ),
            self._managed_policy(
                "AttendeeDataPolicy",
                "What every attendee's notebook needs of the data lake, Athena, Comprehend and "
                "the workshop image repository",
                [
                    *self._data_grants(),
                    *self._athena_grants(),
                    self._comprehend_grant(),
                    *self._image_push_grants(),
                ],
            ),
        ]

    def _notebook_network_policy(self) -> iam.ManagedPolicy:
        """SageMaker attaches a notebook to its subnet with the notebook's own role ("Create
        NotebookInstance API: Execution Role Permissions" in the SageMaker developer guide):
        network interfaces only in the workshop's private subnets and security group."""
        subnets = [
            self.format_arn(service="ec2", resource="subnet", resource_name=subnet.subnet_id)
            for subnet in self.vpc.private_subnets
        ]
        interfaces = self.format_arn(service="ec2", resource="network-interface", resource_name="*")
        security_group = self.format_arn(
            service="ec2",
            resource="security-group",
            resource_name=self.notebook_security_group.security_group_id,
        )
        why_interfaces = (
            "SageMaker names the notebook's network interface when it creates it; creating one "
            "needs the workshop's own subnets and security group, and deleting one is limited "
            "to interfaces in those subnets."
        )
        return self._managed_policy(
            "NotebookNetworkPolicy",
            "What SageMaker does as each notebook's role to attach it to the workshop subnets",
            [
                Grant(
                    iam.PolicyStatement(
                        sid="AttachToWorkshopSubnets",
                        actions=["ec2:CreateNetworkInterface"],
                        resources=[interfaces, *subnets, security_group],
                    ),
                    why_interfaces,
                ),
                Grant(
                    iam.PolicyStatement(
                        sid="ShareInterfaceWithSageMaker",
                        actions=["ec2:CreateNetworkInterfacePermission"],
                        resources=[interfaces],
                    ),
                    why_interfaces,
                ),
                Grant(
                    iam.PolicyStatement(
                        sid="DetachFromWorkshopSubnets",
                        actions=[
                            "ec2:DeleteNetworkInterface",
                            "ec2:DeleteNetworkInterfacePermission",
                        ],
                        resources=[interfaces],
                        conditions={"ArnEquals": {"ec2:Subnet": subnets}},
                    ),
                    why_interfaces,
                ),
                Grant(
                    iam.PolicyStatement(
                        sid="ReadNetwork",
                        actions=[
                            "ec2:DescribeNetworkInterfaces",
                            "ec2:DescribeVpcs",
                            "ec2:DescribeDhcpOptions",
                            "ec2:DescribeSubnets",
                            "ec2:DescribeSecurityGroups",
                        ],
                        resources=["*"],
                    ),
                    "EC2's Describe actions support no resource-level permissions (AWS "
                    "requires Resource '*'); they are read-only.",
                ),
            ],
        )

    def _managed_policy(
        self, construct_id: str, description: str, policy_grants: list[Grant]
    ) -> iam.ManagedPolicy:
        return grants.managed_policy(self, construct_id, description, policy_grants)

    @staticmethod
    def _comprehend_grant() -> Grant:
        return Grant(
            iam.PolicyStatement(
                sid="DetectLanguage",
                actions=[
                    "comprehend:DetectSentiment",
                    "comprehend:DetectKeyPhrases",
                    "comprehend:DetectEntities",
                    "comprehend:BatchDetectSentiment",
                    "comprehend:BatchDetectEntities",
                    "comprehend:BatchDetectKeyPhrases",
                ],
                resources=["*"],
            ),
            "Comprehend's detect calls use AWS's built-in models, which have no ARN; AWS "
            "requires Resource '*' for them. No custom model or job action is granted.",
        )

    def _metric_reads(self) -> Grant:
        """Modules 5 and 7 read what SageMaker publishes to CloudWatch: a training job's
        instance metrics, an endpoint's per-variant invocations and latency."""
        return Grant(
            iam.PolicyStatement(
                sid="ReadMetrics",
                actions=[
                    "cloudwatch:GetMetricData",
                    "cloudwatch:GetMetricStatistics",
                    "cloudwatch:ListMetrics",
                ],
                resources=["*"],
            ),
            "GetMetricData, GetMetricStatistics and ListMetrics have no resource types and no "
            "condition keys in the Service Authorization Reference "
            "(https://docs.aws.amazon.com/service-authorization/latest/reference/"
            "list_amazoncloudwatch.html): they are granted on '*' or not at all.",
        )

    def _autoscaling_reads(self) -> list[Grant]:
        return [
            Grant(
                iam.PolicyStatement(
                    sid="DescribeScaling",
                    actions=[
                        "application-autoscaling:DescribeScalableTargets",
                        "application-autoscaling:DescribeScalingPolicies",
                    ],
                    resources=["*"],
                ),
                "Application Auto Scaling's Describe calls support no resource ARN (AWS requires "
                "Resource '*'); they are read-only.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="AutoscalingServiceRole",
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=[
                        self.format_arn(
                            service="iam",
                            region="",
                            resource="role",
                            resource_name="aws-service-role/"
                            "sagemaker.application-autoscaling.amazonaws.com/"
                            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                        )
                    ],
                    conditions={
                        "StringLike": {
                            "iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"
                        }
                    },
                )
            ),
        ]

    def _own_autoscaling_grants(self, attendee: str) -> list[Grant]:
        """Module 7's autoscaling cell registers a target and a target-tracking policy on the
        attendee's own endpoint. Scalable targets have generated ids, so ownership is the
        ``attendee`` tag: set when registering, required to change or remove one. Registering
        also needs UpdateEndpointWeightsAndCapacities on the endpoint (own endpoints only)."""
        own = self._own_name_pattern(attendee)
        target = self.format_arn(
            service="application-autoscaling", resource="scalable-target", resource_name="*"
        )
        why_ids = (
            "Scalable targets are addressed by ids Application Auto Scaling generates; the "
            f"attendee tag limits the grant to {attendee}'s own targets."
        )
        return [
            Grant(
                iam.PolicyStatement(
                    sid="RegisterOwnScalableTargets",
                    actions=["application-autoscaling:RegisterScalableTarget"],
                    resources=[target],
                    conditions={"StringEquals": {"aws:RequestTag/attendee": attendee}},
                ),
                why_ids,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="ScaleOwnEndpoints",
                    actions=[
                        "application-autoscaling:DeregisterScalableTarget",
                        "application-autoscaling:PutScalingPolicy",
                        "application-autoscaling:DeleteScalingPolicy",
                    ],
                    resources=[target],
                    conditions={"StringEquals": {"aws:ResourceTag/attendee": attendee}},
                ),
                why_ids,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="OwnTargetTrackingAlarms",
                    actions=[
                        "cloudwatch:PutMetricAlarm",
                        "cloudwatch:DescribeAlarms",
                        "cloudwatch:DeleteAlarms",
                    ],
                    resources=[
                        self.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"TargetTracking-endpoint/{own}",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                ),
                "A target-tracking policy creates its alarms under names Application Auto "
                f"Scaling chooses, 'TargetTracking-endpoint/<endpoint>...'; only {own} endpoints.",
            ),
        ]

    def _job_log_grants(self) -> list[Grant]:
        return [
            Grant(
                iam.PolicyStatement(
                    sid="ReadJobLogs",
                    actions=[
                        "logs:DescribeLogStreams",
                        "logs:GetLogEvents",
                        "logs:FilterLogEvents",
                    ],
                    resources=[self._log_group_arn("/aws/sagemaker/*")],
                ),
                "The SDK's wait() and logs() stream the job and endpoint logs that SageMaker "
                "writes under /aws/sagemaker/; stream names are chosen at run time.",
            ),
            Grant(
                iam.PolicyStatement(
                    # The labs' parameters by name: the shared one and the attendees' parts
                    # (the helper reads the parts in one GetParameters call).
                    sid="ReadWorkshopParameter",
                    actions=["ssm:GetParameter", "ssm:GetParameters"],
                    resources=[
                        self._parameter_arn(self._config.workshop_parameter_name),
                        self._parameter_arn(self._config.attendee_parameter_name("*")),
                    ],
                ),
                "The attendees' parameters are numbered parts under one path, as many as the "
                "workshop's attendees need; each holds names only (roles, repositories).",
            ),
        ]

    def _parameter_arn(self, name: str) -> str:
        # A hierarchical parameter's ARN is 'parameter' followed by its name ('/a/b' gives
        # 'parameter/a/b': https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html).
        return self.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))

    def _own_name_pattern(self, attendee: str) -> str:
        """``<prefix>-<attendee>-*``: every SageMaker name the attendee's role may create."""
        return f"{self._config.prefix}-{attendee}-*"

    def _shared_sagemaker_grants(self) -> list[Grant]:
        """The shared resources attendees may touch, each by name and only as the labs do:
        invoke the workshop's endpoints, run the workshop's pipelines."""
        prefix = self._config.prefix
        endpoints = (self._config.ab_endpoint_name, self._config.byom_endpoint_name)
        pipelines = [self._sagemaker_arn("pipeline", name) for name in self._config.pipeline_names]
        return [
            Grant(
                iam.PolicyStatement(
                    sid="UseSharedEndpoints",
                    actions=["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"],
                    resources=[self._sagemaker_arn("endpoint", name) for name in endpoints],
                )
            ),
            Grant(
                iam.PolicyStatement(
                    sid="RunWorkshopPipelines",
                    actions=[
                        "sagemaker:DescribePipeline",
                        "sagemaker:StartPipelineExecution",
                        "sagemaker:DescribePipelineExecution",
                        "sagemaker:ListPipelineExecutionSteps",
                    ],
                    resources=[
                        *pipelines,
                        *(f"{arn}/execution/*" for arn in pipelines),
                    ],
                ),
                f"The labs start and watch the workshop's pipelines ('{prefix}-...'), which run "
                "as the pipelines' own role; execution ids are generated by SageMaker.",
            ),
            Grant(
                iam.PolicyStatement(
                    # Module 8: attendees review the bank pipeline's packages and approve one,
                    # which promotes it into the shared A/B endpoint (labs/README.md: who
                    # approves). Both actions take the model-package resource (Service
                    # Authorization Reference, https://docs.aws.amazon.com/service-authorization/
                    # latest/reference/list_amazonsagemaker.html); only the bank group's.
                    sid="ReviewBankModelPackages",
                    actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                    resources=[
                        self._sagemaker_arn(
                            "model-package", f"{self._config.bank_model_package_group}/*"
                        )
                    ],
                ),
                "Package versions are numbered by the registry as the pipeline registers them; "
                "the grant names the bank group only.",
            ),
            grants.sagemaker_metrics(),
        ]

    def _own_sagemaker_grants(self, attendee: str, role: iam.Role) -> list[Grant]:
        """What the attendee creates and operates: only names ``<prefix>-<attendee>-*``; jobs
        run as the attendee's own role (passing it gives a job nothing the attendee lacks)."""
        own = self._own_name_pattern(attendee)
        owned = [self._sagemaker_arn(kind, own) for kind in JOB_TYPES + HOSTING_TYPES]
        why_names = (
            f"{attendee} names jobs, models and endpoints at run time; every ARN is limited to "
            f"names that start with '{own[:-1]}'."
        )
        return [
            Grant(
                iam.PolicyStatement(
                    sid="CreateOwnResources",
                    actions=[
                        "sagemaker:CreateTrainingJob",
                        "sagemaker:CreateHyperParameterTuningJob",
                        "sagemaker:CreateProcessingJob",
                        "sagemaker:CreateTransformJob",
                        "sagemaker:CreateModel",
                        "sagemaker:CreateEndpointConfig",
                        "sagemaker:CreateEndpoint",
                        "sagemaker:AddTags",
                    ],
                    resources=owned,
                    # Tagged on create, so cost allocation and the janitor find them.
                    conditions={"StringEquals": {"aws:RequestTag/workshop": self._config.prefix}},
                ),
                why_names,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="OperateOwnJobs",
                    actions=[
                        "sagemaker:DescribeTrainingJob",
                        "sagemaker:StopTrainingJob",
                        "sagemaker:DescribeHyperParameterTuningJob",
                        "sagemaker:StopHyperParameterTuningJob",
                        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                        "sagemaker:DescribeProcessingJob",
                        "sagemaker:StopProcessingJob",
                        "sagemaker:DescribeTransformJob",
                        "sagemaker:StopTransformJob",
                    ],
                    resources=[self._sagemaker_arn(kind, own) for kind in JOB_TYPES],
                ),
                why_names,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="OperateOwnEndpoints",
                    actions=[
                        "sagemaker:DescribeModel",
                        "sagemaker:DeleteModel",
                        "sagemaker:DescribeEndpointConfig",
                        "sagemaker:DeleteEndpointConfig",
                        "sagemaker:DescribeEndpoint",
                        "sagemaker:UpdateEndpoint",
                        "sagemaker:UpdateEndpointWeightsAndCapacities",
                        "sagemaker:DeleteEndpoint",
                        "sagemaker:InvokeEndpoint",
                    ],
                    resources=[self._sagemaker_arn(kind, own) for kind in HOSTING_TYPES],
                ),
                why_names,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="PassOwnRole",
                    actions=["iam:PassRole"],
                    resources=[role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                )
            ),
            Grant(
                iam.PolicyStatement(
                    sid="ReadOwnRole", actions=["iam:GetRole"], resources=[role.role_arn]
                )
            ),
            Grant(
                iam.PolicyStatement(
                    sid="WriteOwnJobLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[
                        self._log_group_arn(f"/aws/sagemaker/{group}:log-stream:{own}")
                        for group in ("TrainingJobs", "ProcessingJobs", "TransformJobs")
                    ]
                    + [self._log_group_arn(f"/aws/sagemaker/Endpoints/{own}")],
                ),
                "SageMaker writes each job's log streams, named after the job, and each "
                f"endpoint's log group, named after the endpoint, as the job's role: {own} only.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="CreateJobLogGroups",
                    actions=["logs:CreateLogGroup"],
                    resources=[self._log_group_arn("/aws/sagemaker/*")],
                ),
                "SageMaker creates its per-kind log groups under /aws/sagemaker/ on first use.",
            ),
        ]

    def _data_grants(self) -> list[Grant]:
        exports = self._data_lake.exports
        labs = (
            [
                Grant(
                    iam.PolicyStatement(
                        sid="ReadLabs",
                        actions=["s3:GetObject"],
                        resources=[self.labs.bucket.arn_for_objects(self.labs.s3_object_key)],
                    )
                )
            ]
            if self.labs is not None
            else []
        )
        return [
            *labs,
            Grant(
                iam.PolicyStatement(
                    sid="ReadWorkshopData",
                    actions=["s3:GetObject"],
                    resources=[f"{exports.raw_bucket_arn}/*", f"{exports.curated_bucket_arn}/*"],
                ),
                "Attendees read the vendored datasets and what the workshop's jobs wrote; "
                "object keys are chosen at run time.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="ListWorkshopData",
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[exports.raw_bucket_arn, exports.curated_bucket_arn],
                )
            ),
            Grant(
                iam.PolicyStatement(
                    sid="WriteScratch",
                    actions=["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                    resources=[f"{exports.curated_bucket_arn}/{SCRATCH_PREFIX}*"],
                ),
                "The shared scratch prefix is where attendees exchange files during the labs; "
                "its keys are chosen at run time.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="UseDataKeyThroughS3",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[self._data_lake.data_key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}
                    },
                )
            ),
        ]

    def _athena_grants(self) -> list[Grant]:
        exports = self._data_lake.exports
        database = self._config.glue_database_name
        return [
            Grant(
                iam.PolicyStatement(
                    sid="QueryInWorkshopWorkgroup",
                    actions=[
                        "athena:StartQueryExecution",
                        "athena:GetQueryExecution",
                        "athena:GetQueryResults",
                        "athena:GetWorkGroup",
                        "athena:ListNamedQueries",
                        "athena:GetNamedQuery",
                        "athena:BatchGetNamedQuery",
                    ],
                    resources=[
                        self.format_arn(
                            service="athena",
                            resource="workgroup",
                            resource_name=self._config.athena_workgroup_name,
                        )
                    ],
                )
            ),
            Grant(
                iam.PolicyStatement(
                    sid="ReadWorkshopCatalog",
                    actions=[
                        "glue:GetDatabase",
                        "glue:GetDatabases",
                        "glue:GetTable",
                        "glue:GetTables",
                        "glue:GetPartition",
                        "glue:GetPartitions",
                    ],
                    resources=grants.glue_table_arns(self, database),
                ),
                "Athena reads the table definitions of the workshop database with the caller's "
                "rights; the grant covers the tables of that one database.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="ReadReviewsEtlRuns",
                    # Module 4 shows the deploy's run of the job; attendees do not start it.
                    actions=["glue:GetJob", "glue:GetJobRun", "glue:GetJobRuns"],
                    resources=[
                        self.format_arn(
                            service="glue",
                            resource="job",
                            resource_name=self._data_lake.reviews_etl_job.name,
                        )
                    ],
                )
            ),
            Grant(
                iam.PolicyStatement(
                    sid="WriteQueryResults",
                    actions=[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListBucket",
                        "s3:GetBucketLocation",
                    ],
                    resources=[
                        exports.athena_results_bucket_arn,
                        f"{exports.athena_results_bucket_arn}/{ATHENA_RESULTS_PREFIX}*",
                    ],
                ),
                "Athena writes each query's results under the workgroup's output prefix with "
                "the caller's rights; result file names are query ids generated by Athena.",
            ),
        ]

    def _image_push_grants(self) -> list[Grant]:
        """Every attendee reads the workshop image (Module 7 trains and serves with it); pushes
        go only to the attendee's own repository (:meth:`_own_image_grants`)."""
        if self._model_image is None:
            return []
        return [
            Grant(
                iam.PolicyStatement(
                    sid="PullWorkshopImage",
                    actions=[*PULL_IMAGE, "ecr:DescribeImages", "ecr:DescribeRepositories"],
                    resources=[self._model_image.repository.repository_arn],
                )
            ),
            *self._deployed_image_pull_grants(),
            grants.ecr_token(),
        ]

    def _own_image_grants(self, attendee: str) -> list[Grant]:
        """Module 7: the attendee pushes their build to their own repository, and their models
        (which run as this role) pull it from there. AWS's push policy for one repository
        ("IAM permissions for pushing an image to an Amazon ECR private repository",
        https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html) plus the
        pull of the SageMaker execution role ("CreateModel API: Execution Role Permissions",
        https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html); no delete: the
        repository's lifecycle rule and its emptying on teardown remove old images."""
        own = self._model_image.attendee_repositories[attendee]
        return [
            Grant(
                iam.PolicyStatement(
                    sid="PushAndPullOwnImages",
                    actions=[
                        *PULL_IMAGE,
                        "ecr:InitiateLayerUpload",
                        "ecr:UploadLayerPart",
                        "ecr:CompleteLayerUpload",
                        "ecr:PutImage",
                        "ecr:DescribeImages",
                    ],
                    resources=[own.repository_arn],
                )
            )
        ]

    def _deployed_image_pull_grants(self) -> list[Grant]:
        """With model_image.build=docker the deployed image lives in the CDK's asset
        repository: attendees' models and endpoints run as their own role, which then pulls it
        from there (read only; pushes stay in the workshop repository)."""
        elsewhere = [
            repository
            for repository in self._model_image.image_repositories
            if repository is not self._model_image.repository
        ]
        if not elsewhere:
            return []
        return [
            Grant(
                iam.PolicyStatement(
                    sid="PullDeployedImage",
                    actions=list(PULL_IMAGE),
                    resources=[repository.repository_arn for repository in elsewhere],
                )
            )
        ]

    def _attendee_role(
        self, attendee: str, shared_policies: list[iam.ManagedPolicy]
    ) -> tuple[iam.Role, list[iam.ManagedPolicy]]:
        construct_id = f"Attendee-{attendee}"
        role = iam.Role(
            self,
            f"{construct_id}-Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{self._config.prefix}: notebook role of {attendee}",
        )
        self._trust_smoke_principal(attendee, role)
        if not shared_policies:
            self._attach_seed_policies(role)
            return role, []
        for policy in shared_policies:
            role.add_managed_policy(policy)
        # Attached from the policy's side: the policy names the role (PassRole on itself), so
        # the role must not name the policy back.
        own_policy = grants.managed_policy(
            self,
            f"{construct_id}-OwnResources",
            f"{attendee}'s own notebook, S3 prefix, jobs and endpoints, and nobody else's",
            [
                *self._own_grants(attendee),
                *self._own_sagemaker_grants(attendee, role),
                *self._own_autoscaling_grants(attendee),
            ],
            roles=[role],
        )
        own_policies = [own_policy]
        if self._model_image is not None:
            # A policy of its own: the one above is close to IAM's 6,144 characters.
            own_policies.append(
                grants.managed_policy(
                    self,
                    f"{construct_id}-OwnImages",
                    f"{attendee}'s own image repository: push their build, pull it to serve",
                    self._own_image_grants(attendee),
                    roles=[role],
                )
            )
        return role, [*shared_policies, *own_policies]

    def _trust_smoke_principal(self, attendee: str, role: iam.Role) -> None:
        """``make smoke`` runs the labs as the first attendee from the organiser's machine: with
        ``smoke_principal`` set, that one principal (the organiser's role or user, already the
        account's administrator, so it gains no right it lacks) may assume the first attendee's
        role. Named by ARN, never the account root, so no other principal of the account can
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)."""
        principal = self._settings.smoke_principal
        if principal is None or attendee != self._config.attendee_names[0]:
            return
        role.assume_role_policy.add_statements(
            iam.PolicyStatement(
                sid="SmokeRunByTheOrganiser",
                actions=["sts:AssumeRole"],
                principals=[iam.ArnPrincipal(principal)],
            )
        )

    def _own_workspace_grants(self, attendee: str) -> list[Grant]:
        """What the SDK inside the attendee's notebook or Studio app reads about itself, and in
        Studio, what the JupyterLab UI does as the attendee's role."""
        name = self._config.notebook_name(attendee)
        if self.studio:
            return self._own_studio_grants(name)
        return [
            Grant(
                iam.PolicyStatement(
                    sid="OwnNotebook",
                    # Describe: the SDK finds its role; Stop: the idle auto-stop.
                    actions=[
                        "sagemaker:DescribeNotebookInstance",
                        "sagemaker:StopNotebookInstance",
                    ],
                    resources=[self._sagemaker_arn("notebook-instance", name)],
                )
            )
        ]

    def _own_studio_grants(self, profile_name: str) -> list[Grant]:
        """Studio creates, starts and stops a space and its JupyterLab app with the user
        profile's execution role, the attendee's own. The attendee gets private spaces owned by
        their own profile and the apps in them, nobody else's, by the condition keys SageMaker
        sets on these requests: ``sagemaker:OwnerUserProfileArn`` (the space's owner) and
        ``sagemaker:SpaceSharingType`` ("Give your users access to spaces",
        https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-jl-admin-guide-permissions.html;
        resource types and condition keys per action: the Service Authorization Reference,
        https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
        AWS's example also allows apps and spaces with no owner (shared spaces); the workshop
        grants none: a shared space would be a place where one attendee changes another's work."""
        domain_id = self.domain.attr_domain_id
        profile_arn = self._sagemaker_arn("user-profile", f"{domain_id}/{profile_name}")
        spaces = self._sagemaker_arn("space", f"{domain_id}/*")
        apps = self._sagemaker_arn("app", f"{domain_id}/*")
        own_private = {
            "ArnLike": {"sagemaker:OwnerUserProfileArn": profile_arn},
            "StringEquals": {"sagemaker:SpaceSharingType": "Private"},
        }
        why_owned = (
            "Studio names spaces and apps when the attendee creates them; the owner condition "
            f"limits the grant to private spaces owned by {profile_name} and their apps."
        )
        return [
            Grant(
                iam.PolicyStatement(
                    sid="OwnStudioProfile",
                    # The SDK's get_execution_role() reads the profile and its domain.
                    actions=["sagemaker:DescribeUserProfile", "sagemaker:DescribeDomain"],
                    resources=[profile_arn, self._sagemaker_arn("domain", domain_id)],
                )
            ),
            Grant(
                iam.PolicyStatement(
                    sid="OwnPrivateSpaces",
                    actions=[
                        "sagemaker:CreateSpace",
                        "sagemaker:UpdateSpace",
                        "sagemaker:DeleteSpace",
                    ],
                    resources=[spaces],
                    conditions=own_private,
                ),
                why_owned,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="OwnSpaceApps",
                    actions=["sagemaker:CreateApp", "sagemaker:DeleteApp"],
                    resources=[apps],
                    conditions=own_private,
                ),
                why_owned,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="TagSpacesAndAppsOnCreate",
                    # Studio tags what it creates; without this, CreateSpace and CreateApp fail
                    # (same AWS page). Only as part of a create: sagemaker:TaggingAction.
                    actions=["sagemaker:AddTags"],
                    resources=[spaces, apps],
                    conditions={"Null": {"sagemaker:TaggingAction": "false"}},
                ),
                why_owned,
            ),
            Grant(
                iam.PolicyStatement(
                    sid="ReadStudioSpacesAndApps",
                    actions=["sagemaker:DescribeSpace", "sagemaker:DescribeApp"],
                    resources=[spaces, apps],
                ),
                "Studio's space list describes the domain's spaces and apps; read-only, and "
                "names and states only.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="ListStudioSpacesAndApps",
                    actions=["sagemaker:ListSpaces", "sagemaker:ListApps"],
                    resources=["*"],
                ),
                "SageMaker's List actions take no resource ARN (AWS requires Resource '*'); "
                "Studio's home page lists the spaces and apps, names and states only.",
            ),
        ]

    def _own_grants(self, attendee: str) -> list[Grant]:
        own_prefix = self._config.attendee_prefix(attendee)
        return [
            *self._own_workspace_grants(attendee),
            Grant(
                iam.PolicyStatement(
                    sid="WriteOwnPrefix",
                    actions=["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                    resources=[f"{self._data_lake.exports.curated_bucket_arn}/{own_prefix}*"],
                ),
                f"{attendee} writes anything under their own prefix '{own_prefix}' and nowhere "
                "else in the curated bucket; the keys are chosen in the labs.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="CreateNotebookLogGroup",
                    actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                    resources=[self._log_group_arn(f"{NOTEBOOK_LOG_GROUP}:*")],
                ),
                "CloudWatch Logs addresses a log group as '<group>:*'; this is SageMaker's one "
                "log group for notebook instances.",
            ),
            Grant(
                iam.PolicyStatement(
                    sid="WriteOwnNotebookLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[
                        self._log_group_arn(
                            f"{NOTEBOOK_LOG_GROUP}:log-stream:"
                            f"{self._config.notebook_name(attendee)}/*"
                        )
                    ],
                ),
                "The notebook instance writes its lifecycle and Jupyter logs to streams named "
                "after itself ('<notebook>/LifecycleConfigOnStart', '<notebook>/jupyter.log').",
            ),
        ]

    def _attach_seed_policies(self, role: iam.Role) -> None:
        for name in SEED_MANAGED_POLICIES:
            role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(name))
        nag.acknowledge(
            role,
            "permissions=seed is the organiser's explicit choice to reproduce the original 2020 "
            "workshop, whose notebook role carried exactly these AWS-managed policies; the "
            "default permissions=least-privilege attaches none of them.",
            *(
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]"
                for name in SEED_MANAGED_POLICIES
            ),
        )

    # -- notebooks -----------------------------------------------------------------------------
    def _lifecycle_configuration(self) -> sagemaker.CfnNotebookInstanceLifecycleConfig:
        variables = {
            "LAB_REPOSITORIES": " ".join(self._settings.lab_repositories),
            "IDLE_MINUTES": str(self._settings.idle_minutes),
            "WORKSHOP_SSM_PARAMETER": self._config.workshop_parameter_name,
        }
        if self.labs is not None:
            variables["LABS_S3_URI"] = self.labs.s3_object_url

        def content(script: str) -> list:
            text = render(LIFECYCLE_DIR / script, variables)
            return [
                sagemaker.CfnNotebookInstanceLifecycleConfig.NotebookInstanceLifecycleHookProperty(
                    content=cdk.Fn.base64(text)
                )
            ]

        return sagemaker.CfnNotebookInstanceLifecycleConfig(
            self,
            "Lifecycle",
            notebook_instance_lifecycle_config_name=f"{self._config.prefix}-attendee-notebook",
            on_create=content("on-create.sh"),
            on_start=content("on-start.sh"),
        )

    def _notebook(
        self, attendee: str, role: iam.Role, policies: list[iam.ManagedPolicy]
    ) -> sagemaker.CfnNotebookInstance:
        in_vpc = self.vpc is not None
        notebook = sagemaker.CfnNotebookInstance(
            self,
            f"Attendee-{attendee}-Notebook",
            notebook_instance_name=self._config.notebook_name(attendee),
            instance_type=self._config.instance_types.notebook,
            volume_size_in_gb=self._config.notebook_volume_gb,
            kms_key_id=self.notebook_key.key_id,
            role_arn=role.role_arn,
            platform_identifier=self._settings.platform,
            root_access="Enabled" if self._settings.root_access else "Disabled",
            direct_internet_access="Disabled" if in_vpc else "Enabled",
            subnet_id=self.vpc.private_subnets[0].subnet_id if in_vpc else None,
            security_group_ids=(
                [self.notebook_security_group.security_group_id] if in_vpc else None
            ),
            lifecycle_config_name=self.lifecycle.attr_notebook_instance_lifecycle_config_name,
            # Only session-token metadata requests: v1 would hand the role's credentials to
            # any process that can make a GET request.
            instance_metadata_service_configuration=sagemaker.CfnNotebookInstance.InstanceMetadataServiceConfigurationProperty(
                minimum_instance_metadata_service_version="2"
            ),
            tags=[cdk.CfnTag(key="attendee", value=attendee)],
        )
        # The role's policies must exist before the instance starts and runs the lifecycle,
        # and so must its way out: on-create fetches the labs through the NAT route and the
        # S3 endpoint as the notebook first starts.
        notebook.node.add_dependency(role, *policies, *self._egress())
        if not in_vpc:
            nag.acknowledge(
                notebook,
                "network=direct is the organiser's choice for a cheaper event (no NAT gateway): "
                "the notebook uses SageMaker's managed internet access instead of a workshop "
                "VPC; the default network=vpc puts it in a private subnet without it.",
                "AwsSolutions-SM1",
                "AwsSolutions-SM3",
                "NIST.800.53.R5-SageMakerNotebookInstanceInsideVPC",
                "NIST.800.53.R5-SageMakerNotebookNoDirectInternetAccess",
                "HIPAA.Security-SageMakerNotebookInstanceInsideVPC",
                "HIPAA.Security-SageMakerNotebookNoDirectInternetAccess",
            )
        if self._settings.root_access:
            nag.acknowledge(
                notebook,
                "root_access=true is the organiser's explicit choice (some labs install system "
                "packages); the default keeps root access disabled.",
                "NIST.800.53.R5-SageMakerNotebookInstanceRootAccessDisabled",
            )
        return notebook

    def _egress(self) -> list[cdk.CfnResource]:
        """The VPC's NAT default routes and gateway endpoints (none with network=direct)."""
        if self.vpc is None:
            return []
        return [
            child
            for child in self.vpc.node.find_all()
            if isinstance(child, ec2.CfnVPCEndpoint)
            or (isinstance(child, ec2.CfnRoute) and child.nat_gateway_id is not None)
        ]

    # -- Studio (environment=studio) -------------------------------------------------------------
    def _studio_domain(self) -> sagemaker.CfnDomain:
        """One domain in the workshop VPC (VPC only); JupyterLab apps stop when idle."""
        idle = self._settings.idle_minutes
        lifecycle = (
            sagemaker.CfnDomain.AppLifecycleManagementProperty(
                idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                    lifecycle_management="ENABLED",
                    # Studio's shortest idle timeout is 60 minutes.
                    idle_timeout_in_minutes=max(60, idle),
                    max_idle_timeout_in_minutes=max(60, idle),
                    min_idle_timeout_in_minutes=60,
                )
            )
            if idle
            else None
        )
        return sagemaker.CfnDomain(
            self,
            "StudioDomain",
            domain_name=f"{self._config.prefix}-studio",
            auth_mode="IAM",
            app_network_access_type="VpcOnly",  # egress through the workshop NAT only
            vpc_id=self.vpc.vpc_id,
            subnet_ids=[subnet.subnet_id for subnet in self.vpc.private_subnets],
            kms_key_id=self.notebook_key.key_arn,  # the home EFS volume
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=self._studio_default_role().role_arn,
                security_groups=[self.notebook_security_group.security_group_id],
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                    app_lifecycle_management=lifecycle,
                    # Built in: runs at every start of every space, before any default one,
                    # and the attendee cannot deselect it
                    # (https://docs.aws.amazon.com/sagemaker/latest/dg/studio-lifecycle-configurations.html).
                    built_in_lifecycle_config_arn=self._studio_lifecycle_arn(),
                    lifecycle_config_arns=[self._studio_lifecycle_arn()],
                    # Studio offers these for cloning in JupyterLab's Git panel; the labs
                    # themselves come with the lifecycle configuration.
                    code_repositories=[
                        sagemaker.CfnDomain.CodeRepositoryProperty(repository_url=url)
                        for url in self._settings.lab_repositories
                    ]
                    or None,
                ),
            ),
        )

    def _studio_lifecycle_configuration(self) -> sagemaker.CfnStudioLifecycleConfig:
        """The labs for Studio: a JupyterLab lifecycle configuration (AWS::SageMaker::
        StudioLifecycleConfig, app type JupyterLab) that unpacks the labs archive and writes the
        labs' env.json at every start of an attendee's space
        (https://docs.aws.amazon.com/sagemaker/latest/dg/jl-lcc-create.html)."""
        variables = {"WORKSHOP_SSM_PARAMETER": self._config.workshop_parameter_name}
        if self.labs is not None:
            variables["LABS_S3_URI"] = self.labs.s3_object_url
        return sagemaker.CfnStudioLifecycleConfig(
            self,
            "StudioLabsLifecycle",
            studio_lifecycle_config_name=f"{self._config.prefix}-attendee-jupyterlab",
            studio_lifecycle_config_app_type="JupyterLab",
            studio_lifecycle_config_content=cdk.Fn.base64(render_studio_jupyterlab(variables)),
        )

    def _studio_lifecycle_arn(self) -> str:
        # The resource returns its ARN as StudioLifecycleConfigArn.
        return self.studio_lifecycle.attr_studio_lifecycle_config_arn

    def _studio_default_role(self) -> iam.Role:
        """A domain needs a default execution role; every attendee's profile overrides it with
        the attendee's own, so this one is granted nothing."""
        return iam.Role(
            self,
            "StudioDefaultRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{self._config.prefix}: Studio's default role; profiles use their own",
        )

    def _user_profile(
        self, attendee: str, role: iam.Role, policies: list[iam.ManagedPolicy]
    ) -> sagemaker.CfnUserProfile:
        profile = sagemaker.CfnUserProfile(
            self,
            f"Attendee-{attendee}-Profile",
            domain_id=self.domain.attr_domain_id,
            user_profile_name=self._config.notebook_name(attendee),
            user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
                execution_role=role.role_arn,
                security_groups=[self.notebook_security_group.security_group_id],
            ),
            tags=[cdk.CfnTag(key="attendee", value=attendee)],
        )
        profile.node.add_dependency(role, *policies)
        return profile

    def _studio_home_teardown(self) -> None:
        """Deleting the stack deletes the domain's home EFS too (see lambdas/studio_teardown).

        The profiles depend on this resource, which depends on the domain: CloudFormation
        deletes the profiles, then this resource (domain + EFS), then finds the domain gone."""
        log_group = encrypted_log_group(
            self, "StudioTeardownLogs", config=self._config, key=self.notebook_key
        )
        domain_arn = self._sagemaker_arn("domain", self.domain.attr_domain_id)
        delete_home = iam.PolicyStatement(
            sid="DeleteHomeVolume",
            # DeleteDomain removes the EFS with the caller's rights; scoped by the tag SageMaker
            # puts on the volume it created for this domain.
            actions=[
                "elasticfilesystem:DeleteFileSystem",
                "elasticfilesystem:DeleteMountTarget",
                "elasticfilesystem:DescribeMountTargets",
            ],
            resources=[
                self.format_arn(
                    service="elasticfilesystem", resource="file-system", resource_name="*"
                )
            ],
            conditions={
                "StringEquals": {"aws:ResourceTag/ManagedByAmazonSageMakerResource": domain_arn}
            },
        )
        role = exact_role(
            self,
            "StudioTeardownRole",
            policy_id="StudioTeardownPolicy",
            service="lambda.amazonaws.com",
            description=f"{self._config.prefix}: deletes the Studio domain with its home EFS",
            log_group=log_group,
            statements=[
                iam.PolicyStatement(
                    sid="DeleteDomainWithHome",
                    actions=["sagemaker:DescribeDomain", "sagemaker:DeleteDomain"],
                    resources=[domain_arn],
                ),
                delete_home,
            ],
        )
        nag.acknowledge_wildcards(
            role.policy,
            [
                (
                    delete_home,
                    "The home volume's id is chosen by SageMaker when it creates the domain; the "
                    "condition on the tag SageMaker puts on it limits the grant to this "
                    "domain's volume.",
                )
            ],
        )
        function = packaged_function(
            self,
            "StudioTeardownFunction",
            package="studio_teardown",
            handler="handler.handler",
            shared=("cfn_response",),
            description="Custom resource: deletes the Studio domain with its home EFS volume",
            role=role.role,
            policy=role.policy,
            log_group=log_group,
            timeout=cdk.Duration.minutes(15),  # domain deletion takes minutes
            why_no_dead_letter_queue="Invoked only by CloudFormation during deploys and deletes; "
            "it answers every request on CloudFormation's response URL, so a dead-letter queue "
            "would stay empty.",
            why_no_vpc="It calls only the SageMaker and EFS APIs and CloudFormation's pre-signed "
            "response URL; running it in the VPC would add nothing but ENIs to clean up.",
        )
        teardown = cdk.CustomResource(
            self,
            "StudioHomeTeardown",
            service_token=function.function_arn,
            resource_type="Custom::StudioHomeTeardown",
            properties={"DomainId": self.domain.attr_domain_id},
        )
        for profile in self.user_profiles.values():
            profile.node.add_dependency(teardown)

    # -- hand-out ------------------------------------------------------------------------------
    def _outputs(self) -> None:
        """One hand-out per attendee, plus the shared names, as an organiser mails them."""
        region = cdk.Aws.REGION
        curated = self._data_lake.curated_bucket.bucket_name
        for attendee in self._config.attendee_names:
            name = self._config.notebook_name(attendee)
            console = f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
            handout = {
                "attendee": attendee,
                "studio_user_profile" if self.studio else "notebook": name,
                "url": f"{console}#/studio-landing"
                if self.studio
                else f"{console}#/notebook-instances/openNotebook/{name}?view=lab",
                "own_prefix": f"s3://{curated}/{self._config.attendee_prefix(attendee)}",
                "execution_role_arn": self.attendee_roles[attendee].role_arn,
                "scratch_prefix": f"s3://{curated}/{SCRATCH_PREFIX}",
            }
            cdk.CfnOutput(
                self,
                f"Handout-{attendee}",
                value=self.to_json_string(handout),
                description=f"{attendee}: notebook, its URL and S3 prefixes",
            )
        shared = {
            "athena_workgroup": self._config.athena_workgroup_name,
            "glue_database": self._config.glue_database_name,
            "datasets": f"s3://{self._data_lake.raw_bucket.bucket_name}/",
            "workshop_parameter": self._config.workshop_parameter_name,
        }
        if self._model_image is not None:
            shared["model_repository_uri"] = self._model_image.repository.repository_uri
        cdk.CfnOutput(
            self,
            "HandoutShared",
            value=self.to_json_string(shared),
            description="What every attendee shares: workgroup, database, datasets, image repo",
        )

    # -- helpers -------------------------------------------------------------------------------
    def _sagemaker_arn(self, resource: str, name: str) -> str:
        return grants.sagemaker_arn(self, resource, name)

    def _log_group_arn(self, name: str) -> str:
        return grants.log_group_arn(self, name)
