"""AWS Glue job runs, executed: the job's own script (read from its ScriptLocation) runs on
local PySpark as a process, with its S3 data read and written as the job's role.

What Glue does for StartJobRun (Glue API reference: StartJobRun, GetJobRun, GetJobRuns; the
Glue developer guide's "Tracking processed data using job bookmarks"), played here:

* the run's arguments are the job's DefaultArguments overridden by the run's Arguments;
* ``MaxConcurrentRuns`` (default 1): another run of a running job fails with
  ConcurrentRunsExceededException;
* every ``s3://`` argument becomes a local folder (or file, for a key with an extension): what is
  under it is fetched first, the script runs on the folders, and every file the run created or
  changed is written back under the same prefix; all as the job's role, so a role that may not
  read the source or write the target fails the run as it would in Glue;
* ``--job-bookmark-option job-bookmark-enable``: objects a successful run of the job already
  processed are not given to the next run (Glue tracks them per ``transformation_ctx``; the
  emulator per job, which is what the workshop's one-source ETL needs);
* states STARTING → RUNNING → SUCCEEDED or FAILED (ErrorMessage: the last line of the script's
  error output), ExecutionTime in seconds;
* the script's standard output and error go to CloudWatch Logs as the job's role, in Glue 5.0's
  default groups ``/aws-glue/jobs/output`` and ``/aws-glue/jobs/error``, stream
  ``<run id>-driver`` ("Logging for AWS Glue jobs"); AWS shares those groups across every job
  of the account, which is why the janitor deletes the workshop runs' streams.

The script runs on the local machine's PySpark (the Spark of Glue 5.0), not on Glue's
``awsglue`` libraries: a script that needs them does not run here, and the scripts of this
project take their local path when ``awsglue`` is missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from botocore.exceptions import ClientError

from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.wire import Call

ERROR_TAIL = 1000  # characters of the script's error output kept as the run's ErrorMessage
LOG_LINES = 5000  # the last lines of a run's output kept in its log stream
logger = logging.getLogger(__name__)


@dataclass
class JobRun:
    job: str
    state: str = "STARTING"
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    seen: set[str] = field(default_factory=set)  # s3 URIs given to the run
    usage: dict = field(default_factory=dict)  # the StartJobRun call's, for the bill


class GlueJobs:
    def __init__(self, account):
        self.account = account
        self.runs: dict[str, JobRun] = {}
        self.bookmarks: dict[str, set[str]] = {}
        self.threads: list[threading.Thread] = []

    # -- API ----------------------------------------------------------------------------------
    def start(self, call: Call, forward) -> Reply:
        name = call.params.get("JobName", "")
        if any(r.job == name and r.state in ("STARTING", "RUNNING") for r in self.runs.values()):
            raise ServiceError(
                "ConcurrentRunsExceededException", f"Job with name {name} already running"
            )
        reply = forward(call)
        if reply.status != 200:
            return reply
        run_id = reply.json()["JobRunId"]
        run = self.runs[run_id] = JobRun(name, usage=call.usage)
        thread = threading.Thread(target=self._execute, args=(run_id, run, call), daemon=True)
        self.threads.append(thread)
        thread.start()
        return reply

    def describe(self, call: Call, forward) -> Reply:
        reply = forward(call)
        if reply.status != 200:
            return reply
        answer = reply.json()
        if "JobRun" in answer:
            self._patch(answer["JobRun"])
        for run in answer.get("JobRuns", []):
            self._patch(run)
        return Reply.of_json(answer)

    def _patch(self, described: dict) -> None:
        run = self.runs.get(described.get("Id", ""))
        if run is None:
            return
        described["JobRunState"] = run.state
        end = run.finished or time.time()
        described["ExecutionTime"] = int(end - run.started)
        if run.finished is not None:
            described["CompletedOn"] = run.finished
        else:
            described.pop("CompletedOn", None)
        if run.error:
            described["ErrorMessage"] = run.error

    # -- execution ----------------------------------------------------------------------------
    def _execute(self, run_id: str, run: JobRun, call: Call) -> None:
        glue = self.account.client("glue", label="glue service")
        job = glue.get_job(JobName=run.job)["Job"]
        arguments = {**job.get("DefaultArguments", {}), **(call.params.get("Arguments") or {})}
        label = f"glue job {run.job}"
        s3 = self.account.client("s3", label=label, role_arn=job["Role"])
        folder = Path(self.account.workdir) / "glue" / run.job / str(int(run.started * 1000))
        bookmarked = arguments.get("--job-bookmark-option") == "job-bookmark-enable"
        done = self.bookmarks.setdefault(run.job, set()) if bookmarked else set()
        run.state = "RUNNING"
        try:
            script = folder / "script" / PurePosixPath(job["Command"]["ScriptLocation"]).name
            self._fetch(s3, job["Command"]["ScriptLocation"], script, set(), run)
            local: dict[str, Path] = {}
            for key, value in arguments.items():
                if isinstance(value, str) and value.startswith("s3://"):
                    local[key] = folder / "data" / key.strip("-")
                    self._fetch(s3, value, local[key], done, run)
            before = _snapshot(folder / "data")
            # The script's local path runs (no awsglue here), which takes no --JOB_NAME.
            command = [sys.executable, str(script)]
            for key, value in arguments.items():
                if key.startswith("--") and key[2:] not in GLUE_RESERVED:
                    command += [key, str(local.get(key, value))]
            finished = subprocess.run(
                command, cwd=folder, capture_output=True, text=True,
                env={**os.environ, "PYSPARK_PYTHON": sys.executable},
            )  # fmt: skip
            logs = self.account.client("logs", label=label, role_arn=job["Role"])
            _write_log(logs, "/aws-glue/jobs/output", f"{run_id}-driver", finished.stdout)
            _write_log(logs, "/aws-glue/jobs/error", f"{run_id}-driver", finished.stderr)
            if finished.returncode != 0:
                lines = [line for line in finished.stderr.splitlines() if line.strip()]
                raise RuntimeError((lines[-1] if lines else "script failed")[-ERROR_TAIL:])
            for key, path in local.items():
                self._store(s3, arguments[key], path, before)
            done |= run.seen
            run.state = "SUCCEEDED"
        except Exception as failure:
            run.state, run.error = "FAILED", str(failure)[-ERROR_TAIL:]
        run.finished = time.time()
        workers = int(job.get("NumberOfWorkers") or 1)
        dpu = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "G.025X": 0.25}.get(
            job.get("WorkerType", "G.1X"), 1
        )
        run.usage["glue_dpu_seconds"] = workers * dpu * (run.finished - run.started)

    @staticmethod
    def _fetch(s3, uri: str, target: Path, skip: set[str], run: JobRun) -> None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if _is_file(key):
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(s3.exceptions.NoSuchKey):  # an output not written yet
                target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            return
        target.mkdir(parents=True, exist_ok=True)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", []):
                found = f"s3://{bucket}/{item['Key']}"
                if found in skip or item["Key"].endswith("/"):
                    continue
                path = target / item["Key"][len(key) :].lstrip("/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
                run.seen.add(found)

    @staticmethod
    def _store(s3, uri: str, path: Path, before: dict[Path, float]) -> None:
        """Write back what the run created or changed under ``path``, and delete what it
        removed (a Spark overwrite empties its target first)."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")

        def object_key(file: Path) -> str:
            if file == path:
                return key
            return f"{key.rstrip('/')}/{file.relative_to(path).as_posix()}"

        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if before.get(file) == file.stat().st_mtime or file.name.startswith("."):
                continue  # unchanged, or Spark's own checksum files
            s3.put_object(Bucket=bucket, Key=object_key(file), Body=file.read_bytes())
        for file in before:
            if not file.exists() and (file == path or path in file.parents):
                s3.delete_object(Bucket=bucket, Key=object_key(file))


