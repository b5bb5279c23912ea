"""GuardrailsStack: the workshop's cost guardrails and its teardown of what notebooks created.

Reads top to bottom as an event runs: one alerts topic → the budget that mails at 50/80/100 %
actual and 100 % forecast → the nightly stop of every attendee notebook → the janitor (the same
logic as `make down`) with an hourly census of endpoints feeding two alarms → the janitor at the
session end → the janitor on stack deletion, so `cdk destroy` alone leaves nothing billable.
"""

from __future__ import annotations

from datetime import UTC

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks import nag
from stacks.attendee_environment import AttendeeEnvironmentStack
from stacks.constructs import grants
from stacks.constructs.exact_role import exact_role
from stacks.constructs.grants import Grant
from stacks.constructs.packaged_function import packaged_function
from stacks.constructs.teardown import customer_key, encrypted_log_group
from stacks.data_lake import DataLakeStack
from workshop_spec.config import ATTENDEES_PREFIX, SCRATCH_PREFIX, WorkshopConfig
from workshop_spec.janitor_settings import lambda_environment

JANITOR_DATA_FILES = ("prices.json",)  # the price table the dry run's cost column reads
CENSUS_NAMESPACE = "Workshop"
SAGEMAKER_STOPPABLE = (
    "training-job", "processing-job", "hyper-parameter-tuning-job", "transform-job",
    "pipeline", "notebook-instance",
)  # fmt: skip
SAGEMAKER_DELETABLE = (
    "monitoring-schedule", "endpoint", "endpoint-config", "model", "pipeline", "model-package",
    "model-package-group", "app", "space", "user-profile", "notebook-instance",
)  # fmt: skip

