"""The janitor against a workshop account on moto, seeded as attendees leave it.

What moto 5.2.5 lacks is filled in per kind through the janitor's own client interface; see
``janitor_fixtures`` (monitoring schedules and Studio apps/spaces/profiles are small fakes; the
missing stop/delete calls of jobs, pipeline executions, the model registry and Athena named
queries act on moto's own state).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections import Counter
from contextlib import redirect_stdout
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sagemaker.models import sagemaker_backends

from lambdas.janitor import handler as janitor_handler
from lambdas.janitor.aws import THROTTLE_ATTEMPTS, Calls, Clients
from lambdas.janitor.janitor import KINDS, clean, discover
from lambdas.janitor.model import DONE, FAILED, GONE, PENDING, Scope
from lambdas.janitor.prices import load_prices
from tests.lambdas import janitor_fixtures as fx
from workshop_spec.config import PROJECT_ROOT, build_config, load_project_config
from workshop_spec.janitor_settings import lambda_environment
from workshopctl import janitor_cli
from workshopctl.__main__ import main as workshopctl_main

NO_WAIT = {"sleep": lambda _: None}


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", fx.REGION)
    with mock_aws():
        yield


@pytest.fixture
def world(aws) -> fx.World:
    return fx.seed(fx.new_world())


def real_time(world: fx.World) -> fx.World:
    """For entry points that sleep for real: Studio apps finish deleting at the first look."""
    world.sagemaker.app_delete_polls = 1
    return world


def scope_of(world: fx.World, **overrides) -> Scope:
    return Scope(
        fx.PREFIX,
        buckets=world.buckets,
        stack_query_names=fx.STACK_QUERY_NAMES,
        stack_table_names=frozenset({"bank_marketing"}),
        **overrides,
    )


def found_names(resources) -> set[tuple[str, str]]:
    return {(resource.kind, resource.name) for resource in resources}


class FakeClock:
    """time.monotonic and time.sleep for bounded waits, without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


# -- the scenario ---------------------------------------------------------------------------------
def test_dry_run_lists_everything_in_scope_and_deletes_nothing(world):
    # The scenario's size is part of the acceptance: at least 30 resources of 12 kinds.
    assert sum(world.seeded_in_scope.values()) >= 30
    assert len(world.seeded_in_scope) >= 12
    assert {kind.name for kind in KINDS} <= set(world.seeded_in_scope)  # every kind exercised
    assert sum(world.seeded_out_of_scope.values()) >= 20
    before = fx.inventory(world)
    # The registry covers the account exactly: a leftover or a lost resource cannot hide.
    assert set(before) == world.removed | world.stopped | world.kept

    resources = discover(world.clients(), scope_of(world))
    report = clean(resources, world.clients(), apply=False)

    assert fx.inventory(world) == before
    assert found_names(resources) == world.expected
    assert all(outcome.status.startswith("would ") for outcome in report.outcomes)
    assert not report.complete
    costs = {resource.name: resource.hourly_usd for resource in resources}
    prices = load_prices().hourly
    assert costs["mlws-alice-ep"] == pytest.approx(2 * prices["ml.m5.large"])
    assert costs["mlws-carol-hpo"] == pytest.approx(3 * prices["ml.m5.xlarge"])  # 3 in parallel
    assert costs["mlws-bob-ep"] is None  # ml.r5.large is not in the table
    assert costs["mlws-bob-nb"] == 0  # a stopped notebook bills no instance-hours
    table = report.table()
    assert re.search(r"mlws-bob-ep .* \?  ", table)
    known, unknown = report.hourly_usd
    assert (
        f"total: {len(resources)} resources, {known:.3f} USD/hour + {unknown} of unknown" in table
    )


