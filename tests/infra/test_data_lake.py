"""Properties of the data-lake stack that a security reviewer and an organiser rely on."""

from __future__ import annotations

import csv
import json

import pytest
import sqlglot

from tests.conftest import resources_of
from training_code.reviews import schema as reviews_schema
from workshop_artifacts.reviews_data import staged_reviews
from workshop_spec import platforms
from workshop_spec.config import load_project_config
from workshop_spec.datasets import BANK_MARKETING, BIKE_SHARING, CSV_DATASETS, NAMED_QUERIES

CONFIG = load_project_config()
STACK = f"{CONFIG.prefix}-data-lake"
DATA_BUCKETS = ("RawBucket", "CuratedBucket", "AthenaResultsBucket")
ALL_BUCKETS = ("AccessLogsBucket", *DATA_BUCKETS)
# The data lake's optional Module 4 features, each flipped from its default: one synthesis.
OPTIONS_FLIPPED = {
    "data_lake__reviews_crawler": True,
    "data_lake__run_reviews_etl_on_deploy": False,
}


def _bucket(template, name):
    matches = {
        k: v for k, v in resources_of(template, "AWS::S3::Bucket").items() if k.startswith(name)
    }
    assert len(matches) == 1, f"expected one {name}, found {list(matches)}"
    return next(iter(matches.items()))


def _key_id(template):
    (key_id,) = resources_of(template, "AWS::KMS::Key")
    return key_id


@pytest.mark.parametrize("name", ALL_BUCKETS)
def test_every_bucket_blocks_public_access(data_lake, name):
    _, bucket = _bucket(data_lake, name)
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


@pytest.mark.parametrize("name", ALL_BUCKETS)
def test_every_bucket_denies_requests_without_tls(data_lake, name):
    logical_id, _ = _bucket(data_lake, name)
    policies = [
        p
        for p in resources_of(data_lake, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    assert len(policies) == 1
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    deny_plain_http = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s["Action"] == "s3:*"
        and s["Principal"] == {"AWS": "*"}
        and s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert deny_plain_http, f"{name} has no Deny on aws:SecureTransport=false"
    resources = deny_plain_http[0]["Resource"]
    assert {"Fn::GetAtt": [logical_id, "Arn"]} in resources  # the bucket itself ...
    assert any("/*" in str(r) for r in resources)  # ... and every object in it
    deny_old_tls = [
        s
        for s in statements
        if s["Effect"] == "Deny" and "s3:TlsVersion" in s["Condition"].get("NumericLessThan", {})
    ]
    assert deny_old_tls and deny_old_tls[0]["Condition"]["NumericLessThan"]["s3:TlsVersion"] == 1.2


@pytest.mark.parametrize("name", DATA_BUCKETS)
def test_data_buckets_use_the_customer_key(data_lake, name):
    _, bucket = _bucket(data_lake, name)
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    default = rule["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"] == {"Fn::GetAtt": [_key_id(data_lake), "Arn"]}
    assert rule["BucketKeyEnabled"] is True


def test_the_customer_key_rotates(data_lake):
    key = data_lake["Resources"][_key_id(data_lake)]
    assert key["Properties"]["EnableKeyRotation"] is True


def test_access_log_bucket_uses_sse_s3_because_log_delivery_requires_it(data_lake):
    _, bucket = _bucket(data_lake, "AccessLogsBucket")
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


@pytest.mark.parametrize(
    ("name", "versioned"),
    [
        ("RawBucket", True),
        ("CuratedBucket", True),
        ("AccessLogsBucket", True),
        ("AthenaResultsBucket", False),
    ],
)
def test_versioning_where_it_protects_data(data_lake, name, versioned):
    _, bucket = _bucket(data_lake, name)
    status = bucket["Properties"].get("VersioningConfiguration", {}).get("Status")
    assert (status == "Enabled") is versioned


@pytest.mark.parametrize("name", ("RawBucket", "CuratedBucket", "AccessLogsBucket"))
def test_versioned_buckets_expire_noncurrent_versions_and_abort_uploads(data_lake, name):
    _, bucket = _bucket(data_lake, name)
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": CONFIG.data_lake.noncurrent_version_expiry_days
    }
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": CONFIG.data_lake.abort_incomplete_upload_days
    }
    assert all(r["Status"] == "Enabled" for r in rules.values())


def test_query_results_expire_after_the_configured_days(synth):
    template = synth(athena__results_expiry_days=3).templates[STACK]
    _, bucket = _bucket(template, "AthenaResultsBucket")
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-query-results"]["ExpirationInDays"] == 3


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("RawBucket", "raw/"),
        ("CuratedBucket", "curated/"),
        ("AthenaResultsBucket", "athena-results/"),
    ],
)
def test_data_buckets_log_access_to_the_log_bucket(data_lake, name, prefix):
    log_bucket_id, _ = _bucket(data_lake, "AccessLogsBucket")
    _, bucket = _bucket(data_lake, name)
    assert bucket["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": log_bucket_id},
        "LogFilePrefix": prefix,
    }


