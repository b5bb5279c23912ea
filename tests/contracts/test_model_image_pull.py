"""``model_image.build=docker``: every role that runs the workshop image can pull it.

The CDK CLI pushes a DockerImageAsset to the bootstrap's asset repository
(``cdk-<qualifier>-container-assets-<account>-<region>``), not the workshop's. SageMaker pulls a
private image with the execution role of the model or job ("CreateModel API: Execution Role
Permissions", https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html), which needs
``ecr:BatchGetImage``, ``ecr:GetDownloadUrlForLayer`` and ``ecr:BatchCheckLayerAvailability`` on
that repository and ``ecr:GetAuthorizationToken`` on ``*`` (the Service Authorization Reference
for Amazon ECR: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html).
"""

from __future__ import annotations

import pytest

from tests.contracts.conftest import Deployed, _deployed
from tests.contracts.service_access import hosting_accesses, pipeline_accesses
from tests.contracts.test_service_contracts import denied
from workshopctl.labs_parameters import attendee_values, shared_values

PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")


@pytest.fixture(scope="module")
def docker(synth) -> Deployed:
    return _deployed(synth, "docker", {"model_image__build": "docker"})


def _repository_arn(deployed: Deployed, image: str) -> str:
    assembly = deployed.assembly
    repository = image.partition("/")[2].split(":")[0].split("@")[0]
    return f"arn:aws:ecr:{assembly.region}:{assembly.account}:repository/{repository}"


def _published(deployed: Deployed) -> dict:
    """The labs' shared SSM parameter: what the notebooks read (byom_image_uri)."""
    return shared_values(deployed.assembly)


def test_the_docker_image_lives_outside_the_workshop_repository(docker):
    """Guards the guard: the rules below must meet the asset repository, not the workshop's."""
    image = _published(docker)["byom_image_uri"]
    workshop_repositories = {r.arn for r in docker.assembly.resources("AWS::ECR::Repository")}
    assert "container-assets" in image, image
    assert _repository_arn(docker, image) not in workshop_repositories


def test_the_serving_and_pipeline_roles_can_pull_the_docker_image(docker):
    image = _published(docker)["byom_image_uri"]
    asset_repository = _repository_arn(docker, image)
    accesses = [*hosting_accesses(docker.assembly), *pipeline_accesses(docker.assembly)]
    pulls = [a for a in accesses if a.resource == asset_repository]
    assert pulls, "no model or pipeline step runs the docker-built image"
    problems = denied(docker.assembly, accesses)
    assert not problems, "\n".join(problems)


def test_every_attendee_role_can_pull_but_not_replace_the_docker_image(docker):
    """Module 7 deploys the workshop image as the attendee's own role; an attendee pushes only
    to their own repository (test_attendee_isolation.py), never to the CDK's asset repository."""
    assembly = docker.assembly
    published = _published(docker)
    asset_repository = _repository_arn(docker, published["byom_image_uri"])
    for attendee, own in attendee_values(assembly).items():
        role_arn = own["execution_role_arn"]
        role = assembly.role(role_arn)
        for action in PULL:
            decision = assembly.decide(role, action, asset_repository)
            assert decision, f"{attendee}: {action} on {asset_repository}: {decision.reason}"
        assert assembly.decide(role, "ecr:GetAuthorizationToken", "*")
        for action in ("ecr:PutImage", "ecr:BatchDeleteImage", "ecr:DeleteRepository"):
            assert not assembly.decide(role, action, asset_repository), (attendee, action)
