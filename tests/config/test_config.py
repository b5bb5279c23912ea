"""The workshop config: defaults, layering, and a clear message for every bad value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workshop_spec.config import (
    PROJECT_ROOT,
    ConfigError,
    build_config,
    config_from_context,
    load_project_config,
)


def test_defaults_describe_a_ten_attendee_workshop_in_one_account():
    config = load_project_config()
    assert config.attendee_names == [f"attendee-{i:02d}" for i in range(1, 11)]
    assert config.retention == "destroy"
    assert config.account is None and config.region is None  # env-agnostic stacks
    assert config.instance_types.notebook == "ml.m5.xlarge"
    assert config.notebook_volume_gb == 5


def test_attendees_by_name():
    config = load_project_config({"attendees": "alice,bob,carol"})
    assert config.attendee_names == ["alice", "bob", "carol"]


def test_layers_yaml_over_cdk_json_and_context_keys_over_yaml(tmp_path):
    workshop_yaml = tmp_path / "workshop.yaml"
    workshop_yaml.write_text("attendees: 4\nathena:\n  results_expiry_days: 2\nretention: retain\n")
    config = config_from_context(
        {
            "workshop": {"attendees": 10, "athena": {"bytes_scanned_cutoff_mb": 50}},
            "config": str(workshop_yaml),
            "attendees": "6",
            "@aws-cdk/aws-s3:createDefaultLoggingPolicy": True,  # CDK's own keys are ignored
        }
    )
    assert config.attendees == 6  # -c beats the YAML file
    assert config.athena.results_expiry_days == 2  # the YAML beats cdk.json
    assert config.athena.bytes_scanned_cutoff_mb == 50  # cdk.json kept where nothing overrides
    assert config.retention == "retain"


def test_session_end_and_features_from_context_strings():
    config = load_project_config(
        {
            "session_end": "2026-12-01T17:00:00+01:00",
            "features.serving": "false",
            "budget.alert_emails": "ops@example.com,lead@example.com",
        }
    )
    assert config.session_end.isoformat() == "2026-12-01T17:00:00+01:00"
    assert config.features.serving is False
    assert config.budget.alert_emails == ["ops@example.com", "lead@example.com"]


BAD_VALUES = [
    ({"attendees": "0"}, "attendees: 0 is not allowed; use 1..100"),
    ({"attendees": "101"}, "attendees: 101 is not allowed; use 1..100"),
    ({"attendees": "alice,Bob"}, "attendees: "),
    ({"attendees": "ann,ann"}, "attendees: "),
    ({"prefix": "Workshop_1"}, "prefix: Workshop_1 is not allowed; use 1-24 characters"),
    ({"account": "1234"}, "account: 1234 is not allowed; use a 12-digit AWS account id"),
    ({"region": "mars-1"}, "region: mars-1 is not allowed; use an AWS region"),
    ({"retention": "keep"}, "retention: keep is not allowed; use destroy or retain"),
    ({"notebook_volume_gb": "2"}, "notebook_volume_gb: 2 is not allowed; use 5..16384"),
    ({"instance_types.training": "m5.large"}, "instance_types.training: m5.large is not allowed"),
    (
        {"athena.bytes_scanned_cutoff_mb": "5"},
        "athena.bytes_scanned_cutoff_mb: 5 is not allowed; use 10..",
    ),
    (
        {"athena.results_expiry_days": "0"},
        "athena.results_expiry_days: 0 is not allowed; use 1..365",
    ),
    (
        {"data_lake.noncurrent_version_expiry_days": "-1"},
        "data_lake.noncurrent_version_expiry_days: -1",
    ),
    ({"budget.monthly_usd": "-5"}, "budget.monthly_usd: -5 is not allowed; use a positive amount"),
    ({"budget.alert_emails": "not-an-email"}, "budget.alert_emails: not-an-email is not allowed"),
    ({"session_end": "tomorrow"}, "session_end: tomorrow is not allowed; use an ISO 8601 time"),
    ({"session_end": "2026-12-01T17:00:00"}, "session_end: 2026-12-01T17:00:00 is not allowed"),
    ({"features.serving": "maybe"}, "features.serving: maybe is not allowed"),
    (
        {"attendee_environment.environment": "studio", "attendee_environment.network": "direct"},
        "attendee_environment: environment=studio needs network=vpc",
    ),
    (
        {"serving.byom_serverless": "true", "serving.multi_model": "true"},
        "serving: byom_serverless and multi_model exclude each other",
    ),
    ({"serving.serverless_memory_mb": "1500"}, "serving.serverless_memory_mb: 1500 is not allowed"),
    (
        {"serving.min_instances": "3"},
        "serving: needs min_instances <= initial_instance_count <= max_instances, not 3 <= 1 <= 2",
    ),
    (
        {"attendee_environment.network": "public"},
        "attendee_environment.network: public is not allowed; use vpc (private subnets",
    ),
    (
        {"attendee_environment.permissions": "admin"},
        "attendee_environment.permissions: admin is not allowed; use least-privilege",
    ),
    (
        {"attendee_environment.idle_minutes": "-5"},
        "attendee_environment.idle_minutes: -5 is not allowed; use 0..1440",
    ),
    (
        {"attendee_environment.lab_repositories": "git@github.com:a/b.git"},
        "attendee_environment.lab_repositories: git@github.com:a/b.git is not allowed; use up "
        "to 10 https:// git URLs",
    ),
    (
        {"attendee_environment.platform": "notebook-al2-v3"},
        "attendee_environment.platform: notebook-al2-v3 is not allowed; notebook-al2 "
        "(notebook-al2-v3) reached end of support on 2026-06-30 "
        "(https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-al2.html); use one of "
        "notebook-al2023-v1",
    ),
    (
        {"attendee_environment.platform": "notebook-al1-v1"},
        "attendee_environment.platform: notebook-al1-v1 is not allowed; use one of "
        "notebook-al2023-v1 (the notebook platforms in workshop_spec/platforms.yaml",
    ),
    ({"attendes": "3"}, "attendes: unknown key; known keys: "),
]


@pytest.mark.parametrize(("override", "message"), BAD_VALUES, ids=[str(o) for o, _ in BAD_VALUES])
def test_bad_value_names_the_key_the_value_and_what_is_allowed(override, message):
    with pytest.raises(ConfigError) as error:
        load_project_config(override)
    assert message in str(error.value)
    assert len(str(error.value).splitlines()) == 1  # one message, not a pydantic dump


def test_unknown_key_in_a_yaml_file(tmp_path):
    bad = tmp_path / "workshop.yaml"
    bad.write_text("athena:\n  cutoff: 3\n")
    with pytest.raises(ConfigError, match=r"athena\.cutoff: unknown key"):
        build_config({}, bad)


@pytest.mark.parametrize("content", ["[1, 2]", "a: [unclosed"])
def test_yaml_file_that_is_not_a_mapping(tmp_path, content):
    bad = tmp_path / "workshop.yaml"
    bad.write_text(content)
    with pytest.raises(ConfigError, match="config: "):
        build_config({}, bad)


def test_missing_yaml_file():
    with pytest.raises(ConfigError, match="does not exist"):
        build_config({}, "no-such-file.yaml")


def test_bad_value_fails_synth_before_any_construct_with_the_message():
    env = {"CDK_CONTEXT_JSON": '{"attendees": "0"}', "CDK_OUTDIR": "/tmp/never-written"}
    result = subprocess.run(
        [sys.executable, "-c", "import app; app.main()"],
        cwd=PROJECT_ROOT,
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "attendees: 0 is not allowed; use 1..100" in result.stderr
