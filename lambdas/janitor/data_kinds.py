"""Data kinds: ECR images, S3 objects under attendee prefixes, Glue tables, Athena named queries,
SageMaker's CloudWatch log groups and streams, and the streams of the workshop's Glue runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from .aws import Calls, Discovery, Removal, error_code, error_text, is_not_found
from .model import DELETED, FAILED, STACK_TABLE_PARAMETER, Kind, Resource, owned_by_stack

ECR_BATCH = 100  # BatchDeleteImage takes at most 100 image ids
S3_BATCH = 1000  # DeleteObjects takes at most 1000 keys
SAGEMAKER_LOGS = "/aws/sagemaker/"
GLUE_LOGS = "/aws-glue/"
ENDPOINT_LOGS = "/aws/sagemaker/Endpoints/"


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- ECR: every image in the workshop's repositories, except the stacks' own -------------------
def _discover_images(d: Discovery, ecr: Any) -> Iterator[Resource]:
    for repository in d.pages(ecr, "describe_repositories", "repositories"):
        name, arn = repository["repositoryName"], repository["repositoryArn"]
        listed = d.call(ecr.list_tags_for_resource, resourceArn=arn).get("tags", [])
        tags = {tag["Key"]: tag["Value"] for tag in listed}
        reason = d.scope.reason(name, tags)
        # The model-image stack's repository holds the image the BYOM endpoint and pipeline
        # run: a mid-event clean-up must not empty it, and its stack empties it on deletion.
        if reason is None or owned_by_stack(tags):
            continue
        digests = _digests(d, ecr, name)
        if digests:
            yield Resource(
                "ecr-images",
                name,
                reason,
                arn=arn,
                state=f"{len(digests)} image(s)",
                ids={"repositoryName": name},
            )


def _digests(calls: Calls, ecr: Any, repository: str) -> list[str]:
    image_ids = calls.pages(ecr, "list_images", "imageIds", repositoryName=repository)
    # One digest can carry several tags; deleting by digest removes the image once.
    return sorted({image["imageDigest"] for image in image_ids if "imageDigest" in image})


def _delete_images(r: Removal, ecr: Any, resource: Resource) -> tuple[str, str]:
    repository = resource.ids["repositoryName"]
    digests = _digests(r, ecr, repository)
    problems: list[str] = []
    for chunk in _chunks(digests, ECR_BATCH):
        answer = r.call(
            ecr.batch_delete_image,
            repositoryName=repository,
            imageIds=[{"imageDigest": digest} for digest in chunk],
        )
        problems += [
            f"{failure.get('imageId', {}).get('imageDigest', '?')}: "
            f"{failure.get('failureCode')} {failure.get('failureReason', '')}".strip()
            for failure in answer.get("failures", [])
            if failure.get("failureCode") != "ImageNotFound"
        ]
    if problems:
        return FAILED, "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else "")
    return DELETED, f"{len(digests)} image(s)"


ECR_IMAGES = Kind("ecr-images", "ecr", "delete", _discover_images, _delete_images)


# -- S3: every version and delete marker under attendees/<name>/ and the shared prefixes ----------
def _folders(d: Discovery, s3: Any, bucket: str) -> dict[str, list[str]]:
    """Attendee folders of a bucket that hold something → the keys found (for the count)."""
    folders: dict[str, list[str]] = defaultdict(list)
    for root in (d.scope.attendee_root, *d.scope.shared_prefixes):
        for key in _keys_under(d, s3, bucket, root):
            if root == d.scope.attendee_root:
                parts = key[len(root) :].split("/", 1)
                if len(parts) < 2 or not parts[0]:
                    continue  # only attendees/<name>/...: a file right in attendees/ is nobody's
                folders[f"{root}{parts[0]}/"].append(key)
            else:
                folders[root].append(key)
    return folders


def _keys_under(calls: Calls, s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every version, delete marker and unfinished upload under ``prefix`` (as keys)."""
    keys = []
    for page in calls.call(
        lambda: list(
            s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        )
    ):
        keys += [item["Key"] for item in page.get("Versions", [])]
        keys += [item["Key"] for item in page.get("DeleteMarkers", [])]
    keys += [
        upload["Key"]
        for upload in calls.pages(
            s3, "list_multipart_uploads", "Uploads", Bucket=bucket, Prefix=prefix
        )
    ]
    return keys