# Glue's own arguments, which a job script does not take (Glue API: "Special parameters used by
# AWS Glue").
GLUE_RESERVED = {
    "job-bookmark-option", "enable-metrics", "enable-continuous-cloudwatch-log",
    "enable-spark-ui", "spark-event-logs-path", "TempDir", "job-language",
    "enable-glue-datacatalog", "enable-job-insights", "enable-observability-metrics",
}  # fmt: skip


def _write_log(logs, group: str, stream: str, text: str) -> None:
    """One stream of a run's output, written as the job's role (a role that may not write its
    logs loses them; the run goes on, as the logs are Glue's side effect, not the job's)."""
    lines = [line for line in text.splitlines() if line.strip()] or ["(no output)"]
    try:
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in lines[-LOG_LINES:]]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    except ClientError as error:
        logger.warning("glue run logs %s/%s not written: %s", group, stream, error)


def _is_file(key: str) -> bool:
    return bool(key) and not key.endswith("/") and "." in PurePosixPath(key).name


def _snapshot(folder: Path) -> dict[Path, float]:
    if not folder.exists():
        return {}
    return {p: p.stat().st_mtime for p in folder.rglob("*") if p.is_file()}


def reset_bookmark(jobs: GlueJobs):
    """ResetJobBookmark (moto has none): the job's next run reads every source object again."""

    def execute(call: Call, forward) -> Reply:
        name = call.params.get("JobName", "")
        glue = jobs.account.client("glue", label="glue service")
        try:
            glue.get_job(JobName=name)
        except glue.exceptions.EntityNotFoundException:
            raise ServiceError("EntityNotFoundException", f"Job {name} not found") from None
        jobs.bookmarks.pop(name, None)
        return Reply.of_json({"JobBookmarkEntry": {"JobName": name, "Version": 0, "Run": 0}})

    return execute


def install(account) -> None:
    jobs = GlueJobs(account)
    account.execute("glue", "ResetJobBookmark", reset_bookmark(jobs))
    account.glue_jobs = jobs
    account.execute("glue", "StartJobRun", jobs.start)
    account.execute("glue", "GetJobRun", jobs.describe)
    account.execute("glue", "GetJobRuns", jobs.describe)
