"""The boto3 call extractor: each supported pattern on small snippets, the waiter/paginator and
IAM mappings, and the real programs of the repository checked against parliament's IAM data."""

from __future__ import annotations

import textwrap
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from workshopctl import service_reference
from workshopctl.aws_calls import (
    IAM_ACTION_EXCEPTIONS,
    AwsCall,
    UnresolvedCallsError,
    extract,
    extract_calls,
    iam_actions,
    main,
)

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = [
    REPO / "lambdas",
    REPO / "labs" / "workshop.py",
    REPO / "notebook_lifecycle",
    REPO / "training_code",
]


@cache
def known_iam_actions() -> frozenset[str]:
    """Every ``prefix:Action`` of parliament's bundled IAM definitions (lower case)."""
    return frozenset(
        action.lower()
        for prefix in service_reference.services()
        for action in service_reference.actions(prefix)
    )


def write(tmp_path: Path, source: str, name: str = "program.py") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def found(tmp_path: Path, source: str) -> set[tuple[str, str, str]]:
    """(service, operation, method) of each call in one snippet; nothing left unresolved."""
    return {(c.service, c.operation, c.method) for c in extract_calls(write(tmp_path, source))}


# -- the patterns ---------------------------------------------------------------------------------
def test_client_assigned_to_a_name_then_called(tmp_path):
    source = """
        import boto3
        def f():
            ssm = boto3.client("ssm")
            ssm.get_parameter(Name="x")
            try:
                pass
            except ssm.exceptions.ParameterNotFound:  # not a call
                pass
    """
    assert found(tmp_path, source) == {("ssm", "GetParameter", "get_parameter")}


def test_chained_client_and_session_client(tmp_path):
    source = """
        import boto3
        boto3.client("s3").put_object(Bucket="b", Key="k", Body=b"")
        def f(session):
            session.client("cloudwatch").put_metric_data(Namespace="n", MetricData=[])
            boto3.Session().client(service_name="sts").get_caller_identity()
    """
    assert found(tmp_path, source) == {
        ("s3", "PutObject", "put_object"),
        ("cloudwatch", "PutMetricData", "put_metric_data"),
        ("sts", "GetCallerIdentity", "get_caller_identity"),
    }


def test_client_on_an_attribute_and_a_lazy_global(tmp_path):
    source = """
        import boto3
        _CLIENT = None
        class Runner:
            def __init__(self):
                self.runtime = boto3.client("sagemaker-runtime")
            def run(self):
                return self.runtime.invoke_endpoint(EndpointName="e", Body=b"")
        def _sagemaker():
            global _CLIENT
            if _CLIENT is None:
                _CLIENT = boto3.client("sagemaker")
            return _CLIENT
        def handler(event, context):
            _sagemaker().describe_endpoint(EndpointName="e")
    """
    assert found(tmp_path, source) == {
        ("sagemaker-runtime", "InvokeEndpoint", "invoke_endpoint"),
        ("sagemaker", "DescribeEndpoint", "describe_endpoint"),
    }


def test_helper_returning_a_client_for_a_literal_service(tmp_path):
    source = """
        import boto3
        GLUE = "glue"
        def _client(service: str):
            return boto3.Session(region_name="eu-west-1").client(service)
        def tables():
            return _client(GLUE).get_tables(DatabaseName="d")
        def endpoint():
            sm = _client("sagemaker")
            return sm.describe_endpoint(EndpointName="e")
    """
    assert found(tmp_path, source) == {
        ("glue", "GetTables", "get_tables"),
        ("sagemaker", "DescribeEndpoint", "describe_endpoint"),
    }


def test_client_cache_and_clients_get_method(tmp_path):
    source = """
        import boto3
        CLIENTS = {}
        def client(name):
            if name not in CLIENTS:
                CLIENTS[name] = boto3.client(name)
            return CLIENTS[name]
        def f():
            CLIENTS["events"].put_events(Entries=[])
        class Clients:
            def __init__(self):
                self._cache = {}
            def get(self, service):
                if service not in self._cache:
                    self._cache[service] = boto3.Session().client(service)
                return self._cache[service]
        def g(clients: Clients):
            clients.get("codebuild").start_build(projectName="p")
            {"a": 1}.get("s3")  # a dict's get is no client factory
    """
    assert found(tmp_path, source) == {
        ("events", "PutEvents", "put_events"),
        ("codebuild", "StartBuild", "start_build"),
    }


def test_parameters_by_annotation_callers_and_name(tmp_path):
    source = """
        import boto3
        def by_annotation(client: "SNSClient"):
            client.publish(TopicArn="t", Message="m")
        def by_name(ecr, s3_client, sm):
            ecr.describe_images(repositoryName="r")
            s3_client.head_object(Bucket="b", Key="k")
            sm.delete_endpoint(EndpointName="e")
        def by_caller(client):
            client.list_budgets  # referenced, not called: still a call the program makes
            client.describe_budgets(AccountId="1")
        def main():
            by_caller(boto3.client("budgets"))
    """
    assert found(tmp_path, source) == {
        ("sns", "Publish", "publish"),
        ("ecr", "DescribeImages", "describe_images"),
        ("s3", "HeadObject", "head_object"),
        ("sagemaker", "DeleteEndpoint", "delete_endpoint"),
        ("budgets", "DescribeBudgets", "describe_budgets"),
    }


