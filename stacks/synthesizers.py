"""How the stacks' templates find their assets: the CDK bootstrap (default) or an event bucket.

``synthesizer=cdk-bootstrap`` (the default) keeps aws-cdk-lib's ``DefaultStackSynthesizer``:
assets go to the bootstrap stack's bucket ``cdk-hnb659fds-assets-<account>-<region>`` and the
templates check the bootstrap version.

``synthesizer=workshop-studio`` uses :class:`EventBucketSynthesizer`: a template reads every file
asset from a bucket and prefix it receives as the CloudFormation parameters ``AssetsBucketName``
and ``AssetsBucketPrefix``, which AWS Workshop Studio fills with its variables
``{{.AssetsBucketName}}`` and ``{{.AssetsBucketPrefix}}`` (the event's copy of the workshop's
assets). Such a template needs no ``cdk bootstrap`` in the account that deploys it: no bootstrap
bucket, no bootstrap roles, no ``BootstrapVersion`` parameter or rule.

aws-cdk-lib documents subclassing ``StackSynthesizer`` for exactly this ("Customizing
synthesis", and the ``AssetManifestBuilder`` that custom synthesizers use):
https://docs.aws.amazon.com/cdk/v2/guide/configure-synth.html
https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.StackSynthesizer.html
https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.AssetManifestBuilder.html
"""

from __future__ import annotations

import aws_cdk as cdk

from workshop_spec.config import WorkshopConfig

ASSETS_BUCKET_PARAMETER = "AssetsBucketName"
ASSETS_PREFIX_PARAMETER = "AssetsBucketPrefix"
# CloudFormation's Fn::Sub resolves "${Parameter}" to a parameter's value:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-sub.html
# The same strings go into the asset manifest, where a deployer substitutes them the way the
# CDK CLI substitutes "${AWS::AccountId}".
ASSETS_BUCKET_PLACEHOLDER = "${" + ASSETS_BUCKET_PARAMETER + "}"
ASSETS_PREFIX_PLACEHOLDER = "${" + ASSETS_PREFIX_PARAMETER + "}"
# The bootstrap bucket as cdk-nag spells it in a granular finding (its flattened Fn::Sub).
BOOTSTRAP_ASSETS_BUCKET_FINDING = "cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>"


class EventBucketSynthesizer(cdk.StackSynthesizer):
    """Templates whose file assets are read from ``s3://<AssetsBucketName>/<AssetsBucketPrefix>``.

    Each file asset's object key is its content hash plus its packaging's extension under the
    prefix (which Workshop Studio gives with a trailing slash), recorded in the stack's asset
    manifest with the parameter placeholders. The two parameters are added to a stack when its
    first asset is registered, so a stack without assets has no unused parameter. Docker image
    assets would need a bootstrap ECR repository: they are refused.
    """

    def bind(self, stack: cdk.Stack) -> None:
        super().bind(stack)
        self._assets = cdk.AssetManifestBuilder()
        self._parameters_added = False

    def add_file_asset(self, asset: cdk.FileAssetSource) -> cdk.FileAssetLocation:
        self._add_parameters()
        # Named <prefix><hash><extension> (".zip" for a zipped folder), as the CDK names them.
        destination = self._assets.default_add_file_asset(
            self._bound_stack,
            asset,
            cdk.AssetManifestFileDestination(
                bucket_name=ASSETS_BUCKET_PLACEHOLDER, bucket_prefix=ASSETS_PREFIX_PLACEHOLDER
            ),
        )
        return self._cloud_formation_location_from_file_asset(
            bucket_name=destination.bucket_name, object_key=destination.object_key
        )

    def add_docker_image_asset(
        self, asset: cdk.DockerImageAssetSource
    ) -> cdk.DockerImageAssetLocation:
        raise ValueError(
            "synthesizer=workshop-studio reads assets from the event bucket and has no ECR "
            "repository for Docker image assets: use model_image.build=codebuild"
        )

    def synthesize(self, session: cdk.ISynthesisSession) -> None:
        self._synthesize_template(session)
        manifest_id = self._assets.emit_manifest(self._bound_stack, session)
        # No role to assume and no bootstrap version to require: whoever deploys the template
        # (Workshop Studio, or the CDK CLI with the caller's credentials) needs no bootstrap.
        self._emit_artifact(session, additional_dependencies=[manifest_id])

    def _add_parameters(self) -> None:
        if self._parameters_added:
            return
        self._parameters_added = True
        stack = self._bound_stack
        cdk.CfnParameter(
            stack,
            ASSETS_BUCKET_PARAMETER,
            type="String",
            min_length=3,
            description="The S3 bucket holding this template's assets (Workshop Studio: "
            "{{.AssetsBucketName}})",
        )
        cdk.CfnParameter(
            stack,
            ASSETS_PREFIX_PARAMETER,
            type="String",
            description="The key prefix of the assets in that bucket, ending in '/' "
            "(Workshop Studio: {{.AssetsBucketPrefix}})",
        )


def stack_synthesizer(config: WorkshopConfig) -> cdk.IStackSynthesizer | None:
    """The synthesizer every stack of this config gets; None: aws-cdk-lib's default."""
    if config.synthesizer == "workshop-studio":
        return EventBucketSynthesizer()
    return None


def assets_bucket_finding(stack: cdk.Stack) -> str:
    """The stack's asset bucket as cdk-nag spells it in a granular ``Resource::`` finding."""
    if isinstance(stack.synthesizer, EventBucketSynthesizer):
        return f"<{ASSETS_BUCKET_PARAMETER}>"
    return BOOTSTRAP_ASSETS_BUCKET_FINDING
