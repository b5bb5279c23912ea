"""GuardrailsStack: the workshop's cost guardrails and its teardown of what notebooks created.

Reads top to bottom as an event runs: one alerts topic → the budget that mails at 50/80/100 %
actual and 100 % forecast → the nightly stop of every attendee notebook → the janitor (the same
logic as `make down`) with an hourly census of endpoints feeding two alarms → the janitor at the
session end → the janitor on stack deletion, so `cdk destroy` alone leaves nothing billable.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.attendee_environment import AttendeeEnvironmentStack
from stacks.constructs.teardown import customer_key
from workshopctl.config import WorkshopConfig

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
        if attendee_environment is not None and config.guardrails.nightly_notebook_stop:
            self._nightly_notebook_stop(attendee_environment)

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
        budgets.CfnBudget(
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

    # -- notebooks sleep at night ----------------------------------------------------------------
    def _nightly_notebook_stop(self, environment: AttendeeEnvironmentStack) -> None:
        hour, minute = self._config.guardrails.nightly_notebook_stop.split(":")
        notebook_arns = [
            self.format_arn(service="sagemaker", resource="notebook-instance", resource_name=name)
            for name in (self._config.notebook_name(a) for a in self._config.attendee_names)
        ]
        role = iam.Role(
            self,
            "NotebookStopRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            ),
            description=f"{self._config.prefix}: EventBridge Scheduler stops attendee notebooks",
        )
        iam.ManagedPolicy(
            self,
            "NotebookStopPolicy",
            description="Stop the workshop's attendee notebooks, and nothing else",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="StopAttendeeNotebooks",
                    actions=["sagemaker:StopNotebookInstance"],
                    resources=notebook_arns,
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
                    role=role.without_policy_updates(),
                    retry_attempts=3,
                ),
            )