def test_unknown_client_resolved_by_a_method_only_one_service_has(tmp_path):
    source = """
        def score(client, texts):
            return client.batch_detect_sentiment(TextList=texts, LanguageCode="en")
    """
    assert found(tmp_path, source) == {
        ("comprehend", "BatchDetectSentiment", "batch_detect_sentiment")
    }


def test_method_reference_passed_to_a_wrapper(tmp_path):
    source = """
        import boto3
        def _ignore_missing(call, **arguments):
            call(**arguments)
        def f():
            sm = boto3.client("sagemaker")
            _ignore_missing(sm.delete_model, ModelName="m")
    """
    assert found(tmp_path, source) == {("sagemaker", "DeleteModel", "delete_model")}


def test_dispatch_helper_with_the_operation_as_a_literal(tmp_path):
    write(
        tmp_path,
        """
        def _iterate(client, operation, key, kwargs):
            if client.can_paginate(operation):
                for page in client.get_paginator(operation).paginate(**kwargs):
                    yield from page.get(key, [])
                return
            yield from getattr(client, operation)(**kwargs).get(key, [])
        class Calls:
            def pages(self, client, operation, key, **kwargs):
                return list(_iterate(client, operation, key, kwargs))
        """,
        "pkg/aws.py",
    )
    write(
        tmp_path,
        """
        def discover(d, logs, kind):
            d.pages(logs, "describe_log_groups", "logGroups")
            d.pages(logs, f"describe_{kind}s", "items")
        """,
        "pkg/kinds.py",
    )
    extraction = extract(tmp_path / "pkg")
    assert [(c.service, c.operation) for c in extraction.calls] == [("logs", "DescribeLogGroups")]
    (unresolved,) = extraction.unresolved
    assert unresolved.service == "logs"
    assert "computed at run time" in unresolved.reason


def test_waiter_and_paginator(tmp_path):
    source = """
        import boto3
        sm = boto3.client("sagemaker")
        sm.get_waiter("endpoint_in_service").wait(EndpointName="e")
        for page in boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket="b"):
            pass
    """
    assert found(tmp_path, source) == {
        ("sagemaker", "DescribeEndpoint", "get_waiter('endpoint_in_service')"),
        ("s3", "ListObjectsV2", "get_paginator('list_objects_v2')"),
    }


def test_s3_transfer_helpers_and_resources(tmp_path):
    source = """
        import boto3
        s3 = boto3.client("s3")
        s3.upload_file("local.csv", "b", "k")
        s3.download_fileobj("b", "k", open("x", "wb"))
        bucket = boto3.resource("s3").Bucket("b")
        bucket.Object("k").put(Body=b"")
        for item in bucket.objects.filter(Prefix="p"):
            pass
        bucket.objects.all().delete()
        boto3.resource("s3").meta.client.head_bucket(Bucket="b")
    """
    operations = {operation for _, operation, _ in found(tmp_path, source)}
    assert operations == {
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "HeadObject",
        "GetObject",
        "ListObjects",
        "DeleteObjects",
        "HeadBucket",
    }


def test_unresolved_calls_are_reported_or_raised(tmp_path):
    path = write(
        tmp_path,
        """
        import boto3
        def f(service_name):
            client = boto3.client(service_name)
            client.get_object(Bucket="b", Key="k")  # s3 and mediastore-data both have it
            client.some_helper_of_ours()  # no service has it: not an AWS call
        """,
    )
    with pytest.raises(UnresolvedCallsError) as raised:
        extract_calls(path)
    unresolved: list = []
    assert extract_calls(path, unresolved=unresolved) == []
    assert unresolved == list(raised.value.unresolved)
    (call,) = unresolved
    assert call.line == 5
    assert set(call.candidates) >= {"s3", "mediastore-data"}
    assert "not a literal" in call.reason


def test_tests_and_caches_are_skipped(tmp_path):
    write(tmp_path, "import boto3\nboto3.client('s3').list_buckets()\n", "pkg/tests/test_x.py")
    write(tmp_path, "import boto3\nboto3.client('s3').list_buckets()\n", "pkg/test_y.py")
    write(tmp_path, "import boto3\nboto3.client('s3').list_buckets()\n", "pkg/__pycache__/z.py")
    assert extract_calls(tmp_path / "pkg") == []


# -- IAM actions ----------------------------------------------------------------------------------
def call(service: str, operation: str) -> AwsCall:
    return AwsCall(service, operation, "m", "p.py", 1)


