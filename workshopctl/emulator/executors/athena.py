"""Athena queries, executed: DuckDB over the emulated buckets, with the Glue tables' own
definitions, as the caller.

What Athena does for a query (Athena API reference: StartQueryExecution, GetQueryExecution,
GetQueryResults; "Working with query results" in the Athena User Guide), played here:

* the workgroup's settings win when it enforces them: its results location and its
  ``BytesScannedCutoffPerQuery`` (a query over the cutoff fails, as Athena cancels it);
* the tables are the Glue catalog's (read with the caller's own ``glue:GetTable``), their files
  the S3 objects under each table's location (read with the caller's own S3 permissions: a
  caller who could not read the data in AWS cannot here either);
* ``Statistics.DataScannedInBytes`` is what DuckDB's reader really read from the files (column
  and row-group pruning included), the quantity Athena bills, not a size estimate;
* the result is written as ``<output location><query id>.csv`` (as the caller) and paged by
  GetQueryResults, strings only, the header as the first row of the first page.

Serdes understood: LazySimpleSerDe and OpenCSVSerde text, Parquet (Hive partitions from the key
paths). Another serde fails the query naming it.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.wire import Call

PAGE_LIMIT = 1000  # GetQueryResults' MaxResults ceiling
GLUE_TO_DUCKDB = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
DUCKDB_TO_ATHENA = {
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "VARCHAR": "varchar",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}


@dataclass
class Execution:
    state: str = "RUNNING"
    reason: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    scanned: int = 0
    millis: int = 0
    output: str = ""


def _duckdb_type(glue_type: str) -> str:
    glue_type = glue_type.lower()
    if glue_type.startswith("decimal"):
        return glue_type.upper()
    if glue_type.startswith(("varchar", "char")):
        return "VARCHAR"
    if glue_type not in GLUE_TO_DUCKDB:
        raise ServiceError("InvalidRequestException", f"column type {glue_type} is not emulated")
    return GLUE_TO_DUCKDB[glue_type]


def _athena_type(duckdb_type: str) -> str:
    base = str(duckdb_type).split("(")[0].upper()
    return "decimal" if base == "DECIMAL" else DUCKDB_TO_ATHENA.get(base, "varchar")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class AthenaExecutor:
    """Query executions of one emulated account."""

    def __init__(self, account):
        self.account = account
        self.mirror = Path(account.workdir) / "athena-mirror"
        self.executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    # -- API ----------------------------------------------------------------------------------
    def start(self, call: Call, forward) -> Reply:
        reply = forward(call)
        if reply.status != 200:
            return reply
        query_id = reply.json()["QueryExecutionId"]
        execution = self.executions[query_id] = self._run(call, query_id)
        call.usage["athena_bytes_scanned"] = execution.scanned
        return reply

    def describe(self, call: Call, forward) -> Reply:
        reply = forward(call)
        execution = self.executions.get(call.params.get("QueryExecutionId", ""))
        if reply.status != 200 or execution is None:
            return reply
        answer = reply.json()
        described = answer["QueryExecution"]
        described["Status"] = {"State": execution.state, **(
            {"StateChangeReason": execution.reason} if execution.reason else {}
        )}  # fmt: skip
        described["Statistics"] = {
            "DataScannedInBytes": execution.scanned,
            "EngineExecutionTimeInMillis": execution.millis,
            "TotalExecutionTimeInMillis": execution.millis,
        }
        if execution.output:
            described["ResultConfiguration"] = {
                **(described.get("ResultConfiguration") or {}),
                "OutputLocation": execution.output,
            }
        return Reply.of_json(answer)

    def results(self, call: Call, forward) -> Reply:
        query_id = call.params.get("QueryExecutionId", "")
        execution = self.executions.get(query_id)
        if execution is None:
            raise ServiceError(
                "InvalidRequestException", f"QueryExecution {query_id} was not found"
            )
        if execution.state != "SUCCEEDED":
            raise ServiceError(
                "InvalidRequestException",
                f"Query has not yet finished. Current state: {execution.state}",
            )
        limit = min(int(call.params.get("MaxResults") or PAGE_LIMIT), PAGE_LIMIT)
        start = int(call.params.get("NextToken") or 0)
        header = [[name for name, _ in execution.columns]] if start == 0 else []
        take = limit - len(header)
        page = header + execution.rows[start : start + take]
        answer = {
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]}
                         for row in page],
                "ResultSetMetadata": {"ColumnInfo": [
                    {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name,
                     "Label": name, "Type": kind, "Precision": 0, "Scale": 0,
                     "Nullable": "UNKNOWN", "CaseSensitive": kind == "varchar"}
                    for name, kind in execution.columns
                ]},
            },
            "UpdateCount": 0,
        }  # fmt: skip
        if start + take < len(execution.rows):
            answer["NextToken"] = str(start + take)
        return Reply.of_json(answer)

    # -- execution ----------------------------------------------------------------------------
    def _run(self, call: Call, query_id: str) -> Execution:
        execution = Execution()
        started = time.perf_counter()
        sql = call.params["QueryString"]
        workgroup = self._workgroup(call.params.get("WorkGroup") or "primary")
        database = call.params.get("QueryExecutionContext", {}).get("Database", "default")
        try:
            connection = duckdb.connect()
            for table in duckdb.connect().get_table_names(sql, qualified=False):
                connection.execute(self._view(call, database, table))
            connection.execute("PRAGMA enable_profiling='no_output'")
            cursor = connection.execute(sql)
            execution.columns = [(d[0], _athena_type(d[1])) for d in cursor.description]
            execution.rows = [[_text(v) for v in row] for row in cursor.fetchall()]
            profile = json.loads(connection.get_profiling_information(format="json"))
            execution.scanned = int(profile.get("io", {}).get("total_bytes_read", 0))
            cutoff = workgroup.get("BytesScannedCutoffPerQuery")
            if cutoff and execution.scanned > cutoff:
                raise ServiceError(
                    "InvalidRequestException",
                    f"Query exhausted resources: bytes scanned limit {cutoff} was exceeded",
                )
            execution.output = self._write_result(call, workgroup, query_id, execution)
            execution.state = "SUCCEEDED"
        except (duckdb.Error, ServiceError) as failure:
            execution.state, execution.reason = "FAILED", str(failure).splitlines()[0]
        except Exception as failure:  # an S3 or Glue denial while reading: the query fails
            execution.state, execution.reason = "FAILED", f"{type(failure).__name__}: {failure}"
        execution.millis = int((time.perf_counter() - started) * 1000)
        return execution

    def _workgroup(self, name: str) -> dict:
        athena = self.account.client("athena", label="athena service")
        configuration = athena.get_work_group(WorkGroup=name)["WorkGroup"].get("Configuration", {})
        return configuration

    def _write_result(
        self, call: Call, workgroup: dict, query_id: str, execution: Execution
    ) -> str:
        location = workgroup.get("ResultConfiguration", {}).get("OutputLocation")
        if not workgroup.get("EnforceWorkGroupConfiguration"):
            location = call.params.get("ResultConfiguration", {}).get("OutputLocation") or location
        if not location:
            raise ServiceError("InvalidRequestException", "no output location for query results")
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow([name for name, _ in execution.columns])
        writer.writerows(["" if v is None else v for v in row] for row in execution.rows)
        uri = location.rstrip("/") + f"/{query_id}.csv"
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        self.account.client_as("s3", call.caller).put_object(
            Bucket=bucket, Key=key, Body=buffer.getvalue().encode()
        )
        return uri

    def _view(self, call: Call, database: str, table: str) -> str:
        glue = self.account.client_as("glue", call.caller)
        try:
            found = glue.get_table(DatabaseName=database, Name=table)["Table"]
        except glue.exceptions.EntityNotFoundException:
            raise ServiceError(
                "InvalidRequestException",
                f"line 1:1: Table awsdatacatalog.{database}.{table} does not exist",
            ) from None
        storage = found["StorageDescriptor"]
        columns = [(c["Name"], _duckdb_type(c["Type"])) for c in storage["Columns"]]
        partitions = [(c["Name"], _duckdb_type(c["Type"])) for c in found.get("PartitionKeys", [])]
        files = self._mirror(call, storage["Location"])
        serde = storage.get("SerdeInfo", {})
        library = serde.get("SerializationLibrary", "")
        if not files:
            empty = ", ".join(
                f'CAST(NULL AS {kind}) AS "{name}"' for name, kind in columns + partitions
            )
            return f'CREATE OR REPLACE VIEW "{table}" AS SELECT {empty} WHERE false'
        paths = "[" + ", ".join(f"'{path.as_posix()}'" for path in files) + "]"
        if library.endswith("ParquetHiveSerDe"):
            hive = ", ".join(f"'{name}': '{kind}'" for name, kind in partitions)
            return (
                f'CREATE OR REPLACE VIEW "{table}" AS SELECT * FROM read_parquet({paths}, '
                f"hive_partitioning={'true' if partitions else 'false'}"
                + (f", hive_types={{{hive}}})" if partitions else ")")
            )
        skip = int(found.get("Parameters", {}).get("skip.header.line.count", "0"))
        declared = ", ".join(f"'{name}': '{kind}'" for name, kind in columns)
        parameters = serde.get("Parameters", {})
        if library.endswith("OpenCSVSerde"):
            delim = _literal(parameters.get("separatorChar", ","))
            quote = _literal(parameters.get("quoteChar", '"'))
            escape = _literal(parameters.get("escapeChar", "\\"))
            options = f"delim={delim}, quote={quote}, escape={escape}"
        elif library.endswith("LazySimpleSerDe"):
            # LazySimpleSerDe: no quoting, no escapes; only \N is NULL.
            delim = _literal(parameters.get("field.delim", ","))
            options = f"delim={delim}, quote='', escape='', nullstr='\\N'"
        else:
            raise ServiceError("InvalidRequestException", f"serde {library} is not emulated")
        return (
            f'CREATE OR REPLACE VIEW "{table}" AS SELECT * FROM read_csv({paths}, {options}, '
            f"header={'true' if skip else 'false'}, auto_detect=false, columns={{{declared}}})"
        )

    def _mirror(self, call: Call, location: str) -> list[Path]:
        """The table's objects, fetched as the caller into a local mirror (by ETag)."""
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        s3 = self.account.client_as("s3", call.caller)
        files = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith("/") or item["Size"] == 0:
                    continue
                target = self.mirror / bucket / item["Key"]
                stamp = target.with_name(target.name + ".etag")
                with self._lock:
                    if not (
                        target.exists() and stamp.exists() and stamp.read_text() == item["ETag"]
                    ):
                        target.parent.mkdir(parents=True, exist_ok=True)
                        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                        target.write_bytes(body)
                        stamp.write_text(item["ETag"])
                    else:  # the read is still authorized, as Athena reads every time
                        s3.head_object(Bucket=bucket, Key=item["Key"])
                files.append(target)
        return sorted(files)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def batch_get_named_query(account):
    from workshopctl.emulator.moto_state import named_queries

    def execute(call: Call, forward) -> Reply:
        ids = call.params.get("NamedQueryIds") or []
        if not 1 <= len(ids) <= 50:
            raise ServiceError("InvalidRequestException", "NamedQueryIds takes 1 to 50 ids")
        found, missing = named_queries(ids, account.assembly.account, call.region)
        unprocessed = [
            {"NamedQueryId": i, "ErrorCode": "INVALID_INPUT", "ErrorMessage": "not found"}
            for i in missing
        ]
        return Reply.of_json({"NamedQueries": found, "UnprocessedNamedQueryIds": unprocessed})

    return execute


def install(account) -> None:
    executor = AthenaExecutor(account)
    account.execute("athena", "BatchGetNamedQuery", batch_get_named_query(account))
    account.execute("athena", "StartQueryExecution", executor.start)
    account.execute("athena", "GetQueryExecution", executor.describe)
    account.execute("athena", "GetQueryResults", executor.results)
