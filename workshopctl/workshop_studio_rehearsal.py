"""``workshopctl workshop-studio-rehearsal`` (``make workshop-studio-rehearsal``): the written
Workshop Studio bundle deployed into emulated participant accounts, as an event deploys it.

For each ``--account`` in turn (a pool is rehearsed one account after another: the emulator's
state is the process's), it serves an emulated account with that id, makes the event bucket and
copies the bundle's ``assets/`` under its prefix, deploys ``static/``'s templates in contentspec
order with the asset parameters filled in (:func:`workshopctl.emulator.rehearsal.start_bundle`),
opens the participant's notebook as the participant role of ``static/iam_policy.json``, then
runs every lab notebook as the notebook's own role. Executed notebooks and the account's calls
go to ``--root/<account>/``. Exit status 1 when anything failed.

What only a real Workshop Studio event proves is listed in the README ("Workshop Studio").
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshop_spec.config import PROJECT_ROOT
from workshopctl.cloud_assembly import ACCOUNT

DEFAULT_BUNDLE = PROJECT_ROOT / "workshop-studio"
DEFAULT_ROOT = PROJECT_ROOT / ".local" / "workshop-studio-rehearsal"


@dataclass
class AccountResult:
    """What one participant account's rehearsal found."""

    account: str
    deploy_seconds: float = 0.0
    summary: str = ""
    participant_opened: bool = False
    labs: dict[str, str] = field(default_factory=dict)  # notebook -> status
    lab_denials: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.participant_opened
            and all(status == "ok" for status in self.labs.values())
            and not self.lab_denials
        )


def rehearse_account(
    bundle: Path, account: str, root: Path, *, labs: bool = True, log=print
) -> AccountResult:
    """Deploy ``bundle`` into emulated account ``account``, open the notebook as the
    participant, run the labs (``labs``), stop the account."""
    from workshopctl.emulator import rehearsal as emulated
    from workshopctl.local.labs_step import execute_notebook, lab_label, notebooks

    result = AccountResult(account)
    folder = root / account
    started = time.perf_counter()
    session = emulated.start_bundle(bundle, folder / "emulator", account=account)
    try:
        result.deploy_seconds = round(time.perf_counter() - started, 1)
        result.summary = session.deployment.summary()
        log(f"{account}: deployed in {result.deploy_seconds} s: {result.summary}")
        sagemaker = session.account.client(
            "sagemaker", "participant", emulated.participant_role_arn(session)
        )
        notebook = session.notebook().name
        url = sagemaker.create_presigned_notebook_instance_url(NotebookInstanceName=notebook)
        result.participant_opened = bool(url.get("AuthorizedUrl"))
        log(f"{account}: the participant role opens {notebook}")
        for path in notebooks() if labs else []:
            settings = session.lab_environment(lab_label(path.stem), folder / "notebook-home")
            run = execute_notebook(path, output_dir=folder / "labs", settings=settings)
            result.labs[run.name] = run.status
            log(f"{account}: {run.name} {run.status} in {run.seconds:.1f} s"
                + (f": {run.error} (see {run.html})" if run.error else ""))  # fmt: skip
        result.lab_denials = [
            f"{label}: {call.operation}"
            for label, call in session.account.log.denials()
            if label.startswith("lab ")
        ]
        (folder / "calls.json").write_text(json.dumps(session.account.log.as_json(), indent=1))
    finally:
        session.stop()
    return result


def add_parser(subparsers: Any) -> None:
    """Register ``workshop-studio-rehearsal`` on ``workshopctl``'s subcommands."""
    parser = subparsers.add_parser(
        "workshop-studio-rehearsal",
        help="deploy the Workshop Studio bundle into emulated participant accounts, run the labs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="the bundle's folder")
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="ID",
        help=f"a participant account id (repeatable: a pool, one after another; default {ACCOUNT})",
    )
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="each account's output folder")
    parser.add_argument("--no-labs", action="store_true", help="deploy and open the notebook only")
    parser.set_defaults(handler=run_rehearsal)


def run_rehearsal(args: argparse.Namespace) -> int:
    from workshopctl.workshop_studio_bundle import BundleReadError

    results = []
    for account in args.account or [ACCOUNT]:
        if not (len(account) == 12 and account.isdigit()):
            print(f"--account {account}: an AWS account id has 12 digits")
            return 2
        try:
            results.append(
                rehearse_account(Path(args.bundle), account, Path(args.root), labs=not args.no_labs)
            )
        except BundleReadError as error:
            print(error)
            return 2
    for result in results:
        labs = f"{sum(s == 'ok' for s in result.labs.values())}/{len(result.labs)} labs ok"
        verdict = "ok" if result.ok else "FAILED"
        denied = f"; denied: {', '.join(result.lab_denials)}" if result.lab_denials else ""
        print(f"{result.account}: {verdict}; deploy {result.deploy_seconds} s; {labs}{denied}")
    return 0 if all(result.ok for result in results) else 1
