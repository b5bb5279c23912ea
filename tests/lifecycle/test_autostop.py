"""The idle auto-stop: the decision on sample Jupyter data, and the script against a server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from notebook_lifecycle import autostop
from notebook_lifecycle.autostop import is_idle, parse_timestamp
from workshopctl.local.attendee_step import (
    NOTEBOOK_NAME,
    Sandbox,
    fake_jupyter_server,
    session,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
AUTOSTOP = Path(autostop.__file__)


def kernel(state: str = "idle", last_activity: str = "2024-05-01T10:00:00.123456Z", **extra):
    """A kernel as Jupyter lists it (timestamps formatted as Jupyter formats them)."""
    return {
        "id": "k1",
        "name": "python3",
        "execution_state": state,
        "connections": 0,
        "last_activity": last_activity,
        **extra,
    }


# -- parse_timestamp -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00.123456Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00.1Z", datetime(2024, 5, 1, 10, 0, 0, 100000, tzinfo=UTC)),
        ("2024-05-01T10:00:00.123456789Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-05-01T05:30:00-0430", datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00.5", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_returns_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "2024-05-01", "2024-05-01T10:00Z"])
def test_parse_timestamp_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_timestamp(text)


# -- is_idle -------------------------------------------------------------------------------


def test_busy_kernel_is_never_idle_however_old_its_activity() -> None:
    sessions = [session(kernel("busy", "2024-04-01T00:00:00.000000Z"), "train.ipynb")]
    idle, reason = is_idle(sessions, NOW, 60, ignore_connections=True)
    assert not idle
    assert "busy" in reason and "train.ipynb" in reason


@pytest.mark.parametrize("state", ["starting", "restarting", "autorestarting"])
def test_kernel_changing_state_is_not_idle(state: str) -> None:
    assert not is_idle([session(kernel(state), "a.ipynb")], NOW, 60, True)[0]


def test_recently_active_idle_kernel_keeps_the_instance() -> None:
    sessions = [session(kernel(last_activity="2024-05-01T11:30:00.000000Z"), "eda.ipynb")]
    idle, reason = is_idle(sessions, NOW, 60)
    assert not idle
    assert "30 min ago" in reason


def test_long_idle_kernels_stop_the_instance() -> None:
    sessions = [
        session(kernel(last_activity="2024-05-01T10:00:00.123456Z"), "a.ipynb"),
        session(kernel(last_activity="2024-05-01T10:55:00.000000Z", id="k2"), "b.ipynb"),
    ]
    idle, reason = is_idle(sessions, NOW, 60)
    assert idle
    assert "b.ipynb" in reason and "65 min ago" in reason  # the newest activity decides


def test_the_limit_itself_counts_as_idle() -> None:
    exactly = [session(kernel(last_activity="2024-05-01T11:00:00.000000Z"), "a.ipynb")]
    just_under = [session(kernel(last_activity="2024-05-01T11:00:00.000001Z"), "a.ipynb")]
    assert is_idle(exactly, NOW, 60)[0]
    assert not is_idle(just_under, NOW, 60)[0]


def test_mixed_sessions_one_recent_keeps_the_instance() -> None:
    sessions = [
        session(kernel(last_activity="2024-05-01T08:00:00.000000Z"), "old.ipynb"),
        session(kernel(last_activity="2024-05-01T11:50:00.000000Z", id="k2"), "new.ipynb"),
    ]
    idle, reason = is_idle(sessions, NOW, 60)
    assert not idle
    assert "new.ipynb" in reason


def test_mixed_sessions_one_busy_keeps_the_instance() -> None:
    sessions = [
        session(kernel(last_activity="2024-05-01T08:00:00.000000Z"), "old.ipynb"),
        session(kernel("busy", "2024-05-01T08:00:00.000000Z", id="k2"), "train.ipynb"),
    ]
    assert not is_idle(sessions, NOW, 60)[0]


def test_connected_browser_counts_unless_connections_are_ignored() -> None:
    sessions = [session(kernel(last_activity="2024-05-01T08:00:00Z", connections=1), "a.ipynb")]
    idle, reason = is_idle(sessions, NOW, 60)
    assert not idle and "browser" in reason
    assert is_idle(sessions, NOW, 60, ignore_connections=True)[0]


def test_no_sessions_measures_from_the_start() -> None:
    recent_start = NOW - timedelta(minutes=10)
    old_start = NOW - timedelta(minutes=90)
    assert not is_idle([], NOW, 60, started_at=recent_start)[0]
    idle, reason = is_idle([], NOW, 60, started_at=old_start)
    assert idle and "instance start" in reason


def test_no_sessions_and_no_start_time_is_not_idle() -> None:
    idle, reason = is_idle([], NOW, 60)
    assert not idle
    assert "not stopping" in reason


def test_a_start_newer_than_every_kernel_gives_grace() -> None:
    """A kernel restored from before a restart does not stop a freshly started instance."""
    sessions = [session(kernel(last_activity="2024-05-01T08:00:00Z"), "a.ipynb")]
    assert not is_idle(sessions, NOW, 60, started_at=NOW - timedelta(minutes=5))[0]


def test_recent_terminal_activity_keeps_the_instance() -> None:
    sessions = [session(kernel(last_activity="2024-05-01T08:00:00Z"), "a.ipynb")]
    terminals = [{"name": "1", "last_activity": "2024-05-01T11:58:00.000000Z"}]
    idle, reason = is_idle(sessions, NOW, 60, terminals=terminals)
    assert not idle and "terminal 1" in reason


def test_zero_minutes_turns_the_auto_stop_off() -> None:
    idle, reason = is_idle([], NOW, 0, started_at=NOW - timedelta(days=3))
    assert not idle and "off" in reason


def test_time_zones_are_compared_as_instants() -> None:
    """``now`` in another zone, activity in Z: 10:30Z is 30 minutes before 13:00+02:00."""
    now_in_paris = datetime(2024, 5, 1, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    sessions = [session(kernel(last_activity="2024-05-01T10:30:00.000000Z"), "a.ipynb")]
    assert not is_idle(sessions, now_in_paris, 60)[0]
    assert is_idle(sessions, now_in_paris, 25)[0]


# -- the script ----------------------------------------------------------------------------


def _run(sandbox: Sandbox, url: str, *extra: str, python: str = sys.executable) -> dict:
    done = subprocess.run(
        [
            python,
            str(AUTOSTOP),
            "--idle-minutes",
            "60",
            "--jupyter-url",
            url,
            "--metadata-file",
            str(sandbox.metadata_file),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=sandbox.environment(),
    )
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["exit"] = done.returncode
    return record


def _old(minutes: int) -> str:
    moment = datetime.now(UTC) - timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_idle_server_stops_the_instance_through_the_cli(sandbox: Sandbox) -> None:
    with fake_jupyter_server() as server:
        server.answers = {
            "/api/sessions": [session(kernel(last_activity=_old(120)), "a.ipynb")],
            "/api/kernels": [kernel(last_activity=_old(120))],
            "/api/terminals": [],
        }
        record = _run(
            sandbox, f"http://127.0.0.1:{server.server_address[1]}", "--started-at", _old(300)
        )
    assert record["idle"] and record["exit"] == 0
    [stop] = sandbox.calls("aws")
    expected = ["sagemaker", "stop-notebook-instance", "--notebook-instance-name", NOTEBOOK_NAME]
    assert stop["args"] == [*expected, "--region", "eu-west-1"]


def test_kernels_without_a_session_count(sandbox: Sandbox) -> None:
    """A console's kernel appears in /api/kernels only; its activity must keep the instance."""
    with fake_jupyter_server() as server:
        server.answers = {
            "/api/sessions": [],
            "/api/kernels": [kernel(last_activity=_old(3), id="console")],
            "/api/terminals": [],
        }
        record = _run(
            sandbox, f"http://127.0.0.1:{server.server_address[1]}", "--started-at", _old(300)
        )
    assert not record["idle"]
    assert sandbox.calls("aws") == []


