"""The bundle's parts on their own: the config switch, asset packaging, checks, lab pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop_spec.config import ConfigError, load_project_config
from workshopctl.workshop_studio_content import lab_pages
from workshopctl.workshop_studio_templates import (
    Asset,
    BundleError,
    StackTemplate,
    _key_under_prefix,
    problems,
    write_asset,
)

LABS = Path(__file__).resolve().parents[2] / "labs"


def test_the_switch_refuses_docker_image_assets_and_unknown_values():
    with pytest.raises(ConfigError, match=r"model_image\.build=codebuild"):
        load_project_config({"synthesizer": "workshop-studio", "model_image.build": "docker"})
    with pytest.raises(ConfigError, match="synthesizer: cdk is not allowed; use cdk-bootstrap"):
        load_project_config({"synthesizer": "cdk"})
    assert load_project_config().synthesizer == "cdk-bootstrap"  # the default deploy's


def test_a_folder_asset_zips_to_the_same_bytes_every_time(tmp_path):
    source = tmp_path / "asset.abc"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "handler.py").write_text("def handler(event, context): return 1\n")
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    first = write_asset(Asset(source, "zip", "abc.zip"), tmp_path / "one").read_bytes()
    (source / "pkg" / "handler.py").touch()  # a new mtime changes nothing
    second = write_asset(Asset(source, "zip", "abc.zip"), tmp_path / "two").read_bytes()
    assert first == second


def test_an_asset_bound_for_the_bootstrap_bucket_is_refused():
    bootstrap = {
        "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
        "objectKey": "abc.zip",
    }
    with pytest.raises(BundleError, match="synthesizer=workshop-studio"):
        _key_under_prefix("mlws-data-lake", bootstrap)
    event = {"bucketName": "${AssetsBucketName}", "objectKey": "${AssetsBucketPrefix}abc.zip"}
    assert _key_under_prefix("mlws-data-lake", event) == "abc.zip"


def test_checks_name_each_thing_workshop_studio_cannot_deploy(tmp_path):
    def stack(name: str, template: dict) -> StackTemplate:
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(template))
        return StackTemplate(name, path, template)

    clean = {"Parameters": {"AssetsBucketName": {"Type": "String"}}, "Resources": {}}
    assert problems([stack(f"s{i}", clean) for i in range(5)]) == []
    found = problems(
        [stack(f"s{i}", clean) for i in range(5)]
        + [stack("odd", {"Parameters": {"BootstrapVersion": {}, "Size": {}}})]
    )
    assert any("6 templates" in line for line in found)
    assert any("odd: refers to the CDK bootstrap (BootstrapVersion)" in line for line in found)
    assert any("odd: parameters Workshop Studio cannot fill: BootstrapVersion, Size" in line
               for line in found)  # fmt: skip


def test_lab_pages_follow_the_module_numbers_with_each_notebooks_title():
    pages = lab_pages(LABS)
    assert [page.notebook for page in pages][:3] == [
        "1-overview.ipynb", "2-data-engineering.ipynb", "3-regression.ipynb",
    ]  # fmt: skip
    assert [page.notebook for page in pages][-4:] == [
        "6.1-tuning.ipynb", "6.2-tuning-analysis.ipynb", "7-byom.ipynb", "8-mlops.ipynb",
    ]  # fmt: skip
    assert len(pages) == len(list(LABS.glob("*.ipynb")))  # every lab has its page
    assert all(page.title.startswith("Module ") for page in pages)
    assert [page.weight for page in pages] == sorted(page.weight for page in pages)
