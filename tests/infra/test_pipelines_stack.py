"""Properties of the pipelines stack, and the definitions its deploy hands to CreatePipeline."""

from __future__ import annotations

import json

import pytest

from tests.conftest import resources_of
from tests.pipelines.pipeline_schema import validator

STACK = "mlws-pipelines"


@pytest.fixture(scope="module")
def pipelines(templates):
    return templates[STACK]


def bodies(template) -> dict[str, str]:
    return {
        resource["Properties"]["PipelineName"]: json.dumps(
            resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
        )
        for resource in resources_of(template, "AWS::SageMaker::Pipeline").values()
    }


def test_three_pipelines_with_their_model_package_groups(pipelines):
    assert sorted(bodies(pipelines)) == ["mlws-bank-marketing", "mlws-bike-sharing", "mlws-byom"]
    groups = {
        g["Properties"]["ModelPackageGroupName"]
        for g in resources_of(pipelines, "AWS::SageMaker::ModelPackageGroup").values()
    }
    assert groups == {"mlws-bank-marketing", "mlws-bike-sharing"}


def test_definitions_carry_the_stacks_tokens_and_no_placeholder(pipelines):
    for name, body in bodies(pipelines).items():
        assert "placeholder" not in body, name
        assert "000000000000" not in body, name
        assert "us-east-1" not in body, name  # image URIs come from the region mapping
    bank = bodies(pipelines)["mlws-bank-marketing"]
    assert "ExportsOutputRefRawBucket" in bank and "ExportsOutputRefCuratedBucket" in bank
    assert "cdk-hnb659fds-assets" in bank  # the training_code tarball asset
    assert "sagemaker-xgboost:1.7-1" in bank and "sagemaker-scikit-learn:1.4-2-cpu-py3" in bank


def test_model_package_groups_follow_retention(pipelines, synth):
    for group in resources_of(pipelines, "AWS::SageMaker::ModelPackageGroup").values():
        assert group["DeletionPolicy"] == "Delete"
    kept = synth(retention="retain").templates[STACK]
    for group in resources_of(kept, "AWS::SageMaker::ModelPackageGroup").values():
        assert group["DeletionPolicy"] == "Retain"


def test_pipeline_role_passes_only_itself_and_registers_only_in_its_groups(pipelines):
    (policy,) = resources_of(pipelines, "AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    (role_id,) = resources_of(pipelines, "AWS::IAM::Role")
    assert statements["PassItself"]["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    registered = json.dumps(statements["RegisterModels"]["Resource"])
    assert "model-package-group/mlws-bank-marketing" in registered
    assert "model-package/mlws-bike-sharing/*" in registered
    for statement in statements.values():
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not any(a.endswith(":*") for a in actions)


def test_schedule_is_off_by_default_and_starts_every_pipeline_when_set(pipelines, synth):
    assert not resources_of(pipelines, "AWS::Scheduler::Schedule")
    template = synth(pipelines__schedule="cron(0 6 * * ? *)").templates[STACK]
    schedules = resources_of(template, "AWS::Scheduler::Schedule").values()
    started = sorted(
        json.loads(s["Properties"]["Target"]["Input"])["PipelineName"] for s in schedules
    )
    assert started == ["mlws-bank-marketing", "mlws-bike-sharing", "mlws-byom"]


def test_the_deployed_definitions_resolve_and_validate(synth):
    """What the emulator's deploy creates (and CreatePipeline receives): each definition with
    the template's intrinsics resolved for the account, still valid against the schema, reading
    the data lake's buckets and the code asset the deploy publishes."""
    from workshopctl.cloud_assembly import CloudAssembly

    assembly = CloudAssembly(synth().outdir)
    deployed = {
        r.name: json.loads(r.properties["PipelineDefinition"]["PipelineDefinitionBody"])
        for r in assembly.resources("AWS::SageMaker::Pipeline")
    }
    assert sorted(deployed) == ["mlws-bank-marketing", "mlws-bike-sharing", "mlws-byom"]
    for name, definition in deployed.items():
        errors = list(validator().iter_errors(definition))
        assert not errors, (name, [e.message for e in errors[:3]])
    raw = next(b.name for b in assembly.resources("AWS::S3::Bucket") if "RawBucket" in b.path)
    bank = json.dumps(deployed["mlws-bank-marketing"])
    assert f"s3://{raw}/bank-marketing/bank-additional-full.csv" in bank
    assert f"cdk-hnb659fds-assets-{assembly.account}-{assembly.region}/" in bank
