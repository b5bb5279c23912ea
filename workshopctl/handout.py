"""``workshopctl handout`` (what ``make handout`` runs): the sheet each attendee gets, as HTML (one
page per attendee, for printing or mailing) and CSV (for a mail merge).

Each row is an attendee's way in (the account's sign-in page, their user name, where their first
password is) and their workspace (notebook or Studio profile, its console link, their S3
prefix), with the first steps. Every value comes from the stacks' outputs ``Handout<attendee>``
and ``SignIn<attendee>``, never from the config: by default as CloudFormation returns them for
the deployed stacks (DescribeStacks), or with ``--offline`` from ``cdk.out`` resolved for an
account (``workshopctl/cloud_assembly.py``), to preview the sheet before a deploy.

Passwords stay in Secrets Manager unless ``--passwords`` reads them into the sheet (files then
readable by their owner only); the sheet otherwise names each password's secret, which the
organiser reads with ``aws secretsmanager get-secret-value --secret-id <arn>``.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workshop_spec.config import PROJECT_ROOT, load_project_config
from workshopctl.cli_options import add_region
from workshopctl.cloud_assembly import ACCOUNT, CloudAssembly

CDK_OUT = PROJECT_ROOT / "cdk.out"
DEFAULT_OUT = PROJECT_ROOT / "handout"
CSV_COLUMNS = (
    "attendee", "sign_in_url", "user_name", "password", "workspace", "workspace_url",
    "own_prefix", "scratch_prefix",
)  # fmt: skip


class HandoutError(RuntimeError):
    """The outputs cannot make a sheet (stacks not deployed, an attendee without sign-in)."""


@dataclass(frozen=True)
class Sheet:
    """One attendee's way in and workspace, as the stacks' outputs say."""

    attendee: str
    workspace_kind: str  # "notebook" or "Studio user profile"
    workspace: str
    workspace_url: str
    own_prefix: str
    scratch_prefix: str
    sign_in_url: str | None = None
    user_name: str | None = None
    password_secret_arn: str | None = None
    password: str | None = None

    @property
    def password_hint(self) -> str:
        """What the sheet prints in the password's place."""
        if self.password is not None:
            return self.password
        if self.password_secret_arn:
            return f"in Secrets Manager: {self.password_secret_arn} (key 'password')"
        return "from the organiser (no sign-in users: attendee_environment.sign_in=none)"


# -- from outputs to sheets ---------------------------------------------------------------------
def sheets_from_outputs(
    outputs: Mapping[str, Mapping[str, Any]],
) -> tuple[list[Sheet], dict[str, Any]]:
    """The attendees' sheets and the shared names, from every stack's outputs by key."""
    handouts: dict[str, dict] = {}
    sign_ins: dict[str, dict] = {}
    shared: dict[str, Any] = {}
    for stack_outputs in outputs.values():
        for key, value in stack_outputs.items():
            if key == "HandoutShared":
                shared = _json(key, value)
            elif key.startswith("Handout"):
                entry = _json(key, value)
                handouts[entry["attendee"]] = entry
            elif key.startswith("SignIn"):
                entry = _json(key, value)
                sign_ins[entry["attendee"]] = entry
    if not handouts:
        raise HandoutError(
            "no Handout<attendee> output in the stacks: is the attendee environment deployed?"
        )
    strays = sorted(set(sign_ins) - set(handouts))
    if strays:
        raise HandoutError(f"sign-in users without a workspace: {', '.join(strays)}")
    sheets = []
    for attendee in sorted(handouts):
        handout, sign_in = handouts[attendee], sign_ins.get(attendee, {})
        studio = "studio_user_profile" in handout
        sheets.append(
            Sheet(
                attendee=attendee,
                workspace_kind="Studio user profile" if studio else "notebook",
                workspace=handout["studio_user_profile" if studio else "notebook"],
                workspace_url=handout["url"],
                own_prefix=handout["own_prefix"],
                scratch_prefix=handout["scratch_prefix"],
                sign_in_url=sign_in.get("sign_in_url"),
                user_name=sign_in.get("user_name"),
                password_secret_arn=sign_in.get("password_secret_arn"),
            )
        )
    return sheets, shared