def test_apply_removes_everything_in_scope_and_nothing_else(world):
    before = fx.inventory(world)
    report = clean(discover(world.clients(), scope_of(world)), world.clients(), True, **NO_WAIT)
    after = fx.inventory(world)

    assert report.complete, report.table()
    assert not set(after) & world.removed
    assert set(after) == world.kept | world.stopped  # nothing else left, nothing else touched
    assert {key: after[key] for key in world.kept} == {key: before[key] for key in world.kept}
    assert {after[key] for key in world.stopped} <= {"Stopped", "Stopping"}

    again = discover(world.clients(), scope_of(world))
    assert again == []
    second = clean(again, world.clients(), True, **NO_WAIT)
    assert second.complete and not second.outcomes

    done = Counter(outcome.resource.kind for outcome in report.outcomes if outcome.done)
    print("\njanitor scenario: kind, seeded in scope / out of scope, removed or stopped")
    for kind in sorted(set(world.seeded_in_scope) | set(world.seeded_out_of_scope)):
        in_scope, out = world.seeded_in_scope[kind], world.seeded_out_of_scope[kind]
        print(f"  {kind:22} {in_scope:3} / {out:3}  {done[kind]:3}")
    print(
        f"  total: {sum(world.seeded_in_scope.values())} in scope of "
        f"{len(world.seeded_in_scope)} kinds, {sum(world.seeded_out_of_scope.values())} out of "
        f"scope; {sum(done.values())} removed or stopped; second run found {len(again)}"
    )
    assert done == world.seeded_in_scope


def test_a_refused_delete_is_reported_and_a_rerun_finishes(world):
    refusing = fx.FailOn(
        world.client("sagemaker"),
        "delete_endpoint",
        "AccessDeniedException",
        EndpointName="mlws-bob-ep",
    )
    faulty = world.clients(endpoint=refusing)
    report = clean(discover(faulty, scope_of(world)), faulty, True, **NO_WAIT)

    assert refusing.refused == 1
    assert [(o.resource.name, o.status) for o in report.failures] == [("mlws-bob-ep", FAILED)]
    assert "AccessDeniedException" in report.failures[0].detail
    assert not report.complete
    assert janitor_cli.janitor_exit_code(report) == 1
    left = set(fx.inventory(world)) & world.removed
    assert left == {"endpoint:mlws-bob-ep"}  # everything else went

    rerun = clean(discover(world.clients(), scope_of(world)), world.clients(), True, **NO_WAIT)
    assert [outcome.resource.name for outcome in rerun.outcomes] == ["mlws-bob-ep"]
    assert rerun.complete
    assert not set(fx.inventory(world)) & world.removed


def test_whole_account_takes_every_workshop_but_no_stack_resource(world):
    resources = discover(world.clients(), scope_of(world, whole_account=True))
    names = found_names(resources)
    # SageMaker's shared log groups go whole instead of stream by stream.
    assert {(kind, name) for kind, name in world.expected if kind != "log-streams"} <= names
    assert {
        ("endpoint", "otherws-ep"),
        ("notebook-instance", "otherws-nb"),
        ("pipeline", "otherws-pipeline"),
        ("glue-table", "otherws_datalake.eve_table"),
        ("athena-named-query", "primary/someone-elses"),
        ("log-group", "/aws/sagemaker/TrainingJobs"),
    } <= names
    stack_owned = {
        ("endpoint", "mlws-ab"),
        ("notebook-instance", "mlws-attendee-01"),
        ("pipeline", "mlws-train-pipeline"),
        ("log-group", "/aws/sagemaker/Endpoints/mlws-ab"),
        ("glue-table", "mlws_datalake.bike_day"),
        ("athena-named-query", "mlws-workgroup/row-counts"),
    }
    assert not names & stack_owned
    assert not any("otherws-raw" in name for _, name in names)  # S3: only the given buckets


# -- resumability, bounded waits, throttling ----------------------------------------------------
def test_a_notebook_found_stopping_is_pending_and_the_next_run_deletes_it(aws):
    world = fx.seed(fx.new_world(), parts=["notebooks"])
    resources = discover(world.clients(), scope_of(world))
    notebook = sagemaker_backends[fx.DEFAULT_ACCOUNT_ID][fx.REGION].notebook_instances
    notebook["mlws-alice-nb"].status = "Stopping"  # someone else stopped it a moment ago

    report = clean(resources, world.clients(), True, **NO_WAIT)
    outcome = {o.resource.name: o for o in report.outcomes}["mlws-alice-nb"]
    assert outcome.status == PENDING and "next run" in outcome.detail
    assert not report.complete

    notebook["mlws-alice-nb"].status = "Stopped"
    rerun = clean(discover(world.clients(), scope_of(world)), world.clients(), True, **NO_WAIT)
    assert rerun.complete and "mlws-alice-nb" not in notebook


