#!/usr/bin/env python3
"""The workshop's CDK app: one validated config, one line per stack, the security packs on top.

`npx cdk synth` runs this file; tests call :func:`build_app` with cdk.json's context (what the
CLI would pass) plus their own overrides.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from stacks import nag
from stacks.attendee_environment import AttendeeEnvironmentStack
from stacks.attendee_sign_in import AttendeeSignInStack
from stacks.data_lake import DataLakeStack
from stacks.guardrails import GuardrailsStack
from stacks.model_image import ModelImageStack
from stacks.organiser import OrganiserStack, PoolStack
from stacks.pipelines import PipelinesStack
from stacks.serving import ServingStack
from stacks.synthesizers import stack_synthesizer
from workshop_artifacts.serving_models import build_serving_artifacts
from workshop_spec.config import ConfigError, WorkshopConfig, config_from_context

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context the CDK CLI reads from cdk.json (feature flags and the workshop config)."""
    return dict(json.loads(CDK_JSON.read_text())["context"])


# aws-cdk-lib's built-in CloudFormation validation (on by default since 2.26x) was ~60 % of a
# synth (5-8 s here) and only warns unless `@aws-cdk/core:validateAgainstDefaultRules` is set.
# The gates it would duplicate run elsewhere: cfn-lint on every template of seven configs, and
# the built-in validation itself with that flag on, as errors, in
# tests/infra/test_security_gates.py. So everyday synths (make synth/up/test) skip it.
# https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib-readme.html#validation
TEMPLATE_VALIDATION_BY_DEFAULT = False


def build_app(
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    *,
    template_validation: bool = TEMPLATE_VALIDATION_BY_DEFAULT,
) -> cdk.App:
    """Build (not synthesize) the app. ``context`` None means: as given by the CDK CLI.

    ``template_validation`` runs aws-cdk-lib's built-in CloudFormation validation at synth.
    """
    app = cdk.App(
        context=dict(context) if context is not None else None,
        outdir=outdir,
        builtin_cloud_formation_validation=template_validation,
    )
    try:
        # Validate before any construct exists, so a bad value fails fast with one message.
        config = config_from_context(app.node.get_all_context())
    except ConfigError as error:
        raise SystemExit(f"workshop config is invalid:\n{error}") from None
    add_stacks(app, config)
    nag.add_security_packs(app)
    return app


def stack_options(config: WorkshopConfig) -> dict[str, Any]:
    """The keyword arguments every stack gets: its environment, and its own synthesizer (one
    binds to one stack) unless the config keeps aws-cdk-lib's default, which it then does not
    pass at all, so default templates stay exactly as they were."""
    env = cdk.Environment(account=config.account, region=config.region) if config.account else None
    synthesizer = stack_synthesizer(config)
    return {"env": env} if synthesizer is None else {"env": env, "synthesizer": synthesizer}


def add_stacks(app: cdk.App, config: WorkshopConfig) -> None:
    for key, value in config.tags.items():
        cdk.Tags.of(app).add(key, value)
    if config.accounts == "shared":
        add_workshop_stacks(app, config)
        return
    # accounts=per-attendee: the workshop for one attendee, as every pool account gets it
    # (env-agnostic, assets from the organiser's bucket), then the organiser's own stacks.
    account_stacks = add_workshop_stacks(app, config.account_workshop())
    organiser = OrganiserStack(
        app, config.stack_name("organiser"), config=config, **stack_options(config)
    )
    PoolStack(
        app,
        config.stack_name("pool"),
        config=config,
        organiser=organiser,
        account_stacks=account_stacks,
        **stack_options(config),
    )


def add_workshop_stacks(app: cdk.App, config: WorkshopConfig) -> list[cdk.Stack]:
    """The workshop's stacks for ``config``, each after the stacks it depends on."""
    data_lake = DataLakeStack(
        app, config.stack_name("data-lake"), config=config, **stack_options(config)
    )
    model_image = None
    if config.features.model_image:
        model_image = ModelImageStack(
            app, config.stack_name("model-image"), config=config, **stack_options(config)
        )
    attendee_environment = None
    if config.features.attendee_environment:
        attendee_environment = AttendeeEnvironmentStack(
            app,
            config.stack_name("attendee-environment"),
            config=config,
            data_lake=data_lake,
            model_image=model_image,
            **stack_options(config),
        )
    sign_in = None
    if attendee_environment is not None and config.attendee_environment.sign_in == "iam-users":
        sign_in = AttendeeSignInStack(
            app,
            config.stack_name("attendee-sign-in"),
            config=config,
            attendee_environment=attendee_environment,
            **stack_options(config),
        )
    pipelines = None
    if config.features.pipelines:
        pipelines = PipelinesStack(
            app,
            config.stack_name("pipelines"),
            config=config,
            data_lake=data_lake,
            model_image=model_image,
            **stack_options(config),
        )
    serving = None
    if config.features.serving and model_image is not None:
        serving = ServingStack(
            app,
            config.stack_name("serving"),
            config=config,
            data_lake=data_lake,
            model_image=model_image,
            artifacts=build_serving_artifacts(),
            **stack_options(config),
        )
    if config.features.guardrails:
        guardrails = GuardrailsStack(
            app,
            config.stack_name("guardrails"),
            config=config,
            data_lake=data_lake,
            attendee_environment=attendee_environment,
            **stack_options(config),
        )
    stacks = [
        stack
        for stack in (data_lake, model_image, attendee_environment, sign_in, pipelines, serving)
        if stack is not None
    ]
    if config.features.guardrails:
        # Deleted first on `cdk destroy --all`: its janitor empties what the others hold.
        for stack in stacks:
            guardrails.add_dependency(stack)
        stacks.append(guardrails)
    return stacks


def main() -> None:
    # Under the CDK CLI the context (cdk.json + `-c`) arrives in the environment; run directly
    # (`python app.py`, as the local target does) the app reads cdk.json itself.
    standalone = "CDK_OUTDIR" not in os.environ
    app = build_app(
        cdk_json_context() if standalone else None, outdir="cdk.out" if standalone else None
    )
    assembly = app.synth()
    nag.write_acknowledgements(app, assembly.directory)


if __name__ == "__main__":
    main()
