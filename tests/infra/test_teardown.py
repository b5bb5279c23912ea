"""With retention=destroy, nothing any stack creates survives `cdk destroy`; every resource that
takes tags carries the workshop tag (cost allocation and the janitor's scope key on it)."""

from __future__ import annotations

import json

from tests.conftest import resources_of


def all_resources(templates):
    for stack, template in templates.items():
        for logical_id, resource in template["Resources"].items():
            yield stack, logical_id, resource


def test_no_resource_is_retained(templates):
    retained = [
        (stack, logical_id)
        for stack, logical_id, resource in all_resources(templates)
        if "Retain" in (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        or resource.get("DeletionPolicy") == "Snapshot"
    ]
    assert not retained


def test_every_bucket_is_emptied_on_delete(templates):
    for stack, template in templates.items():
        emptied = {
            json.dumps(resource["Properties"]["BucketName"])
            for resource in resources_of(template, "Custom::S3AutoDeleteObjects").values()
        }
        for logical_id in resources_of(template, "AWS::S3::Bucket"):
            assert json.dumps({"Ref": logical_id}) in emptied, (stack, logical_id)


def test_repositories_empty_and_workgroups_delete_recursively(templates):
    repositories = workgroups = 0
    for template in templates.values():
        for repository in resources_of(template, "AWS::ECR::Repository").values():
            assert repository["Properties"]["EmptyOnDelete"] is True
            repositories += 1
        for workgroup in resources_of(template, "AWS::Athena::WorkGroup").values():
            assert workgroup["Properties"]["RecursiveDeleteOption"] is True
            workgroups += 1
    assert repositories and workgroups


def test_log_groups_expire_and_go_with_their_stack(templates):
    found = 0
    for stack, template in templates.items():
        for logical_id, group in resources_of(template, "AWS::Logs::LogGroup").items():
            assert group["Properties"].get("RetentionInDays"), (stack, logical_id)
            assert group.get("DeletionPolicy", "Delete") == "Delete", (stack, logical_id)
            found += 1
    assert found


def test_keys_are_scheduled_for_deletion_with_their_stack(templates):
    for stack, template in templates.items():
        for logical_id, key in resources_of(template, "AWS::KMS::Key").items():
            assert key["DeletionPolicy"] == "Delete", (stack, logical_id)
            assert key["Properties"]["PendingWindowInDays"] == 7


def test_retain_keeps_data_but_still_deletes_compute(synth):
    templates = synth(retention="retain").templates
    kinds = {
        resource["Type"]
        for _, _, resource in all_resources(templates)
        if resource.get("DeletionPolicy") == "Retain"
    }
    assert {"AWS::S3::Bucket", "AWS::KMS::Key"} <= kinds
    assert "AWS::SageMaker::NotebookInstance" not in kinds


def test_every_taggable_resource_carries_the_workshop_tag(templates):
    """CDK's tag aspect (app.py) tags every resource type that takes tags; none may miss it."""
    checked = 0
    for stack, logical_id, resource in all_resources(templates):
        tags = resource.get("Properties", {}).get("Tags")
        if tags is None:
            continue
        if isinstance(tags, dict):  # some resource types take a map instead of a list
            assert tags.get("workshop") == "mlws", (stack, logical_id)
        else:
            assert {"Key": "workshop", "Value": "mlws"} in tags, (stack, logical_id)
        checked += 1
    assert checked > 50
