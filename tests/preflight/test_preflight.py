"""``workshopctl preflight``: offline from Service Quotas answers (the fixtures), live against an
emulated account (STS and SSM from moto; Service Quotas and Cost Explorer through botocore's
Stubber, since moto 5.2.5 has neither ListServiceQuotas nor RequestServiceQuotaIncrease nor
the cost-allocation tag calls). Offline, dummy credentials, a few seconds.

The fixtures are ``{"Quotas": [...]}`` as ``aws service-quotas list-service-quotas`` prints it,
the services the workshop uses concatenated into one file (see the README's preflight
paragraph for the jq line). ``fresh_account.json`` holds the values a new account typically
starts with; ``generous_account.json`` the same quotas at 1000. Quotas that quotas.yaml looks up
by name carry made-up codes (``L-F1X0000n``): Service Quotas always answers with some code.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.conftest import use_dummy_credentials
from workshop_spec import platforms
from workshop_spec.config import load_project_config
from workshopctl import preflight
from workshopctl.__main__ import main
from workshopctl.account_checks import BOOTSTRAP_VERSION_PARAMETER
from workshopctl.quotas import needs

HERE = Path(__file__).parent
FRESH = HERE / "fresh_account.json"
GENEROUS = HERE / "generous_account.json"
REGION = "eu-west-1"
TODAY = date(2026, 12, 3)


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_dummy_credentials(monkeypatch, REGION)


@pytest.fixture
def assembly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cdk.out whose functions reserve 5 executions: the Lambda need is then 105."""
    function = {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 5}}
    (tmp_path / "mlws-guardrails.template.json").write_text(
        json.dumps({"Resources": {"Janitor": function}})
    )
    monkeypatch.setattr(preflight, "CDK_OUT", tmp_path)
    return tmp_path


def table_rows(out: str) -> dict[str, list[str]]:
    """The printed table's rows by check, split on the column gaps."""
    rows = {}
    for line in out.splitlines():
        cells = [cell for cell in line.split("  ") if cell.strip()]
        if len(cells) >= 4:
            rows[cells[0].strip()] = [cell.strip() for cell in cells[1:]]
    return rows


# -- the acceptance: a fresh account fails, naming each short quota; a generous one passes --------
# Every quota a fresh account is short of under the default config: (need, have).
FRESH_SHORT = {
    "Concurrently running builds for Linux/Small environment": ("1", "0"),
    "Concurrent executions": ("105", "10"),
    "ml.m5.xlarge for notebook instance usage": ("10", "2"),
    "Total number of notebook instances": ("10", "8"),
    "ml.m5.xlarge for training job usage": ("38", "2"),
    "Number of instances across all training jobs": ("38", "4"),
    "ml.m5.large for processing job usage": ("3", "2"),
    "ml.m5.large for endpoint usage": ("26", "2"),
    "ml.m5.large for transform job usage": ("12", "2"),
}


def test_fresh_account_fails_naming_each_missing_quota_with_need_and_have(assembly, capsys):
    code = main(["preflight", "--offline", str(FRESH)])
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert code == 1
    failing = {check: row for check, row in rows.items() if row[2] == "FAIL"}
    assert set(failing) == set(FRESH_SHORT)
    for name, (need, have) in FRESH_SHORT.items():
        assert failing[name][:2] == [need, have], name
        assert f"request >= {need}" in failing[name][3]
    assert rows["Number of instances across all processing jobs"][:3] == ["3", "4", "ok"]
    assert f"preflight failed: {len(FRESH_SHORT)} line(s) FAIL" in out
    assert "quota increases take hours to days" in out


