"""Properties of the guardrails stack: the budget, its alerts, and the nightly notebook stop."""

from __future__ import annotations

import json

import pytest

from tests.conftest import resources_of

STACK = "mlws-guardrails"


@pytest.fixture(scope="module")
def guardrails(templates):
    return templates[STACK]


def nightly_stops(template) -> list[dict]:
    return [
        s["Properties"] for s in resources_of(template, "AWS::Scheduler::Schedule").values()
        if "stopNotebookInstance" in json.dumps(s["Properties"]["Target"]["Arn"])
    ]  # fmt: skip


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
    schedules = nightly_stops(guardrails)
    stopped = sorted(json.loads(s["Target"]["Input"])["NotebookInstanceName"] for s in schedules)
    assert stopped == [f"mlws-attendee-{i:02d}" for i in range(1, 11)]
    assert {s["ScheduleExpression"] for s in schedules} == {"cron(00 22 * * ? *)"}
    (policy,) = (
        p for logical_id, p in resources_of(guardrails, "AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("NotebookStopRolePolicy")
    )  # fmt: skip
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sagemaker:StopNotebookInstance"
    # One pattern, not one ARN per notebook: 100 ARNs would not fit a managed policy.
    assert statement["Resource"]["Fn::Join"][1][-1] == ":notebook-instance/mlws-*"
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/workshop": "mlws"}}


def test_nightly_stop_follows_config_and_can_be_turned_off(synth):
    paris = synth(guardrails__nightly_notebook_stop="19:30", guardrails__timezone="Europe/Paris")
    schedules = nightly_stops(paris.templates[STACK])
    assert {s["ScheduleExpressionTimezone"] for s in schedules} == {"Europe/Paris"}
    assert {s["ScheduleExpression"] for s in schedules} == {"cron(30 19 * * ? *)"}
    off = synth(guardrails__nightly_notebook_stop="null").templates[STACK]  # as `-c key=null`
    assert not nightly_stops(off)


def test_guardrails_deploy_last_so_cdk_destroy_deletes_them_first(synth):
    manifest = json.loads((synth().outdir / "manifest.json").read_text())
    dependencies = set(manifest["artifacts"][STACK].get("dependencies", []))
    assert {"mlws-data-lake", "mlws-attendee-environment", "mlws-serving"} <= dependencies


def test_stack_deletion_runs_the_janitor_through_a_custom_resource(guardrails):
    (resource,) = resources_of(guardrails, "Custom::WorkshopTeardown").values()
    function_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    function = guardrails["Resources"][function_id]["Properties"]
    assert function["Handler"] == "janitor.teardown_resource.handler"
    assert "ReservedConcurrentExecutions" not in function  # a fresh account has none to give
    assert function["Environment"]["Variables"]["WHOLE_ACCOUNT"] == "false"
    assert function["Environment"]["Variables"]["WORKSHOP_PREFIX"] == "mlws"


def janitor_statements(template):
    (policy,) = (
        p for logical_id, p in resources_of(template, "AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("JanitorPolicy")
    )  # fmt: skip
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_janitor_deletes_only_by_prefix_or_by_workshop_tag(guardrails):
    for statement in janitor_statements(guardrails):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        destructive = [a for a in actions if ":Delete" in a or ":Stop" in a or ":BatchDelete" in a]
        if not destructive or statement["Resource"] != "*":
            continue
        assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/workshop": "mlws"}}, (
            statement
        )


def test_janitor_deletes_objects_only_under_attendee_and_scratch_prefixes(guardrails):
    (statement,) = (
        s for s in janitor_statements(guardrails) if s["Sid"] == "DeleteAttendeeObjects"
    )
    tails = sorted(r["Fn::Join"][1][-1] for r in statement["Resource"])
    assert tails == ["/attendees/*", "/scratch/*"]


def test_census_alarms_use_config_thresholds_and_alert_the_topic(synth):
    template = synth(
        guardrails__max_endpoints_in_service=3, guardrails__max_endpoint_instance_hours_per_day=10
    ).templates[STACK]
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
    }
    assert alarms["EndpointsInService"]["Threshold"] == 3
    assert alarms["EndpointInstances"]["Threshold"] == 10
    assert (
        alarms["EndpointInstances"]["Period"] == 86400
        and alarms["EndpointInstances"]["Statistic"] == "Sum"
    )
    (topic_id,) = resources_of(template, "AWS::SNS::Topic")
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_session_end_runs_the_janitor_with_apply_once(synth, guardrails):
    def session_end_schedules(template):
        return [
            s["Properties"] for s in resources_of(template, "AWS::Scheduler::Schedule").values()
            if s["Properties"]["ScheduleExpression"].startswith("at(")
        ]  # fmt: skip

    assert not session_end_schedules(guardrails)  # unset by default
    template = synth(session_end="2026-12-01T17:00:00+01:00").templates[STACK]
    (schedule,) = session_end_schedules(template)
    assert schedule["ScheduleExpression"] == "at(2026-12-01T16:00:00)"
    assert json.loads(schedule["Target"]["Input"]) == {"apply": True}


def test_janitor_may_delete_untagged_studio_members_of_the_workshop_domain_only(synth):
    """Studio names apps, spaces and profiles under the domain id, and apps carry no workshop
    tag: neither the prefix nor the tag would reach them (evaluated with the assembly)."""
    from workshopctl.cloud_assembly import CloudAssembly

    studio = synth(attendees=["ada", "grace", "linus"], attendee_environment__environment="studio")
    assembly = CloudAssembly(studio.outdir)
    (janitor,) = (r for r in assembly.roles.values() if "JanitorRole" in r.name)
    (domain,) = assembly.resources("AWS::SageMaker::Domain")
    arn = f"arn:aws:sagemaker:{assembly.region}:{assembly.account}"
    for kind, member in (
        ("DeleteApp", "app/{}/mlws-ada/jupyterlab/default"),
        ("DeleteSpace", "space/{}/mlws-ada-space"),
        ("DeleteUserProfile", "user-profile/{}/mlws-ada"),
    ):
        ours = assembly.decide(janitor, f"sagemaker:{kind}", f"{arn}:{member.format(domain.name)}")
        theirs = assembly.decide(janitor, f"sagemaker:{kind}", f"{arn}:{member.format('d-other')}")
        assert ours and not theirs, (kind, ours.reason, theirs.reason)


def test_synth_warns_when_alerts_reach_nobody(synth):
    """An empty budget.alert_emails deploys, but nobody hears the budget or the alarms."""

    def warnings(outdir) -> list[str]:
        metadata = json.loads((outdir / f"{STACK}.metadata.json").read_text())
        return [
            str(entry["data"])
            for entry in metadata.get(f"/{STACK}", [])
            if entry["type"] == "aws:cdk:warning"
        ]

    assert any("alert_emails is empty" in w for w in warnings(synth().outdir))
    heard = synth(budget__monthly_usd=250, budget__alert_emails=["ops@example.org"])
    assert not any("alert_emails" in w for w in warnings(heard.outdir))
