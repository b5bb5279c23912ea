"""`make workshop-studio`: a bundle Workshop Studio can deploy into an account with no CDK
bootstrap, its templates passing the security packs and cfn-lint, every asset where the
templates read it."""

from __future__ import annotations

import json
import re

import yaml

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.synth_step import lint
from workshopctl.workshop_studio_templates import (
    BOOTSTRAP_MARKERS,
    MAX_TEMPLATES,
    WORKSHOP_STUDIO_VARIABLES,
    StackTemplate,
    problems,
)


def _spec(bundle) -> dict:
    return yaml.safe_load((bundle.folder / "contentspec.yaml").read_text())


def _templates(bundle) -> dict[str, str]:
    static = bundle.folder / "static"
    return {path.name: path.read_text() for path in static.glob("*.template.json")}


def test_templates_need_no_cdk_bootstrap(bundle):
    templates = _templates(bundle)
    assert len(templates) == len(bundle.stacks) == MAX_TEMPLATES
    for name, text in templates.items():
        assert not BOOTSTRAP_MARKERS.search(text), name
        template = json.loads(text)
        assert "Rules" not in template, name  # CheckBootstrapVersion is the CDK's only rule
        assert set(template.get("Parameters", {})) <= set(WORKSHOP_STUDIO_VARIABLES), name


def test_the_bootstrap_check_would_catch_a_default_template():
    # What aws-cdk-lib's DefaultStackSynthesizer writes into every template and asset location.
    default = {
        "Parameters": {"BootstrapVersion": {"Default": "/cdk-bootstrap/hnb659fds/version"}},
        "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}},
        "Role": "arn:aws:iam::1:role/cdk-hnb659fds-cfn-exec-role-1-eu-west-1",
    }
    found = {match.group(0) for match in BOOTSTRAP_MARKERS.finditer(json.dumps(default))}
    assert {"BootstrapVersion", "cdk-hnb659fds-assets", "cdk-hnb659fds-cfn-exec-role"} <= found


def test_the_checks_refuse_the_default_synth_which_needs_the_bootstrap(synth):
    default = synth()  # the shared default-config synthesis of the test session
    stacks = [
        StackTemplate(path.name.removesuffix(".template.json"), path, json.loads(path.read_text()))
        for path in default.template_files
    ]
    found = problems(stacks)
    assert any("7 templates" in line for line in found)
    for stack in stacks:
        assert any(line.startswith(f"{stack.name}: refers to the CDK bootstrap") for line in found)


def test_security_packs_ran_at_synth_and_cfn_lint_is_clean(bundle, bundle_assembly):
    # The packs are validation plugins of the app: an unacknowledged finding fails the synth
    # the bundle fixture ran; its report then lists it, so an empty report means none.
    report = json.loads((bundle_assembly / "validation-report.json").read_text())
    assert report["pluginReports"] == []
    acknowledged = json.loads((bundle_assembly / "nag-acknowledgements.json").read_text())
    assert any("<AssetsBucketName>" in row["finding"] for row in acknowledged), (
        "the asset-bucket wildcard is acknowledged for the event bucket, not the bootstrap's"
    )
    assert lint(sorted((bundle.folder / "static").glob("*.template.json"))) == ""


def test_contentspec_passes_workshop_studio_variables_to_every_template_parameter(bundle):
    spec = _spec(bundle)
    assert spec["version"] == 2.0
    entries = spec["infrastructure"]["cloudformationTemplates"]
    assert len(entries) <= MAX_TEMPLATES
    assert [entry["label"] for entry in entries] == bundle.stacks  # deploy order
    for entry in entries:
        template = json.loads((bundle.folder / entry["templateLocation"]).read_text())
        given = {p["templateParameter"]: p["defaultValue"] for p in entry["parameters"]}
        assert set(given) == set(template.get("Parameters", {}))
        assert given == {name: WORKSHOP_STUDIO_VARIABLES[name] for name in given}
        outputs = template.get("Outputs", {})
        for key in entry["participantVisibleStackOutputs"]:
            assert "Export" not in outputs[key]  # people see names, not cross-stack plumbing


def test_every_asset_a_template_reads_is_in_the_bundle_under_its_key(bundle):
    keys = set()
    for text in _templates(bundle).values():
        keys |= set(re.findall(r"\$\{AssetsBucketPrefix\}([0-9a-f]{64}[.a-z]*)", text))
    assert keys, "the templates read no asset through the prefix parameter"
    assert keys == {path.name for path in (bundle.folder / "assets").iterdir()}
    assert bundle.assets == len(keys)


def test_participant_role_opens_only_their_own_notebook(bundle, bundle_config):
    spec = _spec(bundle)
    assert spec["awsAccountConfig"]["participantRole"]["iamPolicies"] == ["static/iam_policy.json"]
    policy = json.loads((bundle.folder / "static" / "iam_policy.json").read_text())
    notebook = bundle_config.notebook_name("participant")
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert all(":" in action and "*" not in action for action in statement["Action"])
        if statement["Resource"] == "*":  # only list calls, which take no resource ARN
            assert all(action.split(":")[1].startswith("List") for action in statement["Action"])
        else:
            assert statement["Resource"].endswith(f":notebook-instance/{notebook}")


def test_required_resources_are_one_participants_quota_needs(bundle):
    needs = {
        entry["quotaName"]: entry["desiredValue"]
        for entry in _spec(bundle)["awsAccountConfig"]["requiredResources"]
    }
    assert needs["Total number of notebook instances"] == 1
    assert needs["Concurrently running builds for Linux/Small environment"] == 1  # the image
    assert all(value > 0 for value in needs.values())


def test_content_has_a_page_per_lab_with_its_objectives_and_the_first_steps(bundle):
    content = bundle.folder / "content"
    start = (content / "index.en.md").read_text()
    assert "## First steps" in start and "mlws-participant" in start
    assert "region=eu-west-1" in start  # the event's region
    assert "stops itself when idle)" in start  # no guardrails stack, so no nightly stop
    pages = sorted(content.glob("*/index.en.md"))
    assert bundle.pages == 1 + len(pages)
    assert len(pages) == len(list((PROJECT_ROOT / "labs").glob("*.ipynb")))  # a page per lab
    five = (content / "050-5-classification" / "index.en.md").read_text()
    assert 'title: "Module 5: classification on SageMaker"' in five
    assert "**Objectives.**" in five and "labs/5-classification.ipynb" in five
