"""The assembly's Lambda functions, run as they run in AWS: their deployed code package (the
zip the deploy published to the bootstrap bucket), their handler, their environment variables,
and their role's credentials, in a process of their own.

What the Lambda Python runtime gives a handler (Lambda developer guide, "Lambda context object
in Python" and "Using Lambda environment variables"): ``handler(event, context)``, a context
with ``function_name``, ``aws_request_id``, ``get_remaining_time_in_millis()``, and
``AWS_LAMBDA_FUNCTION_NAME``/``AWS_REGION`` in the environment. The process runs on this
machine's Python (the functions declare python3.14 in AWS; they use only the standard library
and boto3, and tests/lambdas runs them on 3.11 too). Node.js functions (the CDK's own custom
resource providers) do not run here.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from workshopctl.cloud_assembly import Resource

# Runs the handler inside the function's process; the event comes on stdin, the result (or the
# error) goes out as the last line of stdout.
BOOTSTRAP = """
import importlib, json, sys, time, traceback
request = json.loads(sys.stdin.read())
deadline = time.monotonic() + request["timeout"]

class Context:
    function_name = request["function_name"]
    aws_request_id = request["request_id"]
    log_stream_name = request["request_id"]
    memory_limit_in_mb = request["memory"]
    invoked_function_arn = request["arn"]
    def get_remaining_time_in_millis(self):
        return max(0, int((deadline - time.monotonic()) * 1000))

module_name, _, function_name = request["handler"].rpartition(".")
try:
    handler = getattr(importlib.import_module(module_name), function_name)
    result = handler(request["event"], Context())
    answer = {"result": result}
except Exception as error:
    traceback.print_exc()
    answer = {"errorType": type(error).__name__, "errorMessage": str(error)}
print("\\n" + json.dumps(answer, default=str))
"""


class FunctionError(RuntimeError):
    """The handler raised (Lambda's "Unhandled" function error) or its process died."""


@dataclass(frozen=True)
class Invocation:
    function: str
    result: object
    log: str
    seconds: float


class Functions:
    """The assembly's Python functions, runnable in one emulated account."""

    def __init__(self, account):
        self.account = account
        self.folder = Path(account.workdir) / "functions"

    def resource(self, name: str) -> Resource:
        found = self.account.assembly.find("AWS::Lambda::Function", name)
        if found is None:
            raise KeyError(f"no function {name} in the assembly")
        return found

    def _code(self, function: Resource) -> Path:
        """The deployed package, unpacked once (read from the bucket the deploy published)."""
        code = function.properties["Code"]
        target = self.folder / Path(code["S3Key"]).stem
        if not target.exists():
            s3 = self.account.client("s3", label="lambda service")
            body = s3.get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
            partial = target.with_name(target.name + ".partial")
            zipfile.ZipFile(io.BytesIO(body)).extractall(partial)
            partial.rename(target)
        return target

    def invoke(self, name: str, event: dict, *, label: str | None = None) -> Invocation:
        function = self.resource(name)
        props = function.properties
        if not str(props.get("Runtime", "")).startswith("python"):
            raise FunctionError(f"{name} runs on {props.get('Runtime')}: only Python runs here")
        timeout = int(props.get("Timeout", 3))
        request = {
            "event": event,
            "handler": props["Handler"],
            "timeout": timeout,
            "function_name": name,
            "request_id": str(uuid.uuid4()),
            "memory": int(props.get("MemorySize", 128)),
            "arn": function.arn,
        }
        environment = {
            **{k: str(v) for k, v in (props.get("Environment") or {}).get("Variables", {}).items()},
            **self.account.environment(label or f"lambda {name}", props["Role"]),
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
            "PYTHONPATH": str(self._code(function)),
            "PATH": "/usr/bin:/bin",
        }
        started = time.perf_counter()
        try:
            finished = subprocess.run(
                [sys.executable, "-c", BOOTSTRAP],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                env=environment,
                timeout=timeout + 5,
            )
        except subprocess.TimeoutExpired as expired:
            raise FunctionError(f"{name} timed out after {timeout} s") from expired
        lines = finished.stdout.rstrip().splitlines()
        log = "\n".join(lines[:-1]) + finished.stderr
        try:
            answer = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            raise FunctionError(
                f"{name} died (exit {finished.returncode}): {log[-2000:]}"
            ) from None
        if "errorType" in answer:
            raise FunctionError(f"{name}: {answer['errorType']}: {answer['errorMessage']}\n{log}")
        return Invocation(name, answer["result"], log, time.perf_counter() - started)
