"""``workshopctl workshop-studio`` (what ``make workshop-studio`` runs): an AWS Workshop Studio
content bundle of the workshop, for events where every participant gets an account of their own.

It synthesizes the same app as ``make synth`` (``python app.py``, the security packs running
inside synth) with the bundle's config switches (:data:`BUNDLE_CONTEXT`): the
``workshop-studio`` synthesizer, whose templates read every asset from the event bucket through
the ``AssetsBucketName``/``AssetsBucketPrefix`` parameters and need no CDK bootstrap; one
participant per account; no IAM sign-in users (Workshop Studio signs the participant in); no
guardrails stack (the account is recycled at the event's end). cfn-lint then checks every
template, and the bundle is written to ``workshop-studio/``::

    contentspec.yaml            version 2.0: the templates with their parameters (defaults are
                                Workshop Studio's variables), the outputs participants see, the
                                participant role and the quotas the labs need
    static/<stack>.template.json  the templates, in deploy order
    static/iam_policy.json      the participant role's policy (workshop_studio_access.py)
    assets/<key>                every file asset, to upload to the workshop's asset prefix
    content/                    a start page with the first steps, a page per lab

What Workshop Studio's schema requires is known from public workshop repositories, not from its
(private) authoring guide: README "Workshop Studio" lists what to confirm in a test event.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from workshop_spec.config import PROJECT_ROOT, WorkshopConfig, load_project_config
from workshopctl import workshop_studio_templates as templates
from workshopctl.cli_options import context_overrides
from workshopctl.cloud_assembly import ACCOUNT
from workshopctl.handout import first_steps, outputs_from_cdk_out, sheets_from_outputs
from workshopctl.local.synth_step import lint
from workshopctl.workshop_studio_access import participant_policy, required_resources
from workshopctl.workshop_studio_content import lab_pages, write_content

DEFAULT_OUT = PROJECT_ROOT / "workshop-studio"
ASSEMBLY = PROJECT_ROOT / ".cache" / "workshop-studio" / "cdk.out"
LABS = PROJECT_ROOT / "labs"
PARTICIPANT = "participant"
# The event's region when the config names none: Workshop Studio deploys the templates there.
DEFAULT_REGION = "us-east-1"
# The labs' kernel on the notebook platform (workshop_spec/platforms.yaml, notebook-al2023).
LAB_KERNEL = "conda_python3"
# The config switches of a Workshop Studio account (see the module docstring); `-c` overrides
# given to the command apply on top.
BUNDLE_CONTEXT: dict[str, Any] = {
    "synthesizer": "workshop-studio",
    "attendees": [PARTICIPANT],
    "attendee_environment.sign_in": "none",
    "features.guardrails": False,
}


@dataclass(frozen=True)
class Bundle:
    """What was written: the folder, the templates in deploy order, the assets and pages."""

    folder: Path
    stacks: list[str]
    assets: int
    asset_bytes: int
    pages: int


def bundle_context(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config keys the bundle's synth runs with: the bundle's switches, then ``overrides``."""
    return {**BUNDLE_CONTEXT, **(overrides or {})}


def synthesize(assembly: Path, context: dict[str, Any]) -> None:
    """Run the app (``python app.py``, as the CDK CLI runs it) into ``assembly``."""
    cdk_context = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    shutil.rmtree(assembly, ignore_errors=True)
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        # The CDK CLI hands an app its context and output folder through these two variables:
        # https://docs.aws.amazon.com/cdk/v2/guide/context.html
        "CDK_CONTEXT_JSON": json.dumps({**cdk_context, **context}),
        "CDK_OUTDIR": str(assembly),
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise templates.BundleError(f"synth failed:\n{result.stdout}\n{result.stderr}")


def write_bundle(assembly: Path, out: Path, config: WorkshopConfig, region: str) -> Bundle:
    """Check the synthesized templates and write the bundle into ``out`` (replaced)."""
    stacks = templates.stacks_in_deploy_order(assembly)
    found = templates.problems(stacks)
    findings = lint([stack.path for stack in stacks])
    if findings:
        found.append(f"cfn-lint:\n{findings}")
    if found:
        raise templates.BundleError(
            "the templates cannot go to Workshop Studio:\n" + "\n".join(found)
        )
    shutil.rmtree(out, ignore_errors=True)
    static = out / "static"
    static.mkdir(parents=True)
    for stack in stacks:
        shutil.copyfile(stack.path, static / stack.path.name)
    policy = participant_policy(config, PARTICIPANT)
    (static / "iam_policy.json").write_text(json.dumps(policy, indent=2) + "\n")
    written = [
        templates.write_asset(asset, out / "assets") for asset in templates.assets(assembly, stacks)
    ]
    spec = content_spec(stacks, config, assembly, region)
    (out / "contentspec.yaml").write_text(
        CONTENT_SPEC_HEADER + yaml.safe_dump(spec, sort_keys=False)
    )
    pages = write_content(
        out / "content",
        participant_steps(
            assembly,
            region,
            nightly_stop=config.features.guardrails
            and config.guardrails.nightly_notebook_stop is not None,
        ),
        lab_pages(LABS),
        LAB_KERNEL,
    )
    return Bundle(
        folder=out,
        stacks=[stack.name for stack in stacks],
        assets=len(written),
        asset_bytes=sum(path.stat().st_size for path in written),
        pages=pages,
    )