def _discover_objects(d: Discovery, s3: Any) -> Iterator[Resource]:
    for bucket in d.scope.buckets:
        try:
            folders = _folders(d, s3, bucket)
        except ClientError as error:
            if error_code(error) == "NoSuchBucket":
                continue  # nothing to clean in a bucket that is not there
            raise
        for folder, keys in sorted(folders.items()):
            yield Resource(
                "s3-objects",
                f"s3://{bucket}/{folder}",
                f"attendee prefix {folder} of a workshop bucket",
                state=f"{len(keys)} version(s)/marker(s)/upload(s), {len(set(keys))} key(s)",
                ids={"Bucket": bucket, "Prefix": folder},
            )


def _delete_objects(r: Removal, s3: Any, resource: Resource) -> tuple[str, str]:
    bucket, prefix = resource.ids["Bucket"], resource.ids["Prefix"]
    versions: list[dict[str, str]] = []
    for page in r.call(
        lambda: list(
            s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        )
    ):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            versions.append({"Key": item["Key"], "VersionId": item["VersionId"]})
    problems: list[str] = []
    for chunk in _chunks(versions, S3_BATCH):
        answer = r.call(s3.delete_objects, Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
        problems += [
            f"{error['Key']}: {error.get('Code')} {error.get('Message', '')}".strip()
            for error in answer.get("Errors", [])
            if error.get("Code") not in {"NoSuchKey", "NoSuchVersion"}
        ]
    uploads = r.pages(s3, "list_multipart_uploads", "Uploads", Bucket=bucket, Prefix=prefix)
    for upload in uploads:
        try:
            r.call(
                s3.abort_multipart_upload,
                Bucket=bucket,
                Key=upload["Key"],
                UploadId=upload["UploadId"],
            )
        except ClientError as error:
            if not is_not_found(error):
                problems.append(f"{upload['Key']}: {error_text(error)}")
    if problems:
        return FAILED, "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else "")
    return DELETED, f"{len(versions)} version(s)/marker(s), {len(uploads)} upload(s)"


S3_OBJECTS = Kind("s3-objects", "s3", "delete", _discover_objects, _delete_objects)


# -- Glue: tables in the workshop database that the stack did not create --------------------------
def _discover_tables(d: Discovery, glue: Any) -> Iterator[Resource]:
    if d.scope.whole_account:
        databases = [db["Name"] for db in d.pages(glue, "get_databases", "DatabaseList")]
    else:
        databases = [d.scope.database]
    owner_key, owner_value = STACK_TABLE_PARAMETER
    for database in databases:
        try:
            tables = d.pages(glue, "get_tables", "TableList", DatabaseName=database)
        except ClientError as error:
            if is_not_found(error):
                continue
            raise
        for table in tables:
            name = table["Name"]
            if (table.get("Parameters") or {}).get(owner_key) == owner_value:
                continue
            if database == d.scope.database and name in d.scope.stack_table_names:
                continue
            reason = "whole account" if d.scope.whole_account else "workshop database"
            yield Resource(
                "glue-table",
                f"{database}.{name}",
                f"{reason}, not the stack's",
                ids={"DatabaseName": database, "Name": name},
            )


def _delete_table(r: Removal, glue: Any, resource: Resource) -> tuple[str, str]:
    r.call(glue.delete_table, **resource.ids)
    return DELETED, ""


GLUE_TABLE = Kind("glue-table", "glue", "delete", _discover_tables, _delete_table)


# -- Athena: named queries in the workshop workgroup that are not the stack's --------------------
def _discover_queries(d: Discovery, athena: Any) -> Iterator[Resource]:
    if d.scope.whole_account:
        workgroups = [group["Name"] for group in d.pages(athena, "list_work_groups", "WorkGroups")]
    else:
        workgroups = [d.scope.workgroup]
    for workgroup in workgroups:
        try:
            query_ids = d.pages(athena, "list_named_queries", "NamedQueryIds", WorkGroup=workgroup)
        except ClientError as error:
            if is_not_found(error):
                continue  # no such workgroup: nothing of the workshop to clean there
            raise
        for query_id in query_ids:
            query = d.call(athena.get_named_query, NamedQueryId=query_id)["NamedQuery"]
            if query["Name"] in d.scope.stack_query_names:
                continue
            reason = "whole account" if d.scope.whole_account else "workshop workgroup"
            yield Resource(
                "athena-named-query",
                f"{workgroup}/{query['Name']}",
                f"{reason}, not the stack's",
                ids={"NamedQueryId": query_id},
            )


def _delete_query(r: Removal, athena: Any, resource: Resource) -> tuple[str, str]:
    r.call(athena.delete_named_query, **resource.ids)
    return DELETED, ""


ATHENA_NAMED_QUERY = Kind(
    "athena-named-query", "athena", "delete", _discover_queries, _delete_query
)


# -- CloudWatch Logs: SageMaker's log groups (per endpoint) and streams (per job/notebook) --------
def _log_groups(d: Discovery, logs: Any) -> list[tuple[str, dict[str, str]]]:
    def listing() -> list[tuple[str, dict[str, str]]]:
        groups = []
        for group in d.pages(
            logs, "describe_log_groups", "logGroups", logGroupNamePrefix=SAGEMAKER_LOGS
        ):
            arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
            tags = d.call(logs.list_tags_for_resource, resourceArn=arn).get("tags", {})
            groups.append((group["logGroupName"], tags))
        return groups

    return d.memo("log-groups", listing)


def _group_reason(d: Discovery, name: str, tags: dict[str, str]) -> str | None:
    """Why a whole log group goes: the whole account, its tag, or its endpoint is in scope."""
    if d.scope.whole_account:
        return "whole account"
    tagged = d.scope.reason("", tags)
    if tagged:
        return tagged
    if name.startswith(ENDPOINT_LOGS):
        endpoint = name[len(ENDPOINT_LOGS) :]
        if endpoint in d.found:
            return f"logs of endpoint {endpoint}"
        owner_reason = d.scope.reason(endpoint)
        return owner_reason and f"logs of endpoint {endpoint} ({owner_reason})"
    return None


def _discover_log_groups(d: Discovery, logs: Any) -> Iterator[Resource]:
    for name, tags in _log_groups(d, logs):
        if owned_by_stack(tags):
            continue
        reason = _group_reason(d, name, tags)
        if reason:
            yield Resource("log-group", name, reason)


def _delete_log_group(r: Removal, logs: Any, resource: Resource) -> tuple[str, str]:
    r.call(logs.delete_log_group, logGroupName=resource.name)
    return DELETED, ""


def _discover_log_streams(d: Discovery, logs: Any) -> Iterator[Resource]:
    """In shared groups (TrainingJobs, NotebookInstances, ...) only the in-scope ones' streams."""
    # Streams are named "<job or notebook name>/<instance>"; a prefix query per owner keeps the
    # listing small in a group that holds every job of the account.
    tagged_only = sorted(name for name in d.found if not name.startswith(d.scope.name_prefix))
    owners = [d.scope.name_prefix, *(f"{name}/" for name in tagged_only)]
    for group, tags in _log_groups(d, logs):
        if owned_by_stack(tags) or _group_reason(d, group, tags):
            continue  # left alone, or deleted whole
        names: set[str] = set()
        for owner_prefix in owners:
            names |= {
                stream["logStreamName"]
                for stream in d.pages(
                    logs,
                    "describe_log_streams",
                    "logStreams",
                    logGroupName=group,
                    logStreamNamePrefix=owner_prefix,
                )
            }
        streams: dict[str, int] = defaultdict(int)
        for name in names:
            streams[name.split("/", 1)[0]] += 1
        for owner, count in sorted(streams.items()):
            reason = d.scope.reason(owner) or f"logs of {owner}, found in scope"
            yield Resource(
                "log-streams",
                f"{group}:{owner}/*",
                reason,
                state=f"{count} stream(s)",
                ids={"logGroupName": group, "owner": owner},
            )


def _delete_log_streams(r: Removal, logs: Any, resource: Resource) -> tuple[str, str]:
    group, owner = resource.ids["logGroupName"], resource.ids["owner"]
    streams = [
        stream["logStreamName"]
        for stream in r.pages(
            logs,
            "describe_log_streams",
            "logStreams",
            logGroupName=group,
            logStreamNamePrefix=owner,
        )
        # The prefix "job-1" also matches "job-10/..."; keep only this owner's streams.
        if stream["logStreamName"].split("/", 1)[0] == owner
    ]
    for stream in streams:
        try:
            r.call(logs.delete_log_stream, logGroupName=group, logStreamName=stream)
        except ClientError as error:
            if not is_not_found(error):
                raise
    return DELETED, f"{len(streams)} stream(s)"


LOG_GROUP = Kind("log-group", "logs", "delete", _discover_log_groups, _delete_log_group)
LOG_STREAMS = Kind("log-streams", "logs", "delete", _discover_log_streams, _delete_log_streams)


# -- CloudWatch Logs: the workshop's Glue job runs, in log groups Glue shares across the account ---
def _discover_glue_run_logs(d: Discovery, logs: Any) -> Iterator[Resource]:
    """Glue writes each run of every job of the account to the same groups under /aws-glue/
    (``/aws-glue/jobs/output`` and ``/aws-glue/jobs/error`` by default, other names with a
    security configuration or ``--custom-logGroup-prefix``), in streams named after the run id
    ("Logging for AWS Glue jobs":
    https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html). Deleting the
    stack deletes the job, never these streams, so the janitor deletes the streams of the
    in-scope jobs' runs (it runs before the stacks go) and leaves the groups to the account."""
    glue = d.clients.get("glue", kind="glue-run-logs")
    runs: dict[str, list[str]] = {}
    for job in d.pages(glue, "list_jobs", "JobNames"):
        if d.scope.reason(job):
            runs[job] = [run["Id"] for run in d.pages(glue, "get_job_runs", "JobRuns", JobName=job)]
    if not any(runs.values()):
        return
    for group in d.pages(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=GLUE_LOGS):
        name = group["logGroupName"]
        for job, run_ids in sorted(runs.items()):
            found = [run for run in run_ids if _run_streams(d, logs, name, run)]
            if found:
                yield Resource(
                    "glue-run-logs",
                    f"{name}:{job}",
                    d.scope.reason(job) or f"runs of {job}",
                    state=f"{len(found)} run(s)",
                    ids={"logGroupName": name, "runs": ",".join(found)},
                )


def _run_streams(calls: Calls, logs: Any, group: str, run_id: str) -> list[str]:
    """The streams of one run: ``<run id>`` itself, ``<run id>-driver``, ``<run id>-<n>``."""
    listed = calls.pages(
        logs, "describe_log_streams", "logStreams", logGroupName=group, logStreamNamePrefix=run_id
    )
    names = [stream["logStreamName"] for stream in listed]
    return [name for name in names if name == run_id or name.startswith(f"{run_id}-")]


def _delete_glue_run_logs(r: Removal, logs: Any, resource: Resource) -> tuple[str, str]:
    group = resource.ids["logGroupName"]
    deleted = 0
    for run_id in resource.ids["runs"].split(","):
        for stream in _run_streams(r, logs, group, run_id):
            try:
                r.call(logs.delete_log_stream, logGroupName=group, logStreamName=stream)
                deleted += 1
            except ClientError as error:
                if not is_not_found(error):
                    raise
    return DELETED, f"{deleted} stream(s)"


GLUE_RUN_LOGS = Kind(
    "glue-run-logs", "logs", "delete", _discover_glue_run_logs, _delete_glue_run_logs
)