BUDGET_THRESHOLDS = (("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100))


class GuardrailsStack(cdk.Stack):
    """A KMS-encrypted alerts topic; an AWS Budget on the workshop's cost-allocation tag; a
    nightly stop of every attendee notebook; the janitor function with an hourly census that
    alarms on endpoints left in service; the janitor at session end and on stack deletion."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WorkshopConfig,
        data_lake: DataLakeStack,
        attendee_environment: AttendeeEnvironmentStack | None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._config = config
        self.key = customer_key(
            self,
            "GuardrailsKey",
            config=config,
            purpose="encrypts the alerts topic and the janitor's logs",
            for_log_groups=True,
        )
        self.alerts_topic = self._alerts_topic()
        self._budget()
        if not config.budget.alert_emails:
            # Synth warns (cdk synth prints it): with no address, alerts reach only the topic.
            cdk.Annotations.of(self).add_warning_v2(
                "workshop:budget-alert-emails",
                "budget.alert_emails is empty: budget and alarm alerts reach nobody; set it, "
                "e.g. -c budget.alert_emails='[\"organiser@example.org\"]'",
            )
        notebooks = attendee_environment.notebooks if attendee_environment else {}
        if notebooks and config.guardrails.nightly_notebook_stop:
            self._nightly_notebook_stop(attendee_environment)
        self._data_lake = data_lake
        self._studio_domain_id = (
            attendee_environment.studio_domain_id if attendee_environment else None
        )
        janitor_role = self._janitor_role()
        self.janitor = self._janitor_function(
            "Janitor", "handler.handler", janitor_role,
            "Deletes what attendees created in the workshop's scope (dry run unless apply)",
        )  # fmt: skip
        self._session_end()
        self._teardown(janitor_role)
        self._census()

    # -- alerts --------------------------------------------------------------------------------
    def _alerts_topic(self) -> sns.Topic:
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlertPublishers",
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[
                    iam.ServicePrincipal("budgets.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        topic = sns.Topic(
            self,
            "AlertsTopic",
            topic_name=self._config.alerts_topic_name,  # other stacks' alarms address it by name
            display_name=f"{self._config.prefix} workshop cost alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BudgetsPublish",
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        # The topic's own policy replaces SNS's default one, so the alarms of every stack need
        # their publisher named too: only this account's alarms.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsPublish",
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{cdk.Aws.PARTITION}:cloudwatch:{cdk.Aws.REGION}:"
                        f"{cdk.Aws.ACCOUNT_ID}:alarm:*"
                    },
                },
            )
        )
        for email in self._config.budget.alert_emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def _budget(self) -> None:
        """Monthly cost of everything tagged with this workshop, alerting at fixed thresholds."""
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(
                subscription_type="SNS", address=self.alerts_topic.topic_arn
            )
        ]
        subscribers += [
            budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email)
            for email in self._config.budget.alert_emails
        ]
        budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=self._config.budget.monthly_usd, unit="USD"
                ),
                # Cost-allocation tags are filtered as "user:<key>$<value>".
                cost_filters={"TagKeyValue": [f"user:workshop${self._config.prefix}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type=kind,
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=subscribers,
                )
                for kind, percent in BUDGET_THRESHOLDS
            ],
        )
        # Budgets checks that it may publish when the notification is created.
        policy = self.alerts_topic.node.try_find_child("Policy")
        if policy is not None:
            budget.node.add_dependency(policy)

    # -- notebooks sleep at night ----------------------------------------------------------------
    def _nightly_notebook_stop(self, environment: AttendeeEnvironmentStack) -> None:
        hour, minute = self._config.guardrails.nightly_notebook_stop.split(":")
        prefix = self._config.prefix
        role = grants.scheduler_role(
            self,
            "NotebookStopRole",
            f"{self._config.prefix}: EventBridge Scheduler stops attendee notebooks, nothing else",
            [
                Grant(
                    # One ARN per notebook would outgrow a managed policy's 6,144 characters
                    # past ~70 attendees; the name pattern plus the workshop tag is as narrow.
                    iam.PolicyStatement(
                        sid="StopAttendeeNotebooks",
                        actions=["sagemaker:StopNotebookInstance"],
                        resources=[self._sagemaker_arn("notebook-instance", f"{prefix}-*")],
                        conditions={"StringEquals": {"aws:ResourceTag/workshop": prefix}},
                    ),
                    f"Attendee notebooks are named '{prefix}-<attendee>' and tagged "
                    f"workshop={prefix}; the schedules stop only those.",
                )
            ],
        )
        when = scheduler.ScheduleExpression.cron(
            hour=hour,
            minute=minute,
            time_zone=cdk.TimeZone.of(self._config.guardrails.timezone),
        )
        for attendee, notebook in environment.notebooks.items():
            scheduler.Schedule(
                self,
                f"NightlyStop-{attendee}",
                description=f"Stop {notebook.notebook_instance_name} at night (idle or not)",
                schedule=when,
                target=targets.Universal(
                    service="sagemaker",
                    action="stopNotebookInstance",
                    input=scheduler.ScheduleTargetInput.from_object(
                        {"NotebookInstanceName": notebook.notebook_instance_name}
                    ),
                    role=role,
                    retry_attempts=3,
                ),
            )

    # -- the janitor ---------------------------------------------------------------------------
    def _studio_members(self) -> list[str]:
        """Studio apps, spaces and user profiles are named under their domain's id
        (``app/<domain-id>/<profile>/<type>/<name>``), never ``<prefix>-*``, and apps carry no
        workshop tag: the workshop domain's id is their scope."""
        if self._studio_domain_id is None:
            return []
        domain = self._studio_domain_id
        return [
            self._sagemaker_arn(kind, f"{domain}/*") for kind in ("app", "space", "user-profile")
        ]

    def _janitor_role(self) -> iam.IRole:
        prefix = self._config.prefix
        curated = self._data_lake.exports.curated_bucket_arn
        database = self._config.glue_database_name
        by_name = [self._sagemaker_arn(kind, f"{prefix}-*") for kind in SAGEMAKER_DELETABLE]
        stop_actions = [
            "sagemaker:StopTrainingJob", "sagemaker:StopProcessingJob",
            "sagemaker:StopHyperParameterTuningJob", "sagemaker:StopTransformJob",
            "sagemaker:StopPipelineExecution", "sagemaker:StopNotebookInstance",
        ]  # fmt: skip
        delete_actions = [
            "sagemaker:DeleteMonitoringSchedule", "sagemaker:DeleteEndpoint",
            "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel", "sagemaker:DeletePipeline",
            "sagemaker:DeleteModelPackage", "sagemaker:DeleteModelPackageGroup",
            "sagemaker:DeleteApp", "sagemaker:DeleteSpace", "sagemaker:DeleteUserProfile",
            "sagemaker:DeleteNotebookInstance",
        ]  # fmt: skip
        tagged = {"StringEquals": {"aws:ResourceTag/workshop": prefix}}
        why_names = (
            f"Attendees name what they create at run time; the janitor may stop or delete only "
            f"resources whose names start with '{prefix}-'"
            + (
                ", and the apps, spaces and profiles of the workshop's own Studio domain (named "
                "under its id by SageMaker)."
                if self._studio_domain_id is not None
                else "."
            )
        )
        statements = [
            (
                iam.PolicyStatement(
                    sid="ListWorkshopInventory",
                    actions=[
                        "sagemaker:ListMonitoringSchedules",
                        "sagemaker:ListEndpoints",
                        "sagemaker:ListEndpointConfigs",
                        "sagemaker:ListModels",
                        "sagemaker:ListTrainingJobs",
                        "sagemaker:ListProcessingJobs",
                        "sagemaker:ListHyperParameterTuningJobs",
                        "sagemaker:ListTransformJobs",
                        "sagemaker:ListPipelines",
                        "sagemaker:ListPipelineExecutions",
                        "sagemaker:ListModelPackageGroups",
                        "sagemaker:ListModelPackages",
                        "sagemaker:ListDomains",
                        "sagemaker:ListApps",
                        "sagemaker:ListSpaces",
                        "sagemaker:ListUserProfiles",
                        "sagemaker:ListNotebookInstances",
                        "sagemaker:ListTags",
                        "sagemaker:DescribeEndpoint",
                        "sagemaker:DescribeEndpointConfig",
                        "sagemaker:DescribeNotebookInstance",
                        # The janitor describes each in-progress job before stopping it, and
                        # each Studio member before deleting it (lambdas/janitor).
                        "sagemaker:DescribeTrainingJob",
                        "sagemaker:DescribeProcessingJob",
                        "sagemaker:DescribeHyperParameterTuningJob",
                        "sagemaker:DescribeTransformJob",
                        "sagemaker:DescribePipelineExecution",
                        "sagemaker:DescribeSpace",
                        "sagemaker:DescribeUserProfile",
                        "application-autoscaling:DescribeScalableTargets",
                        "ecr:DescribeRepositories",
                        "ecr:ListTagsForResource",
                        "athena:ListWorkGroups",
                        "logs:DescribeLogGroups",
                        "glue:ListJobs",
                    ],
                    resources=["*"],
                ),
                "Read-only listing: SageMaker's List* calls, DescribeScalableTargets, "
                "DescribeRepositories, ListWorkGroups, DescribeLogGroups and Glue's ListJobs "
                "support no resource ARN (AWS requires Resource '*'); the janitor filters by "
                "prefix and tag itself.",
            ),
            (
                iam.PolicyStatement(
                    sid="StopAndDeleteByName",
                    actions=[*stop_actions, *delete_actions],
                    resources=[
                        *by_name,
                        *(self._sagemaker_arn(kind, f"{prefix}-*") for kind in SAGEMAKER_STOPPABLE),
                        self._sagemaker_arn("pipeline", f"{prefix}-*/execution/*"),
                        *self._studio_members(),
                    ],
                ),
                why_names,
            ),
            (
                iam.PolicyStatement(
                    sid="StopAndDeleteByTag",
                    actions=[*stop_actions, *delete_actions],
                    resources=["*"],
                    conditions=tagged,
                ),
                f"Resources tagged workshop={prefix} are in scope whatever their names; the "
                "condition on that tag is the scope, as no ARN pattern can express it.",
            ),
            (
                iam.PolicyStatement(
                    sid="DeregisterScalingTargets",
                    actions=["application-autoscaling:DeregisterScalableTarget"],
                    resources=["*"],
                ),
                "An endpoint's scalable targets must be deregistered before it is deleted; "
                "scalable-target ARNs are generated ids, unknown when the policy is written.",
            ),
            (
                iam.PolicyStatement(
                    sid="DeleteWorkshopImages",
                    actions=["ecr:ListImages", "ecr:BatchDeleteImage"],
                    resources=[
                        self.format_arn(service="ecr", resource="repository", resource_name="*")
                    ],
                    conditions=tagged,
                ),
                f"Only repositories tagged workshop={prefix}; their names are generated by "
                "CloudFormation.",
            ),
            (
                iam.PolicyStatement(
                    sid="ListAttendeeObjects",
                    actions=["s3:ListBucketVersions", "s3:ListBucketMultipartUploads"],
                    resources=[curated],
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="DeleteAttendeeObjects",
                    actions=[
                        "s3:DeleteObject",
                        "s3:DeleteObjectVersion",
                        "s3:AbortMultipartUpload",
                    ],
                    resources=[f"{curated}/{ATTENDEES_PREFIX}*", f"{curated}/{SCRATCH_PREFIX}*"],
                ),
                "Everything under the attendees' and the scratch prefixes goes after the event; "
                "nothing else in the bucket is touched.",
            ),
            (
                iam.PolicyStatement(
                    sid="DeleteAttendeeTables",
                    actions=["glue:GetDatabases", "glue:GetTables", "glue:DeleteTable"],
                    resources=grants.glue_table_arns(self, database),
                ),
                "Attendees create tables in the workshop database under names of their choice; "
                "the janitor keeps the stack's own tables by name.",
            ),
            (
                iam.PolicyStatement(
                    sid="DeleteAttendeeQueries",
                    actions=[
                        "athena:ListNamedQueries",
                        "athena:GetNamedQuery",
                        "athena:DeleteNamedQuery",
                    ],
                    resources=[
                        self.format_arn(
                            service="athena",
                            resource="workgroup",
                            resource_name=self._config.athena_workgroup_name,
                        )
                    ],
                ),
                None,
            ),
            (
                iam.PolicyStatement(
                    sid="DeleteSageMakerLogs",
                    actions=[
                        "logs:DescribeLogStreams",
                        "logs:ListTagsForResource",
                        "logs:DeleteLogGroup",
                        "logs:DeleteLogStream",
                    ],
                    resources=[self._log_group_arn("/aws/sagemaker/*")],
                ),
                "SageMaker names its log groups by job kind under /aws/sagemaker/ and the "
                "streams after the jobs; the janitor deletes those of in-scope resources.",
            ),
            (
                iam.PolicyStatement(
                    sid="DeleteGlueRunLogs",
                    actions=["glue:GetJobRuns"],
                    resources=[
                        self.format_arn(service="glue", resource="job", resource_name=f"{prefix}-*")
                    ],
                ),
                "The workshop's Glue jobs are named after its prefix; the janitor reads their "
                "run ids to find the runs' log streams.",
            ),
            (
                iam.PolicyStatement(
                    sid="DeleteGlueRunLogStreams",
                    actions=["logs:DescribeLogStreams", "logs:DeleteLogStream"],
                    resources=[self._log_group_arn("/aws-glue/*")],
                ),
                "Glue writes every job's runs to account-wide groups under /aws-glue/ in streams "
                "named by run id; the janitor deletes only the streams of the workshop jobs' runs.",
            ),
        ]
        log_group = encrypted_log_group(self, "JanitorLogs", config=self._config, key=self.key)
        self._janitor_log_group = log_group
        role = exact_role(
            self,
            "JanitorRole",
            policy_id="JanitorPolicy",
            service="lambda.amazonaws.com",
            description=f"{self._config.prefix}: the janitor (scope: prefix and tag)",
            log_group=log_group,
            statements=[statement for statement, _ in statements],
        )
        nag.acknowledge_wildcards(role.policy, [(s, why) for s, why in statements if why])
        self._janitor_policy = role.policy
        return role.role

    def _janitor_function(
        self, construct_id: str, handler: str, role: iam.IRole, description: str
    ) -> lambda_.Function:
        return packaged_function(
            self,
            construct_id,
            package="janitor",
            handler=handler,
            shared=("cfn_response",),  # the teardown custom resource answers CloudFormation
            description=description,
            role=role,
            policy=self._janitor_policy,
            log_group=self._janitor_log_group,
            timeout=cdk.Duration.minutes(10),  # waits up to 5 min for notebooks and apps
            memory_size=512,
            environment=lambda_environment(
                self._config, [self._data_lake.curated_bucket.bucket_name]
            ),
            data_files=JANITOR_DATA_FILES,
            why_no_dead_letter_queue="Invoked synchronously by CloudFormation or by EventBridge "
            "Scheduler (which retries and keeps its own record); every run logs what it left and "
            "why, so a dead-letter queue would hold nothing the logs and the schedule's retries "
            "do not.",
            why_no_vpc="It calls only AWS APIs (SageMaker, S3, Glue, Athena, ECR, CloudWatch "
            "Logs) and CloudFormation's pre-signed response URL; a VPC would add a NAT gateway's "
            "cost without narrowing what it can reach.",
        )

    def _session_end(self) -> None:
        """The janitor with apply at the configured end of the session (none if unset)."""
        if self._config.session_end is None:
            return
        at = self._config.session_end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        scheduler.Schedule(
            self,
            "SessionEnd",
            description="End of the workshop session: the janitor deletes what attendees made",
            schedule=scheduler.ScheduleExpression.expression(f"at({at})", cdk.TimeZone.ETC_UTC),
            target=targets.LambdaInvoke(
                self.janitor,
                input=scheduler.ScheduleTargetInput.from_object({"apply": True}),
                retry_attempts=2,
                role=self._scheduler_role("SessionEndRole", self.janitor),
            ),
        )

    def _teardown(self, role: iam.IRole) -> None:
        """`cdk destroy` deletes this stack first (it depends on the others); deleting this
        resource runs the janitor, so what attendees made is gone before the stacks go."""
        function = self._janitor_function(
            "TeardownFunction", "teardown_resource.handler", role,
            "Custom resource: runs the janitor with apply when the stack is deleted",
        )  # fmt: skip
        resource = cdk.CustomResource(
            self,
            "Teardown",
            service_token=function.function_arn,
            resource_type="Custom::WorkshopTeardown",
        )
        resource.node.add_dependency(function)

    def _census(self) -> None:
        """Hourly endpoint census → metrics → alarms on endpoints and instance-hours."""
        log_group = self._janitor_log_group
        role = exact_role(
            self,
            "CensusRole",
            policy_id="CensusPolicy",
            service="lambda.amazonaws.com",
            description=f"{self._config.prefix}: counts the workshop's endpoints hourly",
            log_group=log_group,
            statements=[
                iam.PolicyStatement(
                    sid="CountEndpoints",
                    actions=[
                        "sagemaker:ListEndpoints",
                        "sagemaker:DescribeEndpoint",
                        "sagemaker:ListTags",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="PublishCensus",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": CENSUS_NAMESPACE}},
                ),
            ],
        )
        nag.acknowledge(
            role.policy,
            "ListEndpoints supports no resource ARN and the census counts every endpoint in the "
            "workshop's scope, stack-owned ones included (read-only); PutMetricData has no "
            "resource-level permission and is limited to the census namespace by condition.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        function = packaged_function(
            self,
            "Census",
            package="janitor",
            handler="census.handler",
            description="Counts the workshop's endpoints in service and their instances",
            role=role.role,
            policy=role.policy,
            log_group=log_group,
            timeout=cdk.Duration.minutes(2),
            environment={"WORKSHOP_PREFIX": self._config.prefix},
            data_files=JANITOR_DATA_FILES,
            why_no_dead_letter_queue="Invoked hourly by EventBridge Scheduler, which retries; a "
            "missed hour leaves a gap in the metric, which the alarms treat as not breaching, so "
            "a dead-letter queue would add nothing.",
            why_no_vpc="It calls only the SageMaker and CloudWatch APIs; a VPC would add a NAT "
            "gateway's cost without narrowing what it can reach.",
        )
        scheduler.Schedule(
            self,
            "HourlyCensus",
            description="Count the workshop's endpoints for the cost alarms",
            schedule=scheduler.ScheduleExpression.rate(cdk.Duration.hours(1)),
            target=targets.LambdaInvoke(
                function,
                retry_attempts=1,
                role=self._scheduler_role("CensusScheduleRole", function),
            ),
        )
        guardrails = self._config.guardrails
        dimensions = {"Workshop": self._config.prefix}
        in_service = cloudwatch.Alarm(
            self,
            "EndpointsInServiceAlarm",
            alarm_description=f"More than {guardrails.max_endpoints_in_service} workshop "
            "endpoints in service: someone may have forgotten one",
            metric=cloudwatch.Metric(
                namespace=CENSUS_NAMESPACE,
                metric_name="EndpointsInService",
                dimensions_map=dimensions,
                statistic="Maximum",
                period=cdk.Duration.hours(1),
            ),
            threshold=guardrails.max_endpoints_in_service,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        instance_hours = cloudwatch.Alarm(
            self,
            "EndpointInstanceHoursAlarm",
            alarm_description=f"Workshop endpoints used more than "
            f"{guardrails.max_endpoint_instance_hours_per_day} instance-hours in a day",
            metric=cloudwatch.Metric(
                namespace=CENSUS_NAMESPACE,
                metric_name="EndpointInstances",
                dimensions_map=dimensions,
                statistic="Sum",
                period=cdk.Duration.days(1),
            ),
            threshold=guardrails.max_endpoint_instance_hours_per_day,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (in_service, instance_hours):
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alerts_topic))

    def _scheduler_role(self, construct_id: str, function: lambda_.IFunction) -> iam.IRole:
        return grants.scheduler_role(
            self,
            construct_id,
            f"{self._config.prefix}: EventBridge Scheduler invokes one function, nothing else",
            [
                Grant(
                    iam.PolicyStatement(
                        sid="InvokeOneFunction",
                        actions=["lambda:InvokeFunction"],
                        resources=[function.function_arn],
                    )
                )
            ],
        )

    def _sagemaker_arn(self, kind: str, name: str) -> str:
        return grants.sagemaker_arn(self, kind, name)

    def _log_group_arn(self, name: str) -> str:
        return grants.log_group_arn(self, name)
