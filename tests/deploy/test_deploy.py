"""``workshopctl deploy`` on an emulated account: STS and SSM from moto, Service Quotas (which
moto implements only for the vpc service) through botocore's Stubber, CDK commands recorded.
Offline, dummy credentials, no node."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.conftest import use_dummy_credentials
from workshop_spec.config import load_project_config
from workshopctl import deploy
from workshopctl.account_checks import BOOTSTRAP_VERSION_PARAMETER
from workshopctl.cdk_cli import deploy_command, stack_concurrency
from workshopctl.quotas import needs

REGION = "eu-west-1"
CODEBUILD_QUOTA = "Concurrently running builds for Linux/Small environment"


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_dummy_credentials(monkeypatch, REGION)
    # No cdk.out: the checks must not depend on a synth someone ran in this tree.
    monkeypatch.setattr(deploy, "CDK_OUT", tmp_path / "no-cdk.out")


class RecordingRunner:
    """Stands in for the CDK CLI: records each command; `cdk bootstrap` writes the version
    parameter as the real one does, so a second run sees the bootstrap."""

    def __init__(self, ssm) -> None:
        self.ssm = ssm
        self.commands: list[list[str]] = []

    def __call__(self, argv: Sequence[str], extra_env: Mapping[str, str]) -> int:
        assert extra_env["AWS_REGION"] == REGION
        self.commands.append(list(argv))
        if "bootstrap" in argv:
            self.ssm.put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value="29", Type="String")
        return 0

    def subcommands(self) -> list[str]:
        return [command[4] for command in self.commands]  # after `npx --no-install cdk ...`


class EmulatedSession:
    """A boto3 session whose Service Quotas client is the stubbed one."""

    def __init__(self, service_quotas) -> None:
        self._session = boto3.Session(region_name=REGION)
        self.region_name = REGION
        self.service_quotas = service_quotas

    def client(self, name: str, region_name: str | None = None):
        if name == "service-quotas":
            return self.service_quotas
        return self._session.client(name, region_name=region_name)


def stub_quota_values(stubber: Stubber, config, values: Mapping[str, float]) -> None:
    """Expect one GetServiceQuota per quota the deploy consumes, in the order it asks."""
    assembly = deploy.CDK_OUT if deploy.CDK_OUT.exists() else None
    for need in needs(config, assembly):
        if need.deploy_need <= 0:
            continue
        assert need.quota_code, f"{need.quota_name}: the tests stub lookups by code only"
        value = values.get(need.quota_name, 1000.0)
        stubber.add_response(
            "get_service_quota",
            {"Quota": {"QuotaName": need.quota_name, "QuotaCode": need.quota_code, "Value": value}},
            {"ServiceCode": need.service_code, "QuotaCode": need.quota_code},
        )


def arguments(*context: str) -> argparse.Namespace:
    return argparse.Namespace(
        context=list(context), region=REGION, require_approval="broadening", concurrency=None
    )


def run(capsys, *context: str, quota_values: Mapping[str, float] | None = None, runs: int = 1):
    """Run the deploy ``runs`` times in one emulated account; (exit codes, runner, stderr)."""
    overrides = dict(pair.split("=", 1) for pair in context)
    config = load_project_config(overrides)
    service_quotas = boto3.client("service-quotas", region_name=REGION)
    stubber = Stubber(service_quotas)
    for _ in range(runs):
        stub_quota_values(stubber, config, quota_values or {})
    with stubber, mock_aws():
        runner = RecordingRunner(boto3.client("ssm", region_name=REGION))
        session = EmulatedSession(service_quotas)
        codes = [
            deploy.run_deploy(arguments(*context), session=session, runner=runner)
            for _ in range(runs)
        ]
        out, err = capsys.readouterr()
        assert "not checked" not in out  # every quota was read (a stub mismatch lands here)
        if not any(codes):
            stubber.assert_no_pending_responses()
    return codes, runner, err


def test_not_bootstrapped_bootstraps_once_then_deploys_and_a_second_run_does_not(capsys):
    codes, runner, _ = run(capsys, runs=2)
    assert codes == [0, 0]
    assert runner.subcommands() == ["bootstrap", "deploy", "deploy"]
    assert runner.commands[0][-1] == f"aws://123456789012/{REGION}"


def test_bootstrapped_account_is_not_bootstrapped_again(capsys):
    with mock_aws():
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=BOOTSTRAP_VERSION_PARAMETER, Value="29", Type="String"
        )
        codes, runner, _ = run(capsys)
    assert codes == [0]
    assert runner.subcommands() == ["deploy"]
    deploy_argv = runner.commands[0]
    assert deploy_argv[:4] == ["npx", "--no-install", "cdk", "--no-notices"]
    assert deploy_argv[deploy_argv.index("--require-approval") + 1] == "broadening"
    assert deploy_argv[deploy_argv.index("--concurrency") + 1] == "3"


def test_codebuild_quota_of_zero_stops_before_any_cdk_command_with_one_line(capsys):
    codes, runner, err = run(capsys, quota_values={CODEBUILD_QUOTA: 0.0})
    assert codes == [2]
    assert runner.commands == []
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert f"'{CODEBUILD_QUOTA}' (L-9D07B6EF) is 0" in line
    assert "request at least 1" in line
    assert "-c model_image.build=docker" in line


def test_docker_build_skips_the_codebuild_check(capsys):
    # No CodeBuild response is stubbed: a CodeBuild lookup would fail the stub and the run.
    codes, runner, _ = run(capsys, "model_image.build=docker", quota_values={CODEBUILD_QUOTA: 0})
    assert codes == [0]
    assert runner.subcommands() == ["bootstrap", "deploy"]
    assert runner.commands[-1][-2:] == ["-c", "model_image.build=docker"]


def test_every_blocking_quota_gets_its_own_line(capsys):
    codes, runner, err = run(
        capsys,
        quota_values={"ml.m5.xlarge for notebook instance usage": 4, "VPCs per Region": 0},
    )
    assert codes == [2] and runner.commands == []
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert "'ml.m5.xlarge for notebook instance usage' (L-76AB2C05) is 4" in lines[1]
    assert "needs 10" in lines[1]


def test_reserved_lambda_concurrency_in_cdk_out_needs_100_more_than_it_reserves(
    monkeypatch, tmp_path, capsys
):
    function = {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 2}}
    (tmp_path / "image.template.json").write_text(json.dumps({"Resources": {"F": function}}))
    monkeypatch.setattr(deploy, "CDK_OUT", tmp_path)
    codes, runner, err = run(capsys, quota_values={"Concurrent executions": 10})
    assert codes == [2] and runner.commands == []
    assert err.strip().splitlines() == [
        "deploy stopped: lambda quota 'Concurrent executions' (L-B99A9384) is 10 in "
        f"123456789012/{REGION} and the deploy needs 102: request at least 102 in Service "
        "Quotas (service lambda)"
    ]


def test_missing_credentials_stop_with_one_line(monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    commands = []
    code = deploy.run_deploy(
        arguments(), session=boto3.Session(region_name=REGION), runner=commands.append
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and commands == []
    assert err == [
        "deploy stopped: no AWS credentials in this shell: set AWS_PROFILE (or AWS_ACCESS_KEY_ID "
        "and AWS_SECRET_ACCESS_KEY) for the workshop account, then run `make deploy` again"
    ]


def test_concurrency_is_the_widest_level_of_the_stack_graph(tmp_path: Path):
    def stack(*deps: str) -> dict:
        return {"type": "aws:cloudformation:stack", "dependencies": list(deps)}

    artifacts = {
        "data": stack("data.assets"),
        "data.assets": {"type": "cdk:asset-manifest"},
        "image": stack(),
        "env": stack("data", "image"),
        "pipelines": stack("data", "image"),
        "serving": stack("data", "image"),
        "guardrails": stack("data", "image", "env", "pipelines", "serving"),
    }
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    assert stack_concurrency(tmp_path) == 3
    assert stack_concurrency(tmp_path / "missing") == 3  # the fallback


def test_deploy_command_refuses_an_unknown_approval_level():
    with pytest.raises(ValueError, match="require-approval"):
        deploy_command(concurrency=2, require_approval="sometimes")