def test_generous_account_passes(assembly, capsys):
    code = main(["preflight", "--offline", str(GENEROUS)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out and "preflight passed" in out
    rows = table_rows(out)
    assert rows["Concurrent executions"][:3] == ["105", "1000", "ok"]
    # Offline, the account's own state is not looked up, and says so.
    assert rows["CDK bootstrap"][2:] == ["skip", "offline"]


def test_the_region_comes_from_the_answers_arns(capsys):
    main(["preflight", "--offline", str(GENEROUS)])
    assert f"in {REGION} (quotas from" in capsys.readouterr().out


def test_an_instance_type_the_region_does_not_list_is_not_offered(capsys):
    code = main(
        ["preflight", "--offline", str(GENEROUS), "-c", "instance_types.training=ml.p5.48xlarge"]
    )
    rows = table_rows(capsys.readouterr().out)
    assert code == 1
    _, have, verdict, todo = rows["ml.p5.48xlarge for training job usage"]
    assert (have, verdict) == (f"not offered in {REGION}", "FAIL")
    assert "choose another type or region" in todo


def test_offline_refuses_to_act_on_the_account(capsys):
    assert main(["preflight", "--offline", str(FRESH), "--request"]) == 2
    assert "not with --offline" in capsys.readouterr().err


# -- the pure checks ------------------------------------------------------------------------------
def test_a_quota_not_listed_is_a_warning_unless_it_is_per_instance_type():
    config = load_project_config()
    tuning = next(n for n in needs(config) if "tuning" in n.quota_name)
    line = preflight.quota_line(tuning, preflight.QuotaAnswer([]), REGION)
    assert (line.have, line.verdict) == ("not listed", preflight.WARN)
    unreadable = preflight.QuotaAnswer([], {"sagemaker": "AccessDenied"})
    assert preflight.quota_line(tuning, unreadable, REGION).have == "unreadable"


def test_a_service_the_region_lacks_fails():
    def botocore_view(service: str) -> list[str]:
        return ["us-east-1"] if service == "comprehend" else [REGION, "us-east-1"]

    lines = preflight.service_lines(
        {"comprehend": "module 4", "sagemaker": "jobs"}, REGION, botocore_view
    )
    assert [line.verdict for line in lines] == [preflight.FAIL, preflight.OK]
    assert "comprehend" in lines[0].check and lines[0].have == "not offered"


def test_botocore_knows_comprehend_in_eu_west_1():
    assert REGION in preflight.botocore_regions("comprehend")


@pytest.mark.parametrize("instance_type", ["ml.p3.2xlarge", "ml.p3dn.24xlarge", "ml.inf1.xlarge"])
def test_al2023_notebooks_refuse_the_families_it_does_not_support(instance_type):
    config = load_project_config({"instance_types.notebook": instance_type})
    line = preflight.notebook_family_line(config, platforms.matrix())
    assert line is not None and line.verdict == preflight.FAIL
    assert line.have.endswith("not supported")
    ok = preflight.notebook_family_line(load_project_config(), platforms.matrix())
    assert ok is not None and ok.verdict == preflight.OK


def test_platforms_warn_90_days_ahead_and_fail_past_their_end():
    matrix = platforms.matrix()
    sdk_end = matrix["sagemaker-sdk"].end_of_support
    assert sdk_end is not None

    def verdict_on(day: date) -> str:
        lines = preflight.platform_lines(day, matrix)
        return next(line.verdict for line in lines if line.check == "platform sagemaker-sdk")

    assert verdict_on(date(2026, 12, 3)) == preflight.OK
    assert verdict_on(date.fromordinal(sdk_end.toordinal() - 30)) == preflight.WARN
    assert verdict_on(date.fromordinal(sdk_end.toordinal() + 1)) == preflight.FAIL


def test_bootstrap_and_tag_verdicts():
    assert preflight.bootstrap_line(None, "1", REGION).verdict == preflight.FAIL
    assert preflight.bootstrap_line(5, "1", REGION).verdict == preflight.FAIL
    assert preflight.bootstrap_line(29, "1", REGION).verdict == preflight.OK
    assert preflight.tag_line("workshop", "Active").verdict == preflight.OK
    assert preflight.tag_line("workshop", "Inactive").verdict == preflight.FAIL
    assert preflight.tag_line("workshop", None).verdict == preflight.WARN  # not used yet


# -- live, against an emulated account ------------------------------------------------------------
class EmulatedSession:
    """moto for STS and SSM; the stubbed Service Quotas and Cost Explorer clients."""

    def __init__(self, service_quotas, cost_explorer) -> None:
        self._session = boto3.Session(region_name=REGION)
        self.region_name = REGION
        self.stubbed = {"service-quotas": service_quotas, "ce": cost_explorer}

    def client(self, name: str, region_name: str | None = None):
        return self.stubbed.get(name) or self._session.client(name, region_name=region_name)


def stub_quota_listing(stubber: Stubber, answer_file: Path, service_codes: list[str]) -> None:
    """Each service's quotas as defaults, none applied: the order the preflight reads them."""
    quotas = json.loads(answer_file.read_text())["Quotas"]
    for service in dict.fromkeys(service_codes):
        listed = [q for q in quotas if q["ServiceCode"] == service]
        stubber.add_response(
            "list_aws_default_service_quotas", {"Quotas": listed}, {"ServiceCode": service}
        )
        stubber.add_response("list_service_quotas", {"Quotas": []}, {"ServiceCode": service})


class EmulatedAccount:
    """A fresh account (fresh_account.json's quotas) with the tag Inactive; ``run`` the
    preflight with flags after adding any further expected calls to the stubs."""

    def __init__(self, *, bootstrapped: bool) -> None:
        if bootstrapped:
            boto3.client("ssm", region_name=REGION).put_parameter(
                Name=BOOTSTRAP_VERSION_PARAMETER, Value="29", Type="String"
            )
        self.service_quotas = boto3.client("service-quotas", region_name=REGION)
        self.cost_explorer = boto3.client("ce", region_name="us-east-1")
        self.quota_stub = Stubber(self.service_quotas)
        self.ce_stub = Stubber(self.cost_explorer)
        service_codes = [need.service_code for need in needs(load_project_config())]
        stub_quota_listing(self.quota_stub, FRESH, service_codes)
        tags = [{"TagKey": "workshop", "Type": "UserDefined", "Status": "Inactive"}]
        self.ce_stub.add_response(
            "list_cost_allocation_tags",
            {"CostAllocationTags": tags},
            {"TagKeys": ["workshop"], "Type": "UserDefined"},
        )

    def run(self, *flags: str) -> int:
        parser = argparse.ArgumentParser()
        preflight.add_parser(parser.add_subparsers())
        args = parser.parse_args(["preflight", *flags])
        session = EmulatedSession(self.service_quotas, self.cost_explorer)
        with self.quota_stub, self.ce_stub:
            code = preflight.run_preflight(args, session=session, today=TODAY)
            self.quota_stub.assert_no_pending_responses()
            self.ce_stub.assert_no_pending_responses()
        return code


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Not bootstrapped; no cdk.out (so no Lambda reservation is counted)."""
    monkeypatch.setattr(preflight, "CDK_OUT", tmp_path / "no-cdk.out")
    with mock_aws():
        yield EmulatedAccount(bootstrapped=False)


@pytest.fixture
def bootstrapped_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(preflight, "CDK_OUT", tmp_path / "no-cdk.out")
    with mock_aws():
        yield EmulatedAccount(bootstrapped=True)


def test_live_on_a_fresh_account_reports_the_missing_bootstrap_and_inactive_tag(account, capsys):
    code = account.run()
    rows = table_rows(capsys.readouterr().out)
    assert code == 1
    account = "123456789012"  # moto's account
    assert rows[f"CDK bootstrap in {account}/{REGION}"][1:3] == ["none", "FAIL"]
    assert "cdk bootstrap aws://" in rows[f"CDK bootstrap in {account}/{REGION}"][3]
    assert rows["cost-allocation tag 'workshop'"][1:3] == ["Inactive", "FAIL"]
    assert rows["ml.m5.xlarge for notebook instance usage"][:3] == ["10", "2", "FAIL"]


def test_request_files_an_increase_for_each_short_quota_and_says_so(bootstrapped_account, capsys):
    short = [n for n in needs(load_project_config()) if n.quota_name in FRESH_SHORT and n.need]
    quotas = {q["QuotaName"]: q for q in json.loads(FRESH.read_text())["Quotas"]}
    for number, need in enumerate(short):
        quota_code = need.quota_code or quotas[need.quota_name]["QuotaCode"]
        bootstrapped_account.quota_stub.add_response(
            "request_service_quota_increase",
            {"RequestedQuota": {"Id": f"req-{number}", "Status": "PENDING"}},
            {"ServiceCode": need.service_code, "QuotaCode": quota_code, "DesiredValue": need.need},
        )
    code = bootstrapped_account.run("--request")
    output = capsys.readouterr()
    assert code == 1  # requested is not granted: the event still cannot run on these values
    assert len(short) == len(FRESH_SHORT) - 1  # no cdk.out: no Lambda reservation counted
    for number, need in enumerate(short):
        assert f"requested {need.need} for '{need.quota_name}'" in output.out
        assert f"request req-{number}, status PENDING" in output.out


def test_fix_activates_the_tag_and_says_it_takes_a_day(bootstrapped_account, capsys):
    bootstrapped_account.ce_stub.add_response(
        "update_cost_allocation_tags_status",
        {"Errors": []},
        {"CostAllocationTagsStatus": [{"TagKey": "workshop", "Status": "Active"}]},
    )
    bootstrapped_account.run("--fix")
    output = capsys.readouterr()
    rows = table_rows(output.out)
    assert "activated the cost-allocation tag 'workshop'" in output.out
    assert "within 24 h" in output.out
    assert rows["cost-allocation tag 'workshop'"][1:3] == ["activated now", "WARN"]
    assert rows[f"CDK bootstrap in 123456789012/{REGION}"][1:3] == ["v29", "ok"]
