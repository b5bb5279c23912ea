"""``python -m workshopctl``: the organiser's commands (all but ``janitor``, ``deploy``,
``destroy``, ``residue`` and a live ``preflight`` need no AWS account)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import yaml

from workshop_spec import platforms
from workshop_spec.config import ConfigError, load_project_config
from workshopctl.deploy import add_parser as add_deploy_command
from workshopctl.destroy import add_parser as add_destroy_command
from workshopctl.emulator.cli import add_parser as add_emulator_command
from workshopctl.handout import add_parser as add_handout_command
from workshopctl.janitor_cli import add_parser as add_janitor_commands
from workshopctl.local.runner import DEFAULT_ROOT, all_steps, run
from workshopctl.local.synth_step import CDK_OUT
from workshopctl.local.workspace import Workspace
from workshopctl.pool import add_parser as add_pool_command
from workshopctl.preflight import add_parser as add_preflight_command
from workshopctl.residue import add_parser as add_residue_command
from workshopctl.smoke import add_parser as add_smoke_command
from workshopctl.workshop_studio import add_parser as add_workshop_studio_command
from workshopctl.workshop_studio_rehearsal import add_parser as add_bundle_rehearsal_command


def _up(args: argparse.Namespace) -> int:
    load_project_config()  # a bad cdk.json fails here, before any work
    # A rehearsal is weeks before an event: say now which runtime retires before it may happen.
    for warning in platforms.warnings(date.today()):
        print(f"WARNING {warning}")
    steps = all_steps()
    if args.only:
        wanted = [word.lower() for word in args.only]
        steps = [s for s in steps if any(w in s.name.lower() for w in wanted)]
        if not steps:
            print(f"no step matches {args.only}; steps: {[s.name for s in all_steps()]}")
            return 2
    _, failure = run(steps, Workspace(Path(args.root)))
    return 1 if failure else 0


def _down(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if root.exists():
        Workspace(root).remove()
        print(f"removed {root}")
    else:
        print(f"nothing to remove: {root} does not exist")
    return 0


def _nag_report(_: argparse.Namespace) -> int:
    path = CDK_OUT / "nag-acknowledgements.json"
    if not path.exists():
        print("no acknowledgements file: run `make synth` first")
        return 1
    rows = json.loads(path.read_text())
    for row in rows:
        print(f"{row['path']}\n  {row['finding']}\n  reason: {row['reason']}\n")
    print(f"{len(rows)} acknowledgements (cdk-nag AwsSolutions, NIST 800-53 rev 5, HIPAA Security)")
    return 0


def _config(_: argparse.Namespace) -> int:
    print(yaml.safe_dump(load_project_config().model_dump(mode="json"), sort_keys=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workshopctl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="rehearse the whole workshop on this machine")
    up.add_argument("--only", nargs="+", help="run only the steps whose name contains a word")
    up.add_argument("--root", default=str(DEFAULT_ROOT), help="local state folder")
    up.set_defaults(handler=_up)
    down = commands.add_parser("down", help="remove all local state of the local target")
    down.add_argument("--root", default=str(DEFAULT_ROOT))
    down.set_defaults(handler=_down)
    commands.add_parser("nag-report", help="list every cdk-nag acknowledgement").set_defaults(
        handler=_nag_report
    )
    commands.add_parser("config", help="print the effective workshop config").set_defaults(
        handler=_config
    )
    add_janitor_commands(commands)
    add_deploy_command(commands)
    add_preflight_command(commands)
    add_destroy_command(commands)
    add_emulator_command(commands)
    add_residue_command(commands)
    add_handout_command(commands)
    add_smoke_command(commands)
    add_workshop_studio_command(commands)
    add_pool_command(commands)
    add_bundle_rehearsal_command(commands)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"workshop config is invalid:\n{error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
