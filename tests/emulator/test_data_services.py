"""Athena, Glue job runs and Comprehend, executed by the emulator as the caller."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator.conftest import attendee_role_arn
from workshopctl.labs_parameters import shared_parameter


def _names(emulated) -> dict:
    name = shared_parameter(emulated.assembly).name
    return json.loads(emulated.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def _query(athena, names: dict, sql: str) -> dict:
    query_id = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=names["athena_workgroup"],
        QueryExecutionContext={"Database": names["glue_database"]},
    )["QueryExecutionId"]
    return athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]


@pytest.fixture(scope="module")
def athena(emulated, assembly):
    return emulated.client("athena", "test athena", attendee_role_arn(assembly))


def test_a_query_runs_over_the_deployed_data_and_reports_the_bytes_it_read(emulated, athena):
    names = _names(emulated)
    execution = _query(
        athena, names, "SELECT season, COUNT(*) AS hours FROM bike_sharing_hourly GROUP BY 1"
    )

    assert execution["Status"]["State"] == "SUCCEEDED"
    hour_csv = emulated.client("s3").head_object(
        Bucket=names["raw_bucket"], Key="bike-sharing/hour.csv"
    )["ContentLength"]
    assert 0 < execution["Statistics"]["DataScannedInBytes"] <= hour_csv
    rows = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]
    assert [c["Type"] for c in rows["ResultSetMetadata"]["ColumnInfo"]] == ["integer", "bigint"]
    body = [[cell["VarCharValue"] for cell in row["Data"]] for row in rows["Rows"]]
    assert body[0] == ["season", "hours"]
    assert sum(int(hours) for _, hours in body[1:]) == 17379  # the data set's hours
    # The result lands where the workgroup enforces it, written as the caller.
    location = execution["ResultConfiguration"]["OutputLocation"]
    bucket, _, key = location.removeprefix("s3://").partition("/")
    text = emulated.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert text.splitlines()[0] == '"season","hours"'


def test_results_are_paged_as_athena_pages_them(emulated, athena):
    execution = _query(athena, _names(emulated), "SELECT instant FROM bike_sharing_hourly LIMIT 25")
    query_id = execution["QueryExecutionId"]
    first = athena.get_query_results(QueryExecutionId=query_id, MaxResults=10)
    second = athena.get_query_results(
        QueryExecutionId=query_id, MaxResults=10, NextToken=first["NextToken"]
    )
    assert len(first["ResultSet"]["Rows"]) == 10  # the header and 9 rows
    assert len(second["ResultSet"]["Rows"]) == 10


def test_a_query_over_a_missing_table_fails_with_athenas_message(emulated, athena):
    execution = _query(athena, _names(emulated), "SELECT * FROM no_such_table")
    assert execution["Status"]["State"] == "FAILED"
    assert "no_such_table does not exist" in execution["Status"]["StateChangeReason"]


def test_named_queries_are_the_deployed_ones(emulated, athena, assembly):
    names = _names(emulated)
    ids = athena.list_named_queries(WorkGroup=names["athena_workgroup"])["NamedQueryIds"]
    found = athena.batch_get_named_query(NamedQueryIds=ids)["NamedQueries"]
    deployed = {r.properties["Name"] for r in assembly.resources("AWS::Athena::NamedQuery")}
    assert {q["Name"] for q in found} == deployed


def _named_query_rows(athena, names: dict, name: str) -> list[dict]:
    """Run the deployed named query ``name`` as the attendee; its rows as dicts of text."""
    ids = athena.list_named_queries(WorkGroup=names["athena_workgroup"])["NamedQueryIds"]
    queries = athena.batch_get_named_query(NamedQueryIds=ids)["NamedQueries"]
    (query,) = [q for q in queries if q["Name"] == name]
    execution = _query(athena, names, query["QueryString"])
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    pages = athena.get_paginator("get_query_results").paginate(
        QueryExecutionId=execution["QueryExecutionId"]
    )
    rows = [[c.get("VarCharValue") for c in row["Data"]]
            for page in pages for row in page["ResultSet"]["Rows"]]  # fmt: skip
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_named_queries_answer_on_the_real_data(emulated, athena):
    """The data-engineering module's queries, through Athena over the deployed raw bucket."""
    names = _names(emulated)
    counts = {r["table_name"]: int(r["row_count"])
              for r in _named_query_rows(athena, names, "row-counts")}  # fmt: skip
    assert counts == {"bike_sharing_hourly": 17_379, "bank_marketing": 41_188}
    by_hour = _named_query_rows(athena, names, "bike-demand-by-hour")
    assert [int(r["hour_of_day"]) for r in by_hour] == list(range(24))
    assert max(by_hour, key=lambda r: float(r["mean_rentals"]))["hour_of_day"] == "17"  # commute
    by_job = _named_query_rows(athena, names, "bank-subscription-rate-by-job")
    assert sum(int(r["contacts"]) for r in by_job) == 41_188
    assert sum(int(r["subscriptions"]) for r in by_job) == 4_640  # 11.3 % of contacts said yes
    rates = [float(r["subscription_rate"]) for r in by_job]
    assert rates == sorted(rates, reverse=True)
    # OpenCSVSerde unquotes strings: the job is `admin.`, not `"admin."`.
    assert by_job[0]["job"] == "student" and "admin." in {r["job"] for r in by_job}