def test_dry_run_decides_without_stopping(sandbox: Sandbox) -> None:
    with fake_jupyter_server() as server:
        server.answers = {"/api/sessions": [], "/api/kernels": [], "/api/terminals": []}
        record = _run(
            sandbox,
            f"http://127.0.0.1:{server.server_address[1]}",
            "--started-at",
            _old(300),
            "--dry-run",
        )
    assert record["idle"] and "stop-notebook-instance" in record["action"]
    assert sandbox.calls("aws") == []


def test_unreachable_server_never_stops(sandbox: Sandbox) -> None:
    with fake_jupyter_server() as server:
        port = server.server_address[1]
    record = _run(sandbox, f"http://127.0.0.1:{port}", "--started-at", _old(300))
    assert record["exit"] == 1 and not record["idle"] and "error" in record
    assert sandbox.calls("aws") == []


def _python_37() -> str | None:
    """A working Python 3.7 (pyenv's shims exist even where the version is not selected)."""
    candidates = [*map(str, sorted(Path.home().glob(".pyenv/versions/3.7*/bin/python3.7")))]
    candidates += [found] if (found := shutil.which("python3.7")) else []
    for candidate in candidates:
        check = subprocess.run(
            [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 7)"],
            capture_output=True,
        )
        if check.returncode == 0:
            return candidate
    return None


PYTHON_37 = _python_37()


@pytest.mark.skipif(PYTHON_37 is None, reason="no Python 3.7 here (Amazon Linux 2's python3)")
def test_runs_on_amazon_linux_2_python(sandbox: Sandbox) -> None:
    with fake_jupyter_server() as server:
        server.answers = {
            "/api/sessions": [session(kernel(last_activity=_old(120)), "a.ipynb")],
            "/api/kernels": [],
            "/api/terminals": [{"name": "1", "last_activity": _old(90)}],
        }
        record = _run(
            sandbox,
            f"http://127.0.0.1:{server.server_address[1]}",
            "--started-at",
            _old(300),
            python=str(PYTHON_37),
        )
    assert record["exit"] == 0 and record["idle"], record
    assert [call["args"][:2] for call in sandbox.calls("aws")] == [
        ["sagemaker", "stop-notebook-instance"]
    ]