def test_waiting_for_a_notebook_to_stop_is_bounded(aws):
    world = fx.seed(fx.new_world(), parts=["notebooks"])
    backend = sagemaker_backends[fx.DEFAULT_ACCOUNT_ID][fx.REGION]

    class SlowStop(fx._Delegate):  # a real stop takes minutes: the status stays Stopping
        def stop_notebook_instance(self, NotebookInstanceName):
            backend.notebook_instances[NotebookInstanceName].status = "Stopping"
            return {}

    clock = FakeClock()
    clients = world.clients(**{"notebook-instance": SlowStop(world.client("sagemaker"))})
    report = clean(
        discover(clients, scope_of(world)),
        clients,
        True,
        wait_seconds=45,
        sleep=clock.sleep,
        clock=clock.clock,
    )
    statuses = {o.resource.name: (o.status, o.detail) for o in report.outcomes}
    assert statuses["mlws-alice-nb"] == (PENDING, "stop requested; the next run deletes it")
    assert statuses["mlws-bob-nb"][0] in DONE  # already stopped: deleted at once
    assert 0 < clock.slept <= 45


def test_studio_spaces_and_profiles_wait_for_their_apps(aws):
    world = fx.seed(fx.new_world(), parts=["studio"])
    world.sagemaker.app_delete_polls = 10**6  # apps that never finish deleting in this run
    clock = FakeClock()
    report = clean(
        discover(world.clients(), scope_of(world)),
        world.clients(),
        True,
        wait_seconds=60,
        sleep=clock.sleep,
        clock=clock.clock,
    )
    by_kind = {o.resource.kind: o.status for o in report.outcomes}
    assert by_kind["studio-space"] == PENDING and by_kind["user-profile"] == PENDING
    assert clock.slept <= 60

    world.sagemaker.app_delete_polls = 1  # the deletions finish
    rerun = clean(discover(world.clients(), scope_of(world)), world.clients(), True, **NO_WAIT)
    assert rerun.complete
    assert not set(fx.inventory(world)) & world.removed


def test_a_resource_already_gone_counts_as_removed(aws):
    world = fx.seed(fx.new_world(), parts=["hosting"])
    resources = discover(world.clients(), scope_of(world))
    world.client("sagemaker").delete_model(ModelName="mlws-alice-ep-model")  # someone was faster
    report = clean(resources, world.clients(), True, **NO_WAIT)
    statuses = {o.resource.name: o.status for o in report.outcomes}
    assert statuses["mlws-alice-ep-model"] == GONE
    assert report.complete