@pytest.mark.parametrize(
    ("service", "operation", "actions"),
    [
        ("s3", "ListObjectsV2", ("s3:ListBucket",)),
        ("s3", "HeadObject", ("s3:GetObject",)),
        ("s3", "HeadBucket", ("s3:ListBucket",)),
        ("s3", "DeleteObjects", ("s3:DeleteObject",)),
        ("s3", "ListObjectVersions", ("s3:ListBucketVersions",)),
        ("s3", "CopyObject", ("s3:GetObject", "s3:PutObject")),
        ("s3", "PutObject", ("s3:PutObject",)),
        ("s3", "CreateMultipartUpload", ("s3:PutObject",)),
        ("s3", "UploadPart", ("s3:PutObject",)),
        ("s3", "CompleteMultipartUpload", ("s3:PutObject",)),
        ("s3", "AbortMultipartUpload", ("s3:AbortMultipartUpload",)),
        ("sagemaker-runtime", "InvokeEndpoint", ("sagemaker:InvokeEndpoint",)),
        ("athena", "GetQueryResults", ("athena:GetQueryResults",)),
        ("glue", "GetTables", ("glue:GetTables",)),
        ("ecr", "DescribeImages", ("ecr:DescribeImages",)),
        ("sts", "GetCallerIdentity", ()),
        ("cloudwatch", "PutMetricData", ("cloudwatch:PutMetricData",)),
        (
            "application-autoscaling",
            "RegisterScalableTarget",
            ("application-autoscaling:RegisterScalableTarget",),
        ),
        ("lambda", "Invoke", ("lambda:InvokeFunction",)),
        ("events", "PutEvents", ("events:PutEvents",)),
        ("service-quotas", "GetServiceQuota", ("servicequotas:GetServiceQuota",)),
        ("scheduler", "CreateSchedule", ("scheduler:CreateSchedule",)),
        ("logs", "DescribeLogGroups", ("logs:DescribeLogGroups",)),
        ("budgets", "DescribeBudgets", ("budgets:ViewBudget",)),
        ("codebuild", "StartBuild", ("codebuild:StartBuild",)),
        ("sns", "Publish", ("sns:Publish",)),
        ("ssm", "GetParameter", ("ssm:GetParameter",)),
        ("comprehend", "DetectSentiment", ("comprehend:DetectSentiment",)),
        ("efs", "DescribeFileSystems", ("elasticfilesystem:DescribeFileSystems",)),
        ("ec2", "DescribeSubnets", ("ec2:DescribeSubnets",)),
    ],
)
def test_iam_actions(service, operation, actions):
    assert iam_actions(call(service, operation)) == actions
    assert all(action.lower() in known_iam_actions() for action in actions)


def test_versioned_s3_requests_add_the_version_actions():
    assert iam_actions(call("s3", "GetObject"), versions=True) == (
        "s3:GetObject",
        "s3:GetObjectVersion",
    )
    assert "s3:DeleteObjectVersion" in iam_actions(call("s3", "DeleteObjects"), versions=True)


def test_every_exception_names_actions_that_exist():
    missing = {
        action
        for actions in IAM_ACTION_EXCEPTIONS.values()
        for action in actions
        if action.lower() not in known_iam_actions()
    }
    assert not missing


# -- the repository's programs --------------------------------------------------------------------
@pytest.fixture(scope="module")
def repository_extraction():
    return extract(*PROGRAMS)


def test_every_call_of_the_repository_maps_to_existing_iam_actions(repository_extraction):
    calls = repository_extraction.calls
    missing = {
        f"{c.path}:{c.line} {c.service}.{c.operation} -> {action}"
        for c in calls
        for action in iam_actions(c)
        if action.lower() not in known_iam_actions()
    }
    assert not missing, "\n".join(sorted(missing))


def test_each_lambda_package_makes_calls(repository_extraction, capsys):
    per_file = Counter(
        Path(c.path).relative_to(REPO).as_posix() for c in repository_extraction.calls
    )
    per_lambda = Counter()
    for path, count in per_file.items():
        if path.startswith("lambdas/"):
            per_lambda[path.split("/")[1]] += count
    with capsys.disabled():
        print("\nAWS calls per file:")
        for path, count in sorted(per_file.items()):
            print(f"  {count:4d}  {path}")
        print(f"  unresolved: {len(repository_extraction.unresolved)}")
    packages = sorted(p.name for p in (REPO / "lambdas").iterdir() if (p / "__init__.py").exists()
                      or any(p.glob("*.py")))  # fmt: skip
    assert {package: per_lambda[package] for package in packages if per_lambda[package] == 0} == {}


def test_unresolved_calls_of_the_repository_are_the_known_dynamic_ones(repository_extraction):
    """Only the janitor's computed operation names and a method two services share are left:
    the contract checker requires a declaration for each."""
    reasons = {
        (Path(u.path).name, u.reason.split(";")[0]) for u in repository_extraction.unresolved
    }
    assert all(
        "computed at run time" in reason or "unknown service" in reason for _, reason in reasons
    )


def test_command_line_prints_a_table(tmp_path, capsys):
    path = write(tmp_path, "import boto3\nboto3.client('lambda').invoke(FunctionName='f')\n")
    assert main([str(path)]) == 0
    output = capsys.readouterr().out
    assert "Invoke" in output and "lambda:InvokeFunction" in output
