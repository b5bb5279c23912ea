"""Properties of the guardrails stack: the budget, its alerts, and the nightly notebook stop."""

from __future__ import annotations

import json

import pytest

from tests.conftest import resources_of

STACK = "mlws-guardrails"


@pytest.fixture(scope="module")
def guardrails(templates):
    return templates[STACK]


def test_budget_filters_on_the_workshop_tag_and_alerts_at_the_thresholds(synth):
    template = synth(budget__monthly_usd=250, budget__alert_emails=["ops@example.org"]).templates[
        STACK
    ]
    (budget,) = resources_of(template, "AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    assert data["BudgetLimit"] == {"Amount": 250, "Unit": "USD"}
    assert data["TimeUnit"] == "MONTHLY"
    assert data["CostFilters"] == {"TagKeyValue": ["user:workshop$mlws"]}
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    assert sorted(
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in notifications
    ) == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    for notification in notifications:
        kinds = {s["SubscriptionType"] for s in notification["Subscribers"]}
        assert kinds == {"SNS", "EMAIL"}


def test_alerts_topic_is_encrypted_tls_only_and_budgets_may_publish(guardrails):
    (topic,) = resources_of(guardrails, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = resources_of(guardrails, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    assert any(s.get("Principal") == {"Service": "budgets.amazonaws.com"} for s in statements)


def test_every_attendee_notebook_is_stopped_nightly_by_a_role_that_can_only_stop_them(guardrails):
    schedules = resources_of(guardrails, "AWS::Scheduler::Schedule").values()
    stopped = sorted(
        json.loads(s["Properties"]["Target"]["Input"])["NotebookInstanceName"] for s in schedules
    )
    assert stopped == [f"mlws-attendee-{i:02d}" for i in range(1, 11)]
    assert {s["Properties"]["ScheduleExpression"] for s in schedules} == {"cron(00 22 * * ? *)"}
    (policy,) = resources_of(guardrails, "AWS::IAM::ManagedPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sagemaker:StopNotebookInstance"
    assert len(statement["Resource"]) == 10


def test_nightly_stop_follows_config_and_can_be_turned_off(synth):
    paris = synth(guardrails__nightly_notebook_stop="19:30", guardrails__timezone="Europe/Paris")
    schedules = resources_of(paris.templates[STACK], "AWS::Scheduler::Schedule").values()
    assert {s["Properties"]["ScheduleExpressionTimezone"] for s in schedules} == {"Europe/Paris"}
    assert {s["Properties"]["ScheduleExpression"] for s in schedules} == {"cron(30 19 * * ? *)"}
    off = synth(guardrails__nightly_notebook_stop="null").templates[STACK]  # as `-c key=null`
    assert not resources_of(off, "AWS::Scheduler::Schedule")