class Flaky:
    """Throttles the first ``failures`` calls, then answers."""

    def __init__(self, failures: int, code: str = "ThrottlingException") -> None:
        self.failures, self.code, self.calls = failures, code, 0

    def __call__(self, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise fx.client_error(self.code, "Rate exceeded", "ListModels")
        return {"ok": kwargs}


def test_throttling_is_retried_with_backoff_and_other_errors_are_not(aws):
    sleeps: list[float] = []
    calls = Calls(clients=Clients(), sleep=sleeps.append)
    assert calls.call(Flaky(2), Name="x") == {"ok": {"Name": "x"}}
    assert sleeps == [1.0, 2.0]
    with pytest.raises(ClientError):
        calls.call(Flaky(THROTTLE_ATTEMPTS))
    denied = Flaky(1, code="AccessDeniedException")
    with pytest.raises(ClientError):
        calls.call(denied)
    assert denied.calls == 1
    sagemaker = Clients().get("sagemaker")
    assert sagemaker.meta.config.retries["mode"] == "adaptive"


def test_every_page_is_read(aws):
    sagemaker = fx.new_world().client("sagemaker")
    for number in range(5):
        sagemaker.create_model(
            ModelName=f"mlws-m{number}", ExecutionRoleArn=fx.ROLE, PrimaryContainer={"Image": "i"}
        )
    calls = Calls(clients=Clients())
    models = calls.pages(sagemaker, "list_models", "Models", PaginationConfig={"PageSize": 2})
    assert sorted(model["ModelName"] for model in models) == [f"mlws-m{n}" for n in range(5)]


# -- Lambda entry points --------------------------------------------------------------------------
LAMBDA_ENV = {
    "WORKSHOP_PREFIX": "mlws",
    "WORKSHOP_BUCKETS": "mlws-raw-0123, mlws-curated-0123",
    "STACK_QUERY_NAMES": "row-counts,bike-demand-by-hour",
    "STACK_TABLE_NAMES": "bank_marketing",
    "WHOLE_ACCOUNT": "false",
}


def test_scope_comes_from_the_environment():
    scope = janitor_handler.scope_from_environment(LAMBDA_ENV)
    assert scope == Scope(
        "mlws",
        buckets=("mlws-raw-0123", "mlws-curated-0123"),
        database="mlws_datalake",
        workgroup="mlws-workgroup",
        stack_query_names=frozenset({"row-counts", "bike-demand-by-hour"}),
        stack_table_names=frozenset({"bank_marketing"}),
        whole_account=False,
    )
    whole = janitor_handler.scope_from_environment({**LAMBDA_ENV, "WHOLE_ACCOUNT": "TRUE"})
    assert whole.whole_account
    with pytest.raises(ValueError, match="WHOLE_ACCOUNT"):
        janitor_handler.scope_from_environment({**LAMBDA_ENV, "WHOLE_ACCOUNT": "ture"})


def test_the_stack_environment_for_the_lambda_reads_back_as_the_cli_scope():
    config = load_project_config()
    environment = lambda_environment(config, ["b1", "b2"])
    assert janitor_handler.scope_from_environment(environment) == janitor_cli.scope_for(
        config, ["b1", "b2"], whole_account=False
    )


def test_scheduled_handler_dry_runs_unless_told_to_apply(aws, monkeypatch):
    world = real_time(fx.seed(fx.new_world(), parts=["hosting", "studio", "s3"]))
    for name, value in LAMBDA_ENV.items():
        monkeypatch.setenv(name, value)
    before = fx.inventory(world)
    plan = janitor_handler.handler({}, None, clients=world.clients())
    assert fx.inventory(world) == before
    assert plan["applied"] is False and plan["found"] == len(world.expected)

    result = janitor_handler.handler({"apply": True}, None, clients=world.clients())
    assert json.loads(json.dumps(result)) == result  # JSON-able as Lambda returns it
    assert result["complete"] is True
    assert not set(fx.inventory(world)) & world.removed


class Untouchable:
    def __getattr__(self, name):
        raise AssertionError(f"Create/Update must not call AWS ({name})")


def test_custom_resource_create_and_update_do_nothing(monkeypatch):
    monkeypatch.setenv("WORKSHOP_PREFIX", "mlws")
    untouchable = Clients(overrides={kind.name: Untouchable() for kind in KINDS})
    created = janitor_handler.on_event({"RequestType": "Create"}, None, clients=untouchable)
    assert created == {"PhysicalResourceId": "mlws-janitor"}
    updated = janitor_handler.on_event(
        {"RequestType": "Update", "PhysicalResourceId": "mlws-janitor"}, None, clients=untouchable
    )
    assert updated == {"PhysicalResourceId": "mlws-janitor"}


def test_custom_resource_delete_cleans_up_and_never_raises(aws, monkeypatch, caplog):
    world = fx.seed(fx.new_world(), parts=["hosting", "notebooks"])
    for name, value in LAMBDA_ENV.items():
        monkeypatch.setenv(name, value)
    refusing = fx.FailOn(
        world.client("sagemaker"),
        "delete_model",
        "AccessDeniedException",
        ModelName="mlws-bob-ep-model",
    )
    event = {"RequestType": "Delete", "PhysicalResourceId": "mlws-janitor"}
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 600_000)
    with caplog.at_level("ERROR"):
        answer = janitor_handler.on_event(event, context, clients=world.clients(model=refusing))
    assert answer["PhysicalResourceId"] == "mlws-janitor"
    assert answer["Data"]["complete"] is False and answer["Data"]["failed"] == 1
    assert "mlws-bob-ep-model" in caplog.text and "AccessDeniedException" in caplog.text
    assert len(json.dumps(answer)) < 4096  # CloudFormation's response limit
    assert set(fx.inventory(world)) & world.removed == {"model:mlws-bob-ep-model"}

    monkeypatch.delenv("WORKSHOP_PREFIX")  # even a broken configuration must not wedge a delete
    broken = janitor_handler.on_event(event, context, clients=world.clients())
    assert broken["Data"]["complete"] is False and "WORKSHOP_PREFIX" in broken["Data"]["error"]