def _json(key: str, value: Any) -> dict:
    try:
        return json.loads(value) if isinstance(value, str) else dict(value)
    except ValueError as error:
        raise HandoutError(f"output {key} is not the JSON the stacks write: {error}") from None


def outputs_from_cdk_out(cdk_out: Path, account: str, region: str) -> dict[str, dict[str, Any]]:
    """The outputs ``cdk.out`` would give once deployed into ``account``/``region``."""
    if not (Path(cdk_out) / "manifest.json").exists():
        raise HandoutError(f"no cloud assembly in {cdk_out}: run `make synth` first")
    return CloudAssembly(cdk_out, account=account, region=region).outputs()


def outputs_from_account(cloudformation: Any, stack_names: Iterable[str]) -> dict[str, dict]:
    """The deployed stacks' outputs (DescribeStacks); a stack that is not deployed is skipped,
    and none deployed is an error."""
    outputs = {}
    for name in stack_names:
        try:
            (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            if "does not exist" in str(error):
                continue
            raise
        outputs[name] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if not outputs:
        raise HandoutError("none of the workshop's stacks is deployed here: run `make deploy`")
    return outputs


def with_passwords(sheets: list[Sheet], secretsmanager: Any) -> list[Sheet]:
    """The sheets with each first password read from its secret (the organiser's rights)."""
    filled = []
    for sheet in sheets:
        if not sheet.password_secret_arn:
            filled.append(sheet)
            continue
        secret = secretsmanager.get_secret_value(SecretId=sheet.password_secret_arn)
        password = json.loads(secret["SecretString"])["password"]
        filled.append(Sheet(**{**asdict(sheet), "password": password}))
    return filled


# -- the files ----------------------------------------------------------------------------------
def first_steps(sheet: Sheet, *, stops_at_night: bool = True) -> list[str]:
    """What the attendee does, in order, from the sheet alone.

    ``stops_at_night`` says whether a nightly stop (the guardrails stack's) may have stopped
    the notebook; the idle auto-stop of its lifecycle is always there.
    """
    stopped_when = "when idle and at night" if stops_at_night else "when idle"
    steps = []
    if sheet.user_name:
        steps.append(
            f"Open {sheet.sign_in_url} and sign in as {sheet.user_name} with the password "
            "below; choose a new password when asked (the first one works once)."
        )
    if sheet.workspace_kind == "notebook":
        steps += [
            f"Open {sheet.workspace_url} : JupyterLab opens on your notebook {sheet.workspace}. "
            f"If it says the notebook is stopped (it stops itself {stopped_when}), choose "
            "Start in the console's list of notebook instances, wait until it is InService "
            "(about 5 minutes), then Open JupyterLab.",
            "In JupyterLab, open labs/1-overview.ipynb (kernel conda_python3) and run it top "
            "to bottom: it shows what was deployed for you. Then the labs in order, 2 to 7.",
        ]
    else:
        steps += [
            f"Open {sheet.workspace_url} and launch Studio as {sheet.workspace}; open "
            "JupyterLab in your space.",
            "Open labs/1-overview.ipynb and run it top to bottom; then the labs in order.",
        ]
    steps.append(
        f"Your own S3 prefix is {sheet.own_prefix}; {sheet.scratch_prefix} is shared with "
        "everyone. Each lab ends with a clean-up cell: run it before you leave."
    )
    return steps


def write_csv(path: Path, sheets: list[Sheet]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for sheet in sheets:
            row = {**asdict(sheet), "password": sheet.password_hint}
            writer.writerow({column: row.get(column) or "" for column in CSV_COLUMNS})


def render_html(sheets: list[Sheet], shared: Mapping[str, Any], title: str) -> str:
    escape = html.escape
    shared_rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(str(value))}</td></tr>"
        for key, value in shared.items()
    )
    pages = []
    for sheet in sheets:
        way_in = [
            ("Sign-in page", sheet.sign_in_url or "-"),
            ("User name", sheet.user_name or "-"),
            ("Password", sheet.password_hint),
            (f"Your {sheet.workspace_kind}", sheet.workspace),
            ("Its link", sheet.workspace_url),
        ]
        rows = "".join(
            f"<tr><th>{escape(label)}</th><td><code>{escape(value)}</code></td></tr>"
            for label, value in way_in
        )
        steps = "".join(f"<li>{escape(step)}</li>" for step in first_steps(sheet))
        pages.append(
            f'<section class="attendee"><h2>{escape(title)}: {escape(sheet.attendee)}</h2>'
            f"<table>{rows}</table><h3>First steps</h3><ol>{steps}</ol>"
            f"<h3>What everyone shares</h3><table>{shared_rows}</table></section>"
        )
    style = (
        "body{font-family:sans-serif;max-width:50em;margin:auto}"
        "th{text-align:left;padding-right:1em;vertical-align:top}"
        "code{word-break:break-all}"
        ".attendee{page-break-after:always;margin-bottom:3em}"
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(pages)}</body></html>\n"
    )


