"""Options every account-facing command of ``workshopctl`` takes, written once."""

from __future__ import annotations

import argparse


def add_region(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: the config's, then the shell's)")


def add_account_options(parser: argparse.ArgumentParser, *, cdk_verb: str = "deploy") -> None:
    """``--region`` and ``-c KEY=VALUE`` (workshop config keys, as the CDK CLI takes them)."""
    add_region(parser)
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a workshop config key, as for `cdk {cdk_verb} -c` (repeatable)",
    )


def context_overrides(args: argparse.Namespace) -> dict[str, str]:
    """The ``-c KEY=VALUE`` pairs as config overrides; a pair without ``=`` is refused."""
    overrides = {}
    for pair in args.context:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"-c {pair}: use KEY=VALUE")
        overrides[key] = value
    return overrides
