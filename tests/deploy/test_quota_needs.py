"""The quota data file and the needs it gives for a config (pure: no AWS, no CDK)."""

from __future__ import annotations

import json
from pathlib import Path

from workshop_spec.config import build_config
from workshopctl.quotas import QuotaNeed, load_quota_data, needs, reserved_concurrency_in


def by_name(config, **kwargs) -> dict[str, QuotaNeed]:
    return {need.quota_name: need for need in needs(config, **kwargs)}


def test_every_entry_cites_an_aws_page_and_is_found_by_code_or_name():
    for quota in load_quota_data():
        assert quota["doc"].startswith("https://docs.aws.amazon.com/"), quota["quota_name"]
        assert quota["service_code"] and quota["quota_name"]
        assert quota["code_source"], "say where the code came from, or that it is looked up"
        for use in quota["uses"]:
            assert {"consumer", "at_deploy", "when", "need", "why"} <= set(use)


def test_default_config_needs():
    quotas = by_name(build_config())
    notebooks = quotas["ml.m5.xlarge for notebook instance usage"]
    assert (notebooks.need, notebooks.deploy_need, notebooks.quota_code) == (10, 10, "L-76AB2C05")
    assert quotas["Total EBS volume size in GB across all notebook instances"].need == 50
    codebuild = quotas["Concurrently running builds for Linux/Small environment"]
    assert (codebuild.service_code, codebuild.quota_code, codebuild.deploy_need) == (
        "codebuild",
        "L-9D07B6EF",
        1,
    )
    endpoints = quotas["ml.m5.large for endpoint usage"]
    # serving: 3 variants x 1 at deploy, + 3 to scale out to 2 each; labs: 10 attendees x 2
    assert (endpoints.deploy_need, endpoints.need) == (3, 3 + 3 + 20)
    training = quotas["ml.m5.xlarge for training job usage"]
    assert training.quota_code is None  # not confirmed: looked up by name
    assert training.need == 8 + 10 * 3 and training.deploy_need == 0
    assert quotas["Number of instances across all training jobs"].need == training.need
    assert quotas["VPCs per Region"].deploy_need == 1
    assert "Studio JupyterLab Apps running on ml.t3.medium instances" not in quotas


def test_the_deploys_etl_run_needs_one_glue_job_run_unless_it_is_off():
    glue = by_name(build_config())["Max concurrent job runs per account"]
    assert (glue.service_code, glue.quota_code) == ("glue", "L-5E4153CA")
    assert (glue.need, glue.deploy_need) == (1, 1)
    off = build_config(overrides={"data_lake.run_reviews_etl_on_deploy": "false"})
    assert "Max concurrent job runs per account" not in by_name(off)


def test_non_default_config_needs():
    config = build_config(
        overrides={
            "attendees": "alice,bob,carol",
            "instance_types.notebook": "ml.t3.medium",
            "instance_types.training": "ml.c5.xlarge",
            "model_image.build": "docker",
            "attendee_environment.network": "direct",
            "serving.byom_serverless": "true",
            "serving.max_instances": "3",
            "notebook_volume_gb": "20",
            "features.pipelines": "false",
        }
    )
    quotas = by_name(config)
    assert "Concurrently running builds for Linux/Small environment" not in quotas
    assert "VPCs per Region" not in quotas and "EC2-VPC Elastic IPs" not in quotas
    notebooks = quotas["ml.t3.medium for notebook instance usage"]
    assert (notebooks.need, notebooks.quota_code) == (3, None)  # another type: by name
    assert quotas["Total EBS volume size in GB across all notebook instances"].need == 60
    assert quotas["ml.c5.xlarge for training job usage"].need == 3 * 3  # labs only
    endpoints = quotas["ml.m5.large for endpoint usage"]
    # serverless BYOM: only the A/B endpoint's 2 variants take instances
    assert (endpoints.deploy_need, endpoints.need) == (2, 2 * 3 + 3 * 2)
    serverless = quotas[
        "Maximum total concurrency that can be allocated across all serverless endpoints"
    ]
    assert serverless.deploy_need == 5


def test_studio_counts_jupyterlab_apps_instead_of_notebooks():
    quotas = by_name(build_config(overrides={"attendee_environment.environment": "studio"}))
    assert quotas["Studio JupyterLab Apps running on ml.t3.medium instances"].need == 10
    assert "ml.m5.xlarge for notebook instance usage" not in quotas


def _function(reserved: int | None) -> dict:
    properties = {} if reserved is None else {"ReservedConcurrentExecutions": reserved}
    return {"Type": "AWS::Lambda::Function", "Properties": properties}


def test_lambda_need_counts_reservations_in_the_cloud_assembly(tmp_path: Path):
    (tmp_path / "a.template.json").write_text(
        json.dumps({"Resources": {"F1": _function(2), "F2": _function(None)}})
    )
    (tmp_path / "b.template.json").write_text(json.dumps({"Resources": {"F3": _function(1)}}))
    assert reserved_concurrency_in(tmp_path) == 3
    lambda_need = by_name(build_config(), cloud_assembly=tmp_path)["Concurrent executions"]
    assert (lambda_need.need, lambda_need.deploy_need) == (103, 103)
    without = by_name(build_config())["Concurrent executions"]
    assert without.need == 0 and "not counted" in without.why
