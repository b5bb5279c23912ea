"""The gates every stack rides on: the three cdk-nag packs, cfn-lint and aws-cdk-lib's own
template validation (with its rules as errors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from stacks import nag
from tests.infra.pool_configs import PER_ATTENDEE
from workshop_spec.config import PROJECT_ROOT


def test_cdk_template_validation_passes_as_errors(tmp_path):
    """The app skips aws-cdk-lib's built-in validation on everyday synths (app.py says why);
    here it runs on the default config with its default rules as errors."""
    import json

    import app as workshop_app

    context = workshop_app.cdk_json_context()
    context["@aws-cdk/core:validateAgainstDefaultRules"] = True
    app = workshop_app.build_app(context, outdir=str(tmp_path), template_validation=True)
    app.synth()  # raises ValidationFailed on any finding
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [r["violations"] for r in report["pluginReports"] if r["violations"]] == []


def test_cdk_template_validation_catches_an_invalid_template(tmp_path):
    """The control for the test above: the same switch refuses a template CloudFormation would."""
    app = cdk.App(
        outdir=str(tmp_path),
        builtin_cloud_formation_validation=True,
        context={"@aws-cdk/core:validateAgainstDefaultRules": True},
    )
    stack = cdk.Stack(app, "Invalid")
    cdk.CfnResource(stack, "Bucket", type="AWS::S3::Bucket", properties={"NoSuchProperty": "x"})
    with pytest.raises(Exception, match=r"ValidationFailed|NoSuchProperty"):
        app.synth()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"retention": "retain"},
        {"model_image__build": "docker"},
        # the same configs as tests/infra/test_attendee_environment.py: synthesized once
        {"attendees": ["ada", "grace", "linus"], "attendee_environment__network": "direct"},
        {"attendees": ["ada", "grace", "linus"], "attendee_environment__permissions": "seed"},
        {"attendees": ["ada", "grace", "linus"], "attendee_environment__environment": "studio"},
        {"serving__byom_serverless": True},
        PER_ATTENDEE,  # the pool accounts' stacks and the organiser's
    ],
    ids=[
        "destroy",
        "retain",
        "docker-image",
        "direct-network",
        "seed-permissions",
        "studio",
        "serverless-byom",
        "per-attendee",
    ],
)
def test_cfn_lint_reports_nothing(synth, overrides):
    files = synth(**overrides).template_files
    assert files
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *map(str, files)],
        cwd=PROJECT_ROOT,  # picks up .cfnlintrc, which lists each disabled rule with why
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_an_unacknowledged_finding_fails_synth(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Insecure")
    s3.Bucket(stack, "PlainBucket")  # no TLS policy, no logging, no KMS
    nag.add_security_packs(app)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    for finding in (
        "AwsSolutions-S10",
        "NIST.800.53.R5-S3BucketSSLRequestsOnly",
        "HIPAA.Security-S3DefaultEncryptionKMS",
    ):
        assert finding in report


def test_every_acknowledgement_names_a_finding_and_gives_a_reason(synth):
    acknowledgements = synth().acknowledgements
    assert acknowledgements
    for item in acknowledgements:
        assert item.finding.split("-")[0] in ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security")
        assert len(item.reason) >= 60, f"{item.path} {item.finding}: reason too thin"


def test_no_finding_is_acknowledged_stack_wide(synth, templates):
    """Acknowledgements sit beside the resource they excuse, never on a whole stack or app."""
    for item in synth().acknowledgements:
        assert item.path.count("/") >= 1, f"{item.finding} acknowledged on {item.path}"


def test_acknowledging_needs_a_real_reason():
    app = cdk.App()
    with pytest.raises(ValueError, match="reason"):
        nag.acknowledge(cdk.Stack(app, "S"), "ok", "AwsSolutions-S1")