def write_sheets(
    out: Path, sheets: list[Sheet], shared: Mapping[str, Any], title: str
) -> tuple[Path, Path]:
    """``handout.html`` and ``attendees.csv`` in ``out``; owner-only when they hold passwords."""
    out.mkdir(parents=True, exist_ok=True)
    html_path, csv_path = out / "handout.html", out / "attendees.csv"
    secret = any(sheet.password is not None for sheet in sheets)
    for path in (html_path, csv_path):
        path.touch(mode=0o600 if secret else 0o644, exist_ok=True)
        if secret:
            os.chmod(path, 0o600)
    html_path.write_text(render_html(sheets, shared, title), encoding="utf-8")
    write_csv(csv_path, sheets)
    return html_path, csv_path


# -- the command --------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    """Register ``handout`` on ``workshopctl``'s subcommands."""
    parser = subparsers.add_parser(
        "handout",
        help="write each attendee's sheet (HTML and CSV): sign-in, notebook, first steps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_region(parser)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the two files")
    parser.add_argument("--cdk-out", default=str(CDK_OUT), help="the synthesized cloud assembly")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="read the outputs from cdk.out instead of the deployed stacks (a preview: the "
        "account is the config's or --account, secret ARNs lack their random suffix)",
    )
    parser.add_argument("--account", help="with --offline: the account to resolve cdk.out for")
    parser.add_argument(
        "--passwords",
        action="store_true",
        help="read each first password from Secrets Manager into the sheet (files owner-only)",
    )
    parser.set_defaults(handler=run_handout)


def _stack_names(cdk_out: Path) -> list[str]:
    """The stacks to read: those of the cloud assembly (the one place that names them)."""
    if not (cdk_out / "manifest.json").exists():
        raise HandoutError(f"no cloud assembly in {cdk_out}: run `make synth` first")
    return list(CloudAssembly(cdk_out).stack_names.values())


def run_handout(args: argparse.Namespace, *, session: Any = None) -> int:
    """0: written; 2: the outputs cannot make a sheet or AWS cannot be reached."""
    config = load_project_config()
    if args.offline and args.passwords:
        print("handout: --passwords reads deployed secrets: not with --offline", file=sys.stderr)
        return 2
    try:
        if args.offline:
            region = args.region or config.region or os.environ.get("AWS_REGION") or "eu-west-1"
            account = args.account or config.account or ACCOUNT
            outputs = outputs_from_cdk_out(Path(args.cdk_out), account, region)
            source = f"{args.cdk_out} resolved for {account}/{region} (preview)"
        else:
            session = session or boto3.Session(region_name=args.region or config.region)
            region = args.region or config.region or session.region_name
            cloudformation = session.client("cloudformation", region_name=region)
            outputs = outputs_from_account(cloudformation, _stack_names(Path(args.cdk_out)))
            source = f"the stacks deployed in {region}"
        sheets, shared = sheets_from_outputs(outputs)
        if args.passwords:
            sheets = with_passwords(sheets, session.client("secretsmanager", region_name=region))
    except (HandoutError, BotoCoreError, ClientError) as error:
        print(f"handout: {error}", file=sys.stderr)
        return 2
    title = f"Architecting ML on AWS ({config.prefix})"
    html_path, csv_path = write_sheets(Path(args.out), sheets, shared, title)
    signed = sum(sheet.user_name is not None for sheet in sheets)
    print(f"hand-out for {len(sheets)} attendees ({signed} with a sign-in user), from {source}:")
    print(f"  {html_path}\n  {csv_path}")
    if args.passwords:
        print("  these files hold first passwords: hand them out, then delete them")
    return 0
