"""ModelImageStack: the ECR repository for Module 7's bring-your-own container, and its image.

With ``model_image.build=codebuild`` (default) the organiser needs no Docker: the container's
source (training_code/byom_scikit) is uploaded as an asset, a CodeBuild project builds it for
linux/amd64 and pushes it tagged with the source's hash, and a custom resource runs that build
during `cdk deploy` and waits for it, so the image exists when the deploy ends. With
``model_image.build=docker`` the CDK CLI builds it locally instead (DockerImageAsset) and pushes
it to the CDK's own asset repository (the bootstrap's ``cdk-...-container-assets-...``), not the
workshop's. Other stacks read :attr:`image_uri`, and grant the roles that run the image a pull on
:attr:`image_repositories`: wherever the image was pushed, those roles can pull it.

Module 7's attendees build the same source on their notebook and push it to a repository of
their own (:attr:`attendee_repositories`, one per attendee): ECR's IAM authorizes a push per
repository and has no condition key on an image's tag (Service Authorization Reference for
Amazon ECR: the ``repository`` resource's only condition keys are its own resource tags,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html),
so a repository is the smallest thing a push grant can be limited to.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks import nag
from stacks.constructs.exact_role import exact_role
from stacks.constructs.packaged_function import packaged_function
from stacks.constructs.teardown import customer_key, encrypted_log_group, removal_policy
from workshop_spec import platforms
from workshop_spec.config import PROJECT_ROOT, WorkshopConfig

CONTAINER_SOURCE = PROJECT_ROOT / "training_code" / "byom_scikit"
SOURCE_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache"]
# Docker Hub throttles anonymous pulls from CodeBuild's shared addresses; ECR Public mirrors the
# official images without that limit.
BASE_IMAGE = platforms.identifier("byom-base-image")
# CodeBuild's curated image, from the platform matrix like every runtime we ship to.
BUILD_IMAGE = codebuild.LinuxBuildImage.from_code_build_image_id(
    platforms.identifier("codebuild-image")
)
BUILD_TIMEOUT = cdk.Duration.minutes(30)


class ModelImageStack(cdk.Stack):
    """The workshop's ECR repository (scan on push, immutable tags, KMS, lifecycle) and the
    build that puts the bring-your-own scikit-learn image in it."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: WorkshopConfig, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._config = config
        self._removal = removal_policy(config)
        self.key = self._key()
        self.repository = self._repository()
        # The workshop repository always; each attendee's own builds go to their repository.
        self.image_repositories: tuple[ecr.IRepository, ...] = (self.repository,)
        self.attendee_repositories = {
            attendee: self._attendee_repository(attendee) for attendee in config.attendee_names
        }
        if config.model_image.build == "docker":
            self.image_uri = self._docker_image()
        else:
            self.image_uri = self._codebuild_image()
        cdk.CfnOutput(self, "RepositoryUri", value=self.repository.repository_uri)
        cdk.CfnOutput(self, "ImageUri", value=self.image_uri)

    # -- repository ------------------------------------------------------------------------------
    def _key(self) -> kms.Key:
        key = customer_key(
            self,
            "ImageKey",
            config=self._config,
            purpose="encrypts model images, build artifacts and logs",
            for_log_groups=True,  # the build and function log groups
        )
        return key

    def _repository(self, construct_id: str = "Repository") -> ecr.Repository:
        return ecr.Repository(
            self,
            construct_id,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=self.key,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="keep the newest images only",
                    max_image_count=self._config.model_image.keep_images,
                )
            ],
            empty_on_delete=self._config.destroy_on_teardown,
            removal_policy=self._removal,
        )

    def _attendee_repository(self, attendee: str) -> ecr.Repository:
        """Where ``attendee`` pushes their own build in Module 7, settings as the workshop
        repository's: scanned on push, immutable tags, the image key (ECR encrypts through a
        grant it makes on the key when the repository is created, so pushers need no KMS
        rights: https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html),
        the newest images only, and emptied when the stack is deleted (teardown)."""
        return self._repository(f"AttendeeRepository-{attendee}")

    # -- image, built locally by the CDK CLI ------------------------------------------------------
    def _docker_image(self) -> str:
        asset = ecr_assets.DockerImageAsset(
            self,
            "DockerImage",
            directory=str(CONTAINER_SOURCE),
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=SOURCE_EXCLUDES,
        )
        # The CLI pushes to the bootstrap's asset repository: the roles that run the image must
        # be able to pull from there too, or SageMaker cannot start the container.
        self.image_repositories = (*self.image_repositories, asset.repository)
        return asset.image_uri

    # -- image, built in CodeBuild ---------------------------------------------------------------
    def _codebuild_image(self) -> str:
        source = s3_assets.Asset(
            self, "ContainerSource", path=str(CONTAINER_SOURCE), exclude=SOURCE_EXCLUDES
        )
        tag = f"src-{source.asset_hash[:16]}"
        project = self._build_project(source)
        build_function = self._build_function(project)
        image = cdk.CustomResource(
            self,
            "ModelImage",
            service_token=build_function.function_arn,
            resource_type="Custom::ModelImage",
            properties={
                "ProjectName": project.project_name,
                "RepositoryName": self.repository.repository_name,
                "RepositoryUri": self.repository.repository_uri,
                "ImageTag": tag,
            },
        )
        return image.get_att_string("ImageUri")

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return encrypted_log_group(self, construct_id, config=self._config, key=self.key)

    def _build_project(self, source: s3_assets.Asset) -> codebuild.Project:
        log_group = self._log_group("BuildLogs")
        build_role = exact_role(
            self,
            "BuildRole",
            policy_id="BuildPolicy",
            service="codebuild.amazonaws.com",
            description="Builds the model image from the uploaded source and pushes it to ECR",
            log_group=log_group,
            statements=[
                iam.PolicyStatement(
                    sid="ReadContainerSource",
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[source.bucket.arn_for_objects(source.s3_object_key)],
                ),
                # CodeBuild's documented service-role policy for an S3 source also reads the
                # bucket's location and ACL; both are bucket metadata, nothing of its objects.
                iam.PolicyStatement(
                    sid="ReadSourceBucketMetadata",
                    actions=["s3:GetBucketLocation", "s3:GetBucketAcl"],
                    resources=[source.bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    sid="EcrLogin",
                    actions=["ecr:GetAuthorizationToken"],
                    resources=["*"],  # AWS defines this action on no resource
                ),
                iam.PolicyStatement(
                    sid="PushModelImage",
                    actions=[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:InitiateLayerUpload",
                        "ecr:UploadLayerPart",
                        "ecr:CompleteLayerUpload",
                        "ecr:PutImage",
                    ],
                    resources=[self.repository.repository_arn],
                ),
                iam.PolicyStatement(
                    sid="UseImageKey",
                    actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[self.key.key_arn],
                ),
            ],
        )
        nag.acknowledge(
            build_role.policy,
            "ecr:GetAuthorizationToken has no resource-level permissions: AWS requires "
            "Resource '*' for it, and the token only lets the build reach repositories its "
            "other statements allow (the workshop repository).",
            "AwsSolutions-IAM5[Resource::*]",
        )
        project = codebuild.Project(
            self,
            "ImageBuild",
            description="Builds training_code/byom_scikit for linux/amd64 and pushes it to ECR",
            role=build_role.role,
            source=codebuild.Source.s3(bucket=source.bucket, path=source.s3_object_key),
            environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE,
                compute_type=codebuild.ComputeType.SMALL,
                privileged=True,
            ),
            environment_variables={
                "REPOSITORY_URI": codebuild.BuildEnvironmentVariable(
                    value=self.repository.repository_uri
                ),
                "REGISTRY": codebuild.BuildEnvironmentVariable(
                    value=f"{cdk.Aws.ACCOUNT_ID}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"
                ),
                "BASE_IMAGE": codebuild.BuildEnvironmentVariable(value=BASE_IMAGE),
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value="set-by-the-deploy"),
            },
            build_spec=codebuild.BuildSpec.from_object(_BUILD_SPEC),
            encryption_key=self.key,
            timeout=BUILD_TIMEOUT,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
        )
        project.node.add_dependency(build_role.policy)
        nag.acknowledge(
            project,
            "`docker build` inside CodeBuild needs privileged mode (it runs the Docker daemon); "
            "the project builds only this repository's own source, uploaded by the deploy, and "
            "holds no credentials besides its role.",
            "AwsSolutions-CB3",
        )
        nag.acknowledge(
            project,
            "The source is an S3 object (the container source uploaded as a CDK asset), not a "
            "GitHub or Bitbucket repository, so there is no repository URL or OAuth to check; "
            "the rule cannot resolve the S3 location token and reports it anyway.",
            "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
        )
        return project

    def _build_function(self, project: codebuild.Project) -> lambda_.Function:
        log_group = self._log_group("BuildFunctionLogs")
        function_role = exact_role(
            self,
            "BuildFunctionRole",
            policy_id="BuildFunctionPolicy",
            service="lambda.amazonaws.com",
            description="Starts and watches the model-image build during cdk deploy",
            log_group=log_group,
            statements=[
                iam.PolicyStatement(
                    sid="RunImageBuild",
                    actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                    resources=[project.project_arn],
                ),
                iam.PolicyStatement(
                    sid="SkipExistingImage",
                    actions=["ecr:DescribeImages"],
                    resources=[self.repository.repository_arn],
                ),
            ],
        )
        return packaged_function(
            self,
            "BuildFunction",
            package="image_build",
            handler="handler.handler",
            shared=("cfn_response",),
            description="Custom resource: build the model image in CodeBuild and wait for it",
            role=function_role.role,
            policy=function_role.policy,
            log_group=log_group,
            timeout=cdk.Duration.minutes(15),
            why_no_dead_letter_queue="Invoked only by CloudFormation during deploys; it answers "
            "every request (even on error) through CloudFormation's response URL, so a "
            "dead-letter queue would never receive anything the stack events do not already show.",
            why_no_vpc="It calls only the CodeBuild and ECR APIs and CloudFormation's pre-signed "
            "S3 response URL; the workshop has no VPC endpoints for those, and a NAT-only VPC "
            "would add cost without narrowing what the function can reach.",
        )


_BUILD_SPEC = {
    "version": "0.2",
    "phases": {
        "pre_build": {
            "commands": [
                "aws ecr get-login-password --region $AWS_REGION"
                " | docker login --username AWS --password-stdin $REGISTRY",
            ]
        },
        "build": {
            "commands": [
                "docker build --platform linux/amd64 --build-arg PYTHON_IMAGE=$BASE_IMAGE"
                " --tag $REPOSITORY_URI:$IMAGE_TAG .",
            ]
        },
        "post_build": {
            "commands": [
                # post_build runs after a failed build too: push only what was built.
                '[ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ] && docker push $REPOSITORY_URI:$IMAGE_TAG',
            ]
        },
    },
}
