"""Stop this notebook instance when Jupyter has been idle for N minutes (see README.md).

Runs from cron on the system Python: standard library only, Python 3.7 syntax.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone

JUPYTER_URL = "https://localhost:8443"  # self-signed certificate, no token from localhost
METADATA_FILE = "/opt/ml/metadata/resource-metadata.json"
ACTIVE_STATES = {"busy", "starting", "restarting", "autorestarting"}
CLI_DIRS = ("/usr/local/bin", "/usr/bin", "/home/ec2-user/anaconda3/bin")  # beyond cron's PATH
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|z|[+-]\d\d:?\d\d)?$")
UTC = timezone.utc  # datetime.UTC is 3.11+


def parse_timestamp(text: str) -> datetime:
    """Jupyter's ISO 8601 time (``2024-05-01T10:00:00.123456Z``) as an aware datetime.

    By hand: 3.7's ``fromisoformat`` rejects ``Z``. No zone means UTC (Jupyter's).
    """
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    day, clock, fraction, zone = match.groups()
    moment = datetime.strptime(day + "T" + clock, "%Y-%m-%dT%H:%M:%S")
    moment = moment.replace(microsecond=int((fraction or "0")[:6].ljust(6, "0")))
    offset = timedelta(0)
    if zone and zone not in "Zz":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        offset = -offset if zone[0] == "-" else offset
    return moment.replace(tzinfo=timezone(offset)).astimezone(UTC)


def _label(session: dict) -> str:
    kernel = session.get("kernel") or {}
    name = kernel.get("name") or kernel.get("id") or "?"
    where = session.get("path") or (session.get("notebook") or {}).get("path")
    return f"kernel {name} ({where})" if where else f"kernel {name}"


def is_idle(
    sessions: list[dict],
    now: datetime,
    idle_minutes: int,
    ignore_connections: bool = False,
    started_at: datetime | None = None,
    terminals: list[dict] | None = None,
) -> tuple[bool, str]:
    """``(idle, reason)`` for Jupyter sessions (a lone kernel as ``{"kernel": kernel}``).

    Not idle while a kernel is busy/starting/restarting or (unless ``ignore_connections``)
    has a browser connected. Otherwise idle when the newest of the kernels' and terminals'
    ``last_activity`` and ``started_at`` is ``idle_minutes`` old or older. No times at all:
    not idle (nothing is known). ``idle_minutes <= 0`` turns the auto-stop off.
    """
    if idle_minutes <= 0:
        return False, f"auto-stop is off (idle minutes is {idle_minutes})"
    moments = []  # (time, what)
    for session in sessions:
        kernel = session.get("kernel") or {}
        if kernel.get("execution_state") in ACTIVE_STATES:
            return False, f"{_label(session)} is {kernel['execution_state']}"
        if not ignore_connections and int(kernel.get("connections") or 0) > 0:
            return False, f"{_label(session)} has a browser connected"
        if kernel.get("last_activity"):
            moments.append((parse_timestamp(kernel["last_activity"]), _label(session)))
    for terminal in terminals or []:
        if terminal.get("last_activity"):
            what = f"terminal {terminal.get('name', '?')}"
            moments.append((parse_timestamp(terminal["last_activity"]), what))
    if started_at is not None:
        moments.append((started_at.astimezone(UTC), "instance start"))
    if not moments:
        return False, "no activity or start time known: not stopping"
    newest, what = max(moments, key=lambda moment: moment[0])
    quiet = (now.astimezone(UTC) - newest).total_seconds() / 60
    idle = quiet >= idle_minutes
    return idle, f"newest activity: {what}, {quiet:.0f} min ago (limit {idle_minutes} min)"


def _get_json(url: str) -> list:
    context = None
    if url.startswith(("https://localhost", "https://127.0.0.1")):
        context = ssl.create_default_context()
        context.check_hostname = False  # the notebook server's certificate is self-signed
        context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        return json.load(response)


def _get_optional(url: str) -> list:
    try:
        return _get_json(url)
    except OSError:  # a server without this listing: the others decide
        return []


def read_server(base_url: str) -> tuple[list[dict], list[dict]]:
    """Sessions, plus kernels of no session (as ``{"kernel": k}``), and terminals."""
    base_url = base_url.rstrip("/")
    sessions = _get_json(base_url + "/api/sessions")
    known = {(session.get("kernel") or {}).get("id") for session in sessions}
    kernels = _get_optional(base_url + "/api/kernels")
    sessions += [{"kernel": kernel} for kernel in kernels if kernel.get("id") not in known]
    return sessions, _get_optional(base_url + "/api/terminals")


def boot_time(now: datetime) -> datetime:
    """When the machine booted: a notebook instance boots on every start."""
    with open("/proc/uptime") as uptime:
        return now - timedelta(seconds=float(uptime.read().split()[0]))


def stop_command(metadata_file: str) -> list[str]:
    """The AWS CLI call that stops this instance (name and region from its metadata)."""
    with open(metadata_file) as handle:
        metadata = json.load(handle)
    arn = str(metadata.get("ResourceArn", "")).split(":")
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(CLI_DIRS)
    command = [shutil.which("aws", path=path) or "aws", "sagemaker", "stop-notebook-instance"]
    command += ["--notebook-instance-name", metadata["ResourceName"]]
    return command + (["--region", arn[3]] if len(arn) > 3 and arn[3] else [])


def main(argv: list[str] | None = None) -> int:
    """Check once and print one JSON line; stop the instance when idle. 1 on errors."""
    parser = argparse.ArgumentParser(description="Stop this notebook instance when idle.")
    parser.add_argument("--idle-minutes", type=int, required=True, help="0 turns it off")
    parser.add_argument("--ignore-connections", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="decide, do not stop")
    parser.add_argument("--jupyter-url", default=JUPYTER_URL)
    parser.add_argument("--metadata-file", default=METADATA_FILE)
    parser.add_argument("--started-at", type=parse_timestamp, help="default: boot time")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    record = {"time": now.isoformat(), "idle": False, "dry_run": args.dry_run}
    try:
        sessions, terminals = read_server(args.jupyter_url)
        started_at = args.started_at or boot_time(now)
        idle, reason = is_idle(
            sessions, now, args.idle_minutes, args.ignore_connections, started_at, terminals
        )
        record.update(idle=idle, reason=reason, kernels=len(sessions))
        if idle:
            command = stop_command(args.metadata_file)
            record["action"] = " ".join(command)
            if not args.dry_run:
                done = subprocess.run(command, capture_output=True, text=True, timeout=60)
                record["exit_code"] = done.returncode
                if done.returncode != 0:
                    raise RuntimeError((done.stdout + done.stderr).strip()[-500:])
    except (OSError, ValueError, KeyError, RuntimeError, subprocess.SubprocessError) as error:
        # Never stop on doubt: a server that does not answer (restarting) is only logged.
        record["error"] = f"{type(error).__name__}: {error}"
        print(json.dumps(record), flush=True)
        return 1
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
