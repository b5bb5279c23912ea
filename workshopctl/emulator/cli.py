"""``workshopctl emulator``: serve the emulated account of a cloud assembly on localhost.

    python -m workshopctl emulator                # serve cdk.out until Ctrl-C
    python -m workshopctl emulator --labs-environment   # print what the labs' helper reads, exit

Serving prints the shell settings that make any boto3 program, SDK script or notebook kernel
act as the first attendee's notebook role against it (``export AWS_ENDPOINT_URL=...``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT

# What the labs' helper makes of its settings, read by the helper itself in a fresh process.
READ_ENVIRONMENT = """
import dataclasses, json, sys
sys.path.insert(0, sys.argv[1])
import workshop
print(json.dumps(dataclasses.asdict(workshop.environment())))
"""


def labs_environment(session, index: int = 0) -> dict:
    """The helper's Environment as a notebook kernel of attendee ``index`` reads it."""
    with tempfile.TemporaryDirectory() as home:
        settings = session.lab_environment("labs environment", Path(home), index)
        finished = subprocess.run(
            [sys.executable, "-c", READ_ENVIRONMENT, str(PROJECT_ROOT / "labs")],
            env=settings,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(finished.stdout)


def _emulator(args: argparse.Namespace) -> int:
    from workshopctl.emulator import rehearsal

    session = rehearsal.start(Path(args.cdk_out), Path(args.workdir))
    try:
        if args.labs_environment:
            print(json.dumps(labs_environment(session, args.attendee), indent=2, sort_keys=True))
            return 0
        print(f"emulated account for {args.cdk_out} at {session.account.url}")
        print(session.deployment.summary())
        print("\n# act as the attendee's notebook role in this shell:")
        settings = session.lab_environment("shell", Path(args.workdir) / "shell", args.attendee)
        for key, value in settings.items():
            print(f"export {key}={shlex.quote(value)}")
        print("\n(Ctrl-C stops it; every call is in the report at exit)")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        session.account.log.write(Path(args.workdir) / "api-calls.json")
        session.stop()


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "emulator", help="serve the cloud assembly's emulated AWS account on localhost"
    )
    parser.add_argument("--cdk-out", default=str(PROJECT_ROOT / "cdk.out"))
    parser.add_argument("--workdir", default=str(PROJECT_ROOT / ".local" / "emulator"))
    parser.add_argument("--attendee", type=int, default=0, help="which attendee's role (0: first)")
    parser.add_argument(
        "--labs-environment",
        action="store_true",
        help="print the labs' settings as a notebook of the attendee reads them, then exit",
    )
    parser.set_defaults(handler=_emulator)