def test_the_lambda_package_needs_only_its_folder_and_boto3():
    """Deployed with lambdas/ as the asset root: nothing of the project may be imported."""
    code = "import janitor.handler, janitor.janitor; print(len(janitor.janitor.KINDS))"
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, '.'); {code}"],
        cwd=PROJECT_ROOT / "lambdas",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(KINDS))


# -- command line ---------------------------------------------------------------------------------
def _cli(*argv: str, clients=None) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        if clients is None:
            code = workshopctl_main(list(argv))
        else:
            parser_args = SimpleNamespace(
                apply="--apply" in argv, whole_account=False, region=None, json=False, buckets=[]
            )
            parser_args.buckets = [a.split("=", 1)[1] for a in argv if a.startswith("--bucket=")]
            code = janitor_cli.run_janitor(parser_args, clients=clients)
    return code, out.getvalue()


def test_cli_janitor_dry_run_then_apply(aws):
    world = real_time(fx.seed(fx.new_world(), parts=["jobs", "notebooks", "studio", "s3"]))
    code, out = _cli(f"--bucket={world.buckets[0]}", clients=world.clients())
    assert code == 0
    assert f"dry run: {len(world.expected)} resources would be deleted" in out
    assert "would stop, then delete" in out and "USD/hour" in out
    assert set(fx.inventory(world)) & world.removed  # nothing deleted yet

    code, out = _cli("--apply", f"--bucket={world.buckets[0]}", clients=world.clients())
    assert code == 0 and "nothing in scope is left" in out
    assert not set(fx.inventory(world)) & world.removed


class FakeCloudFormation:
    """DescribeStacks only (moto's CloudFormation needs openapi-spec-validator, not installed)."""

    def __init__(self, outputs: dict[str, str] | None) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName):
        if self.outputs is None:
            message = f"Stack with id {StackName} does not exist"
            raise fx.client_error("ValidationError", message, "DescribeStacks")
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": outputs}]}


def test_cli_finds_the_buckets_in_the_data_lake_stack_outputs():
    assert janitor_cli.data_lake_buckets(FakeCloudFormation(None), "mlws") == []  # not deployed
    outputs = {
        "RawBucketName": "raw-1",
        "AthenaResultsBucketName": "results-1",
        "GlueDatabaseName": "mlws_datalake",
    }
    found = janitor_cli.data_lake_buckets(FakeCloudFormation(outputs), "mlws")
    assert found == ["raw-1", "results-1"]
    denied = FakeCloudFormation({})
    denied.describe_stacks = lambda StackName: (_ for _ in ()).throw(
        fx.client_error("AccessDenied", "no", "DescribeStacks")
    )
    with pytest.raises(ClientError):  # anything but "not deployed" is not swallowed
        janitor_cli.data_lake_buckets(denied, "mlws")


def test_cost_command_prints_the_estimate_per_attendee_hour():
    code, out = _cli("cost")
    assert code == 0
    config, prices = load_project_config(), load_prices().hourly
    attendees = len(config.attendee_names)
    types = config.instance_types
    expected_total = (
        attendees * prices[types.notebook]
        + 3 * prices[types.endpoint]
        + prices["nat-gateway"]
        + attendees * janitor_cli.TRAINING_INSTANCE_HOURS_PER_ATTENDEE_HOUR * prices[types.training]
    )
    per_attendee = float(re.search(r"per attendee-hour: ([\d.]+) USD", out).group(1))
    assert per_attendee == pytest.approx(expected_total / attendees, abs=0.0005)
    assert re.search(rf"notebook instances .*{re.escape(types.notebook)}\s+{attendees}\s", out)
    assert "NAT gateway" in out and "as of" in out

    _, direct = _cli("cost", "--network", "direct")
    assert "NAT gateway" not in direct


def test_cost_of_an_unknown_instance_type_is_shown_as_unknown():
    config = build_config({"instance_types": {"notebook": "ml.r5.large"}, "attendees": 4})
    prices = load_prices()
    text = janitor_cli.format_estimate(janitor_cli.estimate(config, prices), 4, prices)
    assert re.search(r"notebook instances .* ml\.r5\.large .* \?\s+\?", text)
    assert "per attendee-hour: at least" in text and "lower bound" in text