def test_comprehend_answers_in_the_apis_shape_and_says_which_model(emulated, assembly):
    comprehend = emulated.client("comprehend", "test comprehend", attendee_role_arn(assembly))
    answer = comprehend.batch_detect_sentiment(
        TextList=["Love it, fits perfectly and the fabric is soft", " ", "Awful, fell apart"],
        LanguageCode="en",
    )
    by_index = {item["Index"]: item for item in answer["ResultList"]}
    assert by_index[0]["Sentiment"] == "POSITIVE"
    assert by_index[2]["Sentiment"] == "NEGATIVE"
    assert [error["Index"] for error in answer["ErrorList"]] == [1]
    assert "local stand-in" in answer["ResponseMetadata"]["HTTPHeaders"]["x-emulator-model"]
    with pytest.raises(ClientError) as too_many:
        comprehend.batch_detect_sentiment(TextList=["a"] * 26, LanguageCode="en")
    assert too_many.value.response["Error"]["Code"] == "BatchSizeLimitExceededException"


def _wait(glue, name: str, run_id: str) -> dict:
    for _ in range(300):
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING"):
            return run
        time.sleep(1)
    raise AssertionError(f"{name} {run_id} still running")


def _reviews(emulated, athena) -> int:
    execution = _query(athena, _names(emulated), "SELECT COUNT(*) FROM reviews_parquet")
    rows = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    return int(rows["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"])


def test_the_deploy_ran_the_reviews_etl_so_module_4_has_data(emulated, athena, deployment):
    [run] = [a for path, a in deployment.custom_resources.items() if "ReviewsEtl" in path]
    assert run["Status"] == "SUCCESS" and run["Data"]["JobRunId"].startswith("jr_")
    names = _names(emulated)
    summary = json.loads(
        emulated.client("s3")
        .get_object(Bucket=names["curated_bucket"], Key="reviews/etl-summary.json")["Body"]
        .read()
    )
    assert _reviews(emulated, athena) == summary["rows_out"] > 20_000


def test_a_glue_job_run_executes_its_script_as_its_role_with_bookmarks(emulated, assembly, athena):
    job = next(assembly.resources("AWS::Glue::Job"))
    glue = emulated.client("glue")
    rows = _reviews(emulated, athena)
    before = len(emulated.log.calls(f"glue job {job.name}"))
    # The deploy's run processed every source file: a bookmarked run finds nothing new.
    first = glue.start_job_run(JobName=job.name)["JobRunId"]
    with pytest.raises(ClientError) as busy:
        glue.start_job_run(JobName=job.name)
    assert busy.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    assert _wait(glue, job.name, first)["JobRunState"] == "SUCCEEDED"
    calls = emulated.log.calls(f"glue job {job.name}")[before:]
    assert calls and not any(call.denied for call in calls)
    assert {c.principal for c in calls} == {job.properties["Role"]}
    parquet = [
        c for c in calls if c.operation == "PutObject" and c.checks[0].resource.endswith(".parquet")
    ]
    assert parquet == []
    # Reset, then overwrite: the table is rebuilt, not doubled.
    glue.reset_job_bookmark(JobName=job.name)
    again = glue.start_job_run(JobName=job.name, Arguments={"--write-mode": "overwrite"})
    assert _wait(glue, job.name, again["JobRunId"])["JobRunState"] == "SUCCEEDED"
    assert _reviews(emulated, athena) == rows


def test_glue_runs_log_to_the_shared_groups_and_the_janitor_deletes_their_streams(
    emulated, assembly, deployment
):
    """The deploy's ETL run wrote its output to Glue's account-wide groups, as the job's role;
    the janitor, as its deployed role (the gate decides), deletes the workshop runs' streams
    and nothing else there."""
    import boto3

    from lambdas.janitor.aws import Discovery, as_clients
    from lambdas.janitor.data_kinds import GLUE_RUN_LOGS
    from lambdas.janitor.janitor import clean
    from lambdas.janitor.model import DELETED, Scope
    from lambdas.janitor.prices import load_prices

    [etl] = [a for path, a in deployment.custom_resources.items() if "ReviewsEtl" in path]
    run_id = etl["Data"]["JobRunId"]
    logs = emulated.client("logs")
    logs.create_log_group(logGroupName="/aws-glue/jobs/other-team")
    logs.create_log_stream(logGroupName="/aws-glue/jobs/output", logStreamName="jr_other-driver")

    def streams(group: str) -> set[str]:
        listed = logs.describe_log_streams(logGroupName=group)["logStreams"]
        return {stream["logStreamName"] for stream in listed}

    assert f"{run_id}-driver" in streams("/aws-glue/jobs/output")
    job = next(assembly.resources("AWS::Glue::Job"))
    job_calls = [c for c in emulated.log.calls(f"glue job {job.name}") if c.service == "logs"]
    assert job_calls and not any(c.denied for c in job_calls)
    janitor_role = next(arn for arn in assembly.roles if "JanitorRole" in arn)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in emulated.environment("janitor", janitor_role).items():
            patch.setenv(key, value)
        clients = as_clients(boto3.Session())
        discovery = Discovery(clients=clients, scope=Scope("mlws"), prices=load_prices())
        found = list(GLUE_RUN_LOGS.discover(discovery, clients.get("logs")))
        assert {r.name for r in found} >= {"/aws-glue/jobs/output:mlws-reviews-etl"}
        report = clean(found, clients, apply=True)
    assert {outcome.status for outcome in report.outcomes} == {DELETED}
    left = streams("/aws-glue/jobs/output") | streams("/aws-glue/jobs/error")
    assert left == {"jr_other-driver"}
    assert not [c for c in emulated.log.calls("janitor") if c.denied]


def test_python_custom_resources_are_invoked_as_cloudformation_invokes_them(deployment):
    answers = {path.split("/")[0]: answer for path, answer in deployment.custom_resources.items()}
    assert answers["mlws-guardrails"]["Status"] == "SUCCESS"