# -- teardown ------------------------------------------------------------------------------------


def _auto_deleted_buckets(template) -> set[str]:
    return {
        r["Properties"]["BucketName"]["Ref"]
        for r in resources_of(template, "Custom::S3AutoDeleteObjects").values()
    }


def test_destroy_empties_and_deletes_every_bucket_and_the_key(data_lake):
    buckets = resources_of(data_lake, "AWS::S3::Bucket")
    assert _auto_deleted_buckets(data_lake) == set(buckets)
    for resource in [*buckets.values(), *resources_of(data_lake, "AWS::KMS::Key").values()]:
        assert resource["DeletionPolicy"] == "Delete"
        assert resource["UpdateReplacePolicy"] == "Delete"


def test_access_log_bucket_is_deleted_last(data_lake):
    """CloudFormation deletes dependents first: every data bucket references the log bucket."""
    log_bucket_id, _ = _bucket(data_lake, "AccessLogsBucket")
    for name in DATA_BUCKETS:
        _, bucket = _bucket(data_lake, name)
        assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {
            "Ref": log_bucket_id
        }


def test_retain_keeps_every_bucket_and_the_key_with_their_data(synth):
    template = synth(retention="retain").templates[STACK]
    assert _auto_deleted_buckets(template) == set()
    kept = [
        *resources_of(template, "AWS::S3::Bucket").values(),
        *resources_of(template, "AWS::KMS::Key").values(),
    ]
    assert len(kept) == 5
    for resource in kept:
        assert resource["DeletionPolicy"] == "Retain"
    (workgroup,) = resources_of(template, "AWS::Athena::WorkGroup").values()
    assert workgroup["Properties"]["RecursiveDeleteOption"] is False


# -- data, catalog, queries ------------------------------------------------------------------------


def test_vendored_datasets_are_copied_into_raw(data_lake):
    raw_id, _ = _bucket(data_lake, "RawBucket")
    (deployment,) = resources_of(data_lake, "Custom::CDKBucketDeployment").values()
    assert deployment["Properties"]["DestinationBucketName"] == {"Ref": raw_id}
    assert deployment["Properties"]["Prune"] is False


@pytest.mark.parametrize("dataset", CSV_DATASETS, ids=lambda d: d.table)
def test_each_table_declares_every_column_of_its_file(data_lake, dataset):
    table = _table(data_lake, dataset.table)
    with dataset.source_path.open(newline="") as handle:
        header = next(csv.reader(handle, delimiter=dataset.delimiter))
    columns = table["StorageDescriptor"]["Columns"]
    assert len(columns) == len(header)
    assert [c["Name"] for c in columns] == [_glue_name(name) for name in header]


def _glue_name(header_name: str) -> str:
    renamed = {"default": "credit_default"}  # `default` is reserved in Athena's SQL
    name = header_name.replace(".", "_")
    return renamed.get(name, name)


def _table(template, name):
    tables = [
        r["Properties"]["TableInput"]
        for r in resources_of(template, "AWS::Glue::Table").values()
        if r["Properties"]["TableInput"]["Name"] == name
    ]
    assert len(tables) == 1
    return tables[0]