CONTENT_SPEC_HEADER = """\
# Written by `make workshop-studio` (workshopctl/workshop_studio.py): edit the workshop config
# or the code, not this file. requiredResources lists the quotas the deploy and the labs consume
# in one participant's account (workshopctl/quotas.yaml; `make preflight` explains each number).
"""


def content_spec(
    stacks: list[templates.StackTemplate], config: WorkshopConfig, assembly: Path, region: str
) -> dict[str, Any]:
    """contentspec.yaml as data: the account's configuration and the templates to deploy."""
    return {
        "version": 2.0,
        "defaultLocaleCode": "en-US",
        "localeCodes": ["en-US"],
        "awsAccountConfig": {
            "accountSources": ["WorkshopStudio"],
            "regionConfiguration": {
                "minAccessibleRegions": 1,
                "maxAccessibleRegions": 1,
                "deployableRegions": {"required": [region]},
            },
            "participantRole": {"iamPolicies": ["static/iam_policy.json"], "managedPolicies": []},
            "requiredResources": required_resources(config, assembly),
        },
        "infrastructure": {
            "cloudformationTemplates": [
                {
                    "templateLocation": f"static/{stack.path.name}",
                    "label": stack.name,
                    "parameters": [
                        {
                            "templateParameter": name,
                            "defaultValue": templates.WORKSHOP_STUDIO_VARIABLES[name],
                        }
                        for name in stack.parameters
                    ],
                    "participantVisibleStackOutputs": stack.people_outputs,
                }
                for stack in stacks
            ]
        },
    }


def participant_steps(assembly: Path, region: str, *, nightly_stop: bool) -> list[str]:
    """The hand-out's first steps for the participant, from the templates' Handout outputs.

    The outputs are resolved for a placeholder account; the S3 prefixes name their bucket by
    the ``CuratedBucketName`` output, which the participant sees among the event's outputs.
    """
    sheets, _ = sheets_from_outputs(outputs_from_cdk_out(assembly, ACCOUNT, region))
    sheet = next((s for s in sheets if s.attendee == PARTICIPANT), None)
    if sheet is None:
        raise templates.BundleError(f"no Handout{PARTICIPANT} output in the templates")
    bucket = re.compile(r"^s3://[^/]+/")
    sheet = replace(
        sheet,
        own_prefix=bucket.sub("s3://<CuratedBucketName>/", sheet.own_prefix),
        scratch_prefix=bucket.sub("s3://<CuratedBucketName>/", sheet.scratch_prefix),
    )
    return first_steps(sheet, stops_at_night=nightly_stop)


# -- the command ---------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    """Register ``workshop-studio`` on ``workshopctl``'s subcommands."""
    parser = subparsers.add_parser(
        "workshop-studio",
        help="write an AWS Workshop Studio content bundle (templates without CDK bootstrap)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the bundle's folder (replaced)")
    parser.add_argument(
        "--region",
        help=f"the event's region (default: the config's region, else {DEFAULT_REGION})",
    )
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a workshop config key for the bundle's synth (repeatable)",
    )
    parser.set_defaults(handler=run_workshop_studio)


def run_workshop_studio(args: argparse.Namespace) -> int:
    context = bundle_context(context_overrides(args))
    config = load_project_config(context)  # a bad key fails here, before the synth
    region = args.region or config.region or DEFAULT_REGION
    try:
        synthesize(ASSEMBLY, context)
        bundle = write_bundle(ASSEMBLY, Path(args.out), config, region)
    except templates.BundleError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Workshop Studio bundle in {bundle.folder} (region {region}):")
    print(f"  {len(bundle.stacks)} templates, no CDK bootstrap: {', '.join(bundle.stacks)}")
    size = f"{bundle.asset_bytes / 1e6:.1f} MB"
    print(f"  {bundle.assets} assets, {size}: upload assets/ to the workshop's asset prefix")
    print(f"  {bundle.pages} content pages; participant policy static/iam_policy.json")
    return 0