def test_bank_marketing_table_reads_semicolons_quoted_strings_and_skips_the_header(data_lake):
    table = _table(data_lake, BANK_MARKETING.table)
    serde = table["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert serde["Parameters"]["separatorChar"] == ";"
    assert serde["Parameters"]["quoteChar"] == '"'
    assert table["Parameters"]["skip.header.line.count"] == "1"


def test_bike_sharing_table_reads_plain_commas_and_skips_the_header(data_lake):
    table = _table(data_lake, BIKE_SHARING.table)
    serde = table["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    assert serde["Parameters"]["field.delim"] == ","
    assert table["Parameters"]["skip.header.line.count"] == "1"


@pytest.mark.parametrize("dataset", CSV_DATASETS, ids=lambda d: d.table)
def test_each_table_location_is_a_folder_holding_only_its_file(data_lake, dataset):
    location = _table(data_lake, dataset.table)["StorageDescriptor"]["Location"]
    assert location["Fn::Join"][1][-1] == f"/{dataset.raw_prefix}/"
    siblings = [p.name for p in dataset.source_path.parent.iterdir()]
    assert siblings == [dataset.source_path.name], "Athena would read every file in the folder"


def test_workgroup_enforces_encrypted_results_and_the_scan_cutoff(synth):
    template = synth(athena__bytes_scanned_cutoff_mb=100).templates[STACK]
    (workgroup,) = resources_of(template, "AWS::Athena::WorkGroup").values()
    properties = workgroup["Properties"]
    configuration = properties["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == 100 * 1024 * 1024
    results = configuration["ResultConfiguration"]
    assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert results["EncryptionConfiguration"]["KmsKey"] == {
        "Fn::GetAtt": [_key_id(template), "Arn"]
    }
    results_bucket_id, _ = _bucket(template, "AthenaResultsBucket")
    assert {"Ref": results_bucket_id} in results["OutputLocation"]["Fn::Join"][1]
    assert properties["RecursiveDeleteOption"] is True  # so `cdk destroy` completes
    assert properties["Name"] == CONFIG.athena_workgroup_name


def test_named_queries_are_the_repository_sql_in_the_workshop_workgroup(data_lake):
    queries = {
        q["Properties"]["Name"]: q["Properties"]
        for q in resources_of(data_lake, "AWS::Athena::NamedQuery").values()
    }
    assert set(queries) == {q.name for q in NAMED_QUERIES}
    (workgroup_id,) = resources_of(data_lake, "AWS::Athena::WorkGroup")
    for query in NAMED_QUERIES:
        deployed = queries[query.name]
        assert deployed["QueryString"] == query.sql
        assert deployed["Database"] == CONFIG.glue_database_name
        assert deployed["WorkGroup"] == {"Ref": workgroup_id}


@pytest.mark.parametrize("query", NAMED_QUERIES, ids=lambda q: q.name)
def test_named_query_sql_parses_in_athenas_dialect(query):
    parsed = sqlglot.parse(query.sql, read="athena")
    assert len(parsed) == 1 and parsed[0] is not None
    tables = {t.name for t in parsed[0].find_all(sqlglot.exp.Table)}
    known = {d.table for d in CSV_DATASETS} | {
        reviews_schema.RAW_TABLE,
        reviews_schema.CURATED_TABLE,
    }
    assert tables <= known, f"unknown tables {tables}"


# -- Module 4: reviews -----------------------------------------------------------------------------


def glue_table(template, name: str) -> dict:
    (table,) = (
        t["Properties"]["TableInput"] for t in resources_of(template, "AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] == name
    )  # fmt: skip
    return table


def test_reviews_tables_raw_tsv_and_curated_parquet_with_partition_projection(data_lake):
    raw = glue_table(data_lake, "reviews_tsv")
    assert raw["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"] == "\t"
    assert raw["Parameters"]["skip.header.line.count"] == "1"
    assert [c["Name"] for c in raw["StorageDescriptor"]["Columns"]] == [
        c.name for c in reviews_schema.RAW_COLUMNS
    ]
    curated = glue_table(data_lake, "reviews_parquet")
    assert curated["PartitionKeys"] == [{"Name": "product_category", "Type": "string"}]
    assert "ParquetHiveSerDe" in curated["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    parameters = curated["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.product_category.type"] == "enum"
    assert parameters["projection.product_category.values"].split(",") == list(
        reviews_schema.CATEGORIES
    )
    assert "product_category=${product_category}" in json.dumps(
        parameters["storage.location.template"]
    )
    for table in (raw, curated):
        assert table["Parameters"]["workshop:owner"] == "stack"  # the janitor keeps it


def test_reviews_etl_is_a_glue_5_job_with_bookmarks_and_encrypted_logs(data_lake):
    (job,) = resources_of(data_lake, "AWS::Glue::Job").values()
    properties = job["Properties"]
    assert properties["GlueVersion"] == "5.0"
    assert properties["Command"]["Name"] == "glueetl"
    assert properties["DefaultArguments"]["--job-bookmark-option"] == "job-bookmark-enable"
    (security,) = resources_of(data_lake, "AWS::Glue::SecurityConfiguration").values()
    encryption = security["Properties"]["EncryptionConfiguration"]
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"


def test_reviews_etl_role_reads_raw_reviews_and_writes_curated_reviews_only(data_lake):
    (job,) = resources_of(data_lake, "AWS::Glue::Job").values()
    role_id = job["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        s for p in resources_of(data_lake, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]  # fmt: skip
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    (write,) = writes
    tails = sorted(r["Fn::Join"][1][-1] for r in write["Resource"])
    assert tails == ["/reviews/etl-summary.json", "/reviews/parquet/*", "/reviews/quarantine/*"]
    reads = next(s for s in statements if s["Sid"] == "ReadRawReviews")
    assert reads["Resource"]["Fn::Join"][1][-1] == "/reviews/tsv/*"


def test_crawler_is_optional_and_cannot_overwrite_stack_tables(synth, data_lake):
    assert not resources_of(data_lake, "AWS::Glue::Crawler")
    template = synth(**OPTIONS_FLIPPED).templates["mlws-data-lake"]
    (crawler,) = resources_of(template, "AWS::Glue::Crawler").values()
    assert crawler["Properties"]["TablePrefix"] == "crawled_"
    role_id = crawler["Properties"]["Role"]["Fn::GetAtt"][0]
    (policy,) = (
        p for p in resources_of(template, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    )  # fmt: skip
    (write,) = (
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] == "WriteCrawledTable"
    )
    assert json.dumps(write["Resource"][-1]).endswith('/crawled_*"]]}')


def test_reviews_named_queries_are_deployed(data_lake):
    names = {
        q["Properties"]["Name"] for q in resources_of(data_lake, "AWS::Athena::NamedQuery").values()
    }
    assert {
        "reviews-sample", "reviews-low-rated-in-category", "reviews-low-rated-bodies",
        "reviews-top-products-by-rating",
    } <= names  # fmt: skip


# -- Module 4: the deploy runs the ETL once --------------------------------------------------------


def _etl_run(template) -> dict:
    (run,) = resources_of(template, "Custom::ReviewsEtlRun").values()
    return run


def test_the_deploy_runs_the_etl_after_the_raw_reviews_are_in_s3(data_lake):
    run = _etl_run(data_lake)
    properties = run["Properties"]
    (job_id,) = resources_of(data_lake, "AWS::Glue::Job")
    assert properties["JobName"] == {"Ref": job_id}  # so the job exists first
    (deployment_id,) = resources_of(data_lake, "Custom::CDKBucketDeployment")
    assert deployment_id in run["DependsOn"]  # the raw TSV is in S3 first
    # A full rebuild on every deploy run: never appended twice, bookmark covering what was read.
    assert properties["Arguments"] == {"--write-mode": "overwrite"}
    assert properties["ResetBookmark"] == "true"
    assert data_lake["Outputs"]["ReviewsEtlRunId"]["Value"] == {
        "Fn::GetAtt": ["ReviewsEtlRun", "JobRunId"]
    }


def test_a_new_script_new_job_arguments_or_new_reviews_run_the_etl_again(data_lake):
    """An Update re-runs the job when ``RunInputs`` changes (lambdas/glue_run.needs_run)."""
    inputs = _etl_run(data_lake)["Properties"]["RunInputs"]
    (job,) = resources_of(data_lake, "AWS::Glue::Job").values()
    script = job["Properties"]["Command"]["ScriptLocation"]["Fn::Sub"]
    assert script.endswith(f"/{inputs['ScriptHash']}.py")
    assert inputs["JobArguments"] == job["Properties"]["DefaultArguments"]
    reviews = staged_reviews(CONFIG.data_lake.reviews_scale)
    assert inputs["ReviewsFingerprint"] == reviews.fingerprint


def test_the_run_function_may_only_run_and_watch_the_reviews_job(data_lake):
    function_id = _etl_run(data_lake)["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    function = data_lake["Resources"][function_id]["Properties"]
    assert function["Handler"] == "glue_run.handler.handler"
    assert function["Runtime"] == platforms.identifier("lambda-python")
    assert function["Timeout"] == 15 * 60  # Lambda's maximum; it answers a minute before
    assert "ReservedConcurrentExecutions" not in function
    role_id = function["Role"]["Fn::GetAtt"][0]
    assert "Policies" not in data_lake["Resources"][role_id]["Properties"]
    statements = {
        s["Sid"]: s
        for p in resources_of(data_lake, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    }
    assert set(statements) == {"RunReviewsEtl", "ResetReviewsEtlBookmark", "WriteOwnLogs"}
    run = statements["RunReviewsEtl"]
    assert sorted(run["Action"]) == ["glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"]
    (job_id,) = resources_of(data_lake, "AWS::Glue::Job")
    assert run["Resource"]["Fn::Join"][1][-2:] == [":job/", {"Ref": job_id}]
    # The one action AWS authorizes on no resource, alone in its statement.
    reset = statements["ResetReviewsEtlBookmark"]
    assert (reset["Action"], reset["Resource"]) == ("glue:ResetJobBookmark", "*")
    log_group_id = function["LoggingConfig"]["LogGroup"]["Ref"]
    assert statements["WriteOwnLogs"]["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    assert data_lake["Resources"][log_group_id]["Properties"]["KmsKeyId"] == {
        "Fn::GetAtt": [_key_id(data_lake), "Arn"]
    }


def test_an_organiser_can_deploy_without_running_the_etl(synth):
    template = synth(**OPTIONS_FLIPPED).templates[STACK]
    assert not resources_of(template, "Custom::ReviewsEtlRun")
    handlers = [
        f["Properties"]["Handler"] for f in resources_of(template, "AWS::Lambda::Function").values()
    ]
    assert "glue_run.handler.handler" not in handlers
    assert "ReviewsEtlRunId" not in template["Outputs"]
    assert resources_of(template, "AWS::Glue::Job")  # the job is still there to run by hand
