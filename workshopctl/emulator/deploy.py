"""Deploy a cloud assembly into the emulated account, as ``cdk deploy`` would into AWS.

First the asset publishing ``cdk deploy`` does (every file asset of the asset manifests to its
bootstrap-bucket key; for templates given Workshop Studio's asset parameters, to the event
bucket and prefix those name), then each stack's resources, stacks in the assembly's
dependency order, through the emulator's own API as the organiser. Each resource type the labs,
jobs or Lambdas meet has a provisioner that reads the resolved template
(:mod:`workshopctl.cloud_assembly`, the one reader of ``cdk.out``); the rest (networking,
notebook instances, keys, alarms, budgets) is listed as not emulated in the deployment's
summary, never silently dropped.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshopctl.cloud_assembly import CloudAssembly, FileAsset, Resource, file_assets
from workshopctl.emulator.account import EmulatedAccount

BOOTSTRAP_QUALIFIER = "hnb659fds"
ENDPOINT_TIMEOUT_SECONDS = 180.0  # every endpoint's servers start on this machine, side by side


class DeployError(RuntimeError):
    """A resource did not come up (CloudFormation would roll the stack back)."""


@dataclass
class Deployment:
    """What the deploy provisioned, per resource type, and what it left to AWS alone."""

    provisioned: Counter = field(default_factory=Counter)
    not_emulated: Counter = field(default_factory=Counter)
    assets: int = 0
    asset_buckets: list[str] = field(default_factory=list)  # made to hold the assets
    objects: int = 0
    functions: dict[str, Resource] = field(default_factory=dict)
    custom_resources: dict[str, dict] = field(default_factory=dict)  # path → provider's answer

    def summary(self) -> str:
        done = ", ".join(f"{n} {kind}" for kind, n in sorted(self.provisioned.items()))
        skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(self.not_emulated.items()))
        return (
            f"{self.assets} assets published, {self.objects} objects deployed; "
            f"provisioned: {done}; not emulated: {skipped or 'none'}"
        )


def stack_order(assembly: CloudAssembly) -> list[str]:
    """The stacks with each one after the stacks it depends on (the layout's order kept)."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered or name not in assembly.templates:
            return
        for dependency in assembly.dependencies.get(name, []):
            visit(dependency)
        ordered.append(name)

    for name in assembly.templates:
        visit(name)
    return ordered


def asset_bytes(assembly: CloudAssembly, bucket: str, key: str) -> bytes:
    """The bytes of the file asset a deploy of ``assembly`` publishes at ``bucket``/``key``:
    the destination is matched first, then only that asset is read (or zipped)."""
    for asset in file_assets(assembly):
        if (asset.bucket, asset.key) == (bucket, key):
            return _asset_data(asset)
    raise LookupError(f"no file asset of the assembly is published to s3://{bucket}/{key}")


def _asset_data(asset: FileAsset) -> bytes:
    if asset.packaging == "zip" and asset.source.is_dir():
        return _zipped(asset.source)
    return asset.source.read_bytes()


def _zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return buffer.getvalue()


def stack_tags(resource: Resource) -> list[dict[str, str]]:
    """The resource's template tags plus the ones CloudFormation adds to every resource that
    takes tags ("Resource tag" in the CloudFormation User Guide: aws:cloudformation:stack-name,
    -logical-id, -stack-id), which the janitor reads to leave the stacks' own resources alone."""
    declared = resource.properties.get("Tags") or []
    if isinstance(declared, dict):
        declared = [{"Key": k, "Value": v} for k, v in declared.items()]
    return [
        *declared,
        {"Key": "aws:cloudformation:stack-name", "Value": resource.stack},
        {"Key": "aws:cloudformation:logical-id", "Value": resource.logical_id},
        {"Key": "aws:cloudformation:stack-id", "Value": f"{resource.stack}/emulated"},
    ]


class DeployFailed(RuntimeError):
    """A resource could not be created, as CloudFormation would report it."""


class Deployer:
    """Provisions one assembly into one emulated account."""

    def __init__(self, account: EmulatedAccount):
        self.account = account
        self.assembly = account.assembly
        self.result = Deployment()
        self._clients: dict[str, Any] = {}
        self.provisioners: dict[str, Callable[[Resource], None]] = {
            "AWS::S3::Bucket": self._bucket,
            "AWS::IAM::Role": self._role,
            "AWS::SSM::Parameter": self._parameter,
            "AWS::Glue::Database": self._database,
            "AWS::Glue::Table": self._table,
            "AWS::Glue::Job": self._glue_job,
            "AWS::Athena::WorkGroup": self._workgroup,
            "AWS::Athena::NamedQuery": self._named_query,
            "Custom::CDKBucketDeployment": self._bucket_deployment,
            "AWS::ECR::Repository": self._repository,
            "Custom::ModelImage": self._model_image,
            "AWS::SageMaker::ModelPackageGroup": self._model_package_group,
            "AWS::SageMaker::Pipeline": self._pipeline,
            "AWS::SageMaker::Model": self._model,
            "AWS::SageMaker::EndpointConfig": self._endpoint_config,
            "AWS::SageMaker::Endpoint": self._endpoint,
            "AWS::ApplicationAutoScaling::ScalableTarget": self._scalable_target,
            "AWS::ApplicationAutoScaling::ScalingPolicy": self._scaling_policy,
            "AWS::Lambda::Function": self._function,
            "AWS::SQS::Queue": self._queue,
            "AWS::Events::Rule": self._rule,
        }
        self._creating_endpoints: list[str] = []

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.account.client(service, label="deploy")
        return self._clients[service]

    def custom_resource_types(self) -> set[str]:
        """Custom resources whose provider is a Python function of the assembly: the deploy
        invokes the function as CloudFormation would (those with a provisioner of their own
        stand for what the emulator cannot run: CodeBuild, the CDK's Node.js providers)."""
        found = set()
        for template in self.assembly.templates.values():
            for raw in template["Resources"].values():
                kind = raw["Type"]
                custom = (
                    kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource"
                )
                if custom and kind not in self.provisioners:
                    found.add(kind)
        return found

    def deploy(self) -> Deployment:
        self._publish_assets()
        lambda_backed = self.custom_resource_types()
        for stack in stack_order(self.assembly):
            # Dependencies inside a stack: types in the order the provisioners are listed, the
            # custom resources last (they act on what the stack made).
            resources = list(self._resources(stack))
            order = list(self.provisioners)
            for resource in sorted(
                resources, key=lambda r: order.index(r.type) if r.type in order else len(order)
            ):
                provision = self.provisioners.get(resource.type)
                if provision is None and resource.type in lambda_backed:
                    provision = self._lambda_backed
                if provision is None:
                    self.result.not_emulated[resource.type] += 1
                    continue
                provision(resource)
                self.result.provisioned[resource.type] += 1
            self._await_endpoints()  # the stack is complete when its endpoints are in service
        return self.result

    def _resources(self, stack: str) -> Iterator[Resource]:
        for logical_id, raw in self.assembly.templates[stack]["Resources"].items():
            if raw["Type"] == "AWS::CDK::Metadata":
                continue
            yield self.assembly.resource(stack, logical_id)

    # -- assets ------------------------------------------------------------------------------
    def _publish_assets(self) -> None:
        """Each file asset to its destination, the bucket made first: the bootstrap bucket that
        ``cdk bootstrap`` makes for a ``cdk.out``; for templates given the asset parameters,
        the event bucket (Workshop Studio's copy of the workshop's assets, made before the
        templates deploy)."""
        s3 = self.client("s3")
        for asset in file_assets(self.assembly):
            if asset.bucket not in self.result.asset_buckets:
                self._create_bucket(asset.bucket)
                self.result.asset_buckets.append(asset.bucket)
            s3.put_object(Bucket=asset.bucket, Key=asset.key, Body=_asset_data(asset))
            self.result.assets += 1

    def _asset_bytes(self, bucket: str, key: str) -> bytes:
        return self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    # -- provisioners ---------------------------------------------------------------------------
    def _create_bucket(self, name: str) -> None:
        self.client("s3").create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": self.assembly.region},
        )

    def _bucket(self, resource: Resource) -> None:
        self._create_bucket(resource.name)
        # S3 refuses aws: tags from a requester (moto too); CloudFormation's own are omitted.
        declared = [t for t in stack_tags(resource) if not t["Key"].startswith("aws:")]
        if declared:
            self.client("s3").put_bucket_tagging(Bucket=resource.name, Tagging={"TagSet": declared})

    def _role(self, resource: Resource) -> None:
        trust = resource.properties.get("AssumeRolePolicyDocument", {})
        self.client("iam").create_role(
            RoleName=resource.name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Path=resource.properties.get("Path", "/"),
        )

    def _parameter(self, resource: Resource) -> None:
        props = resource.properties
        self.client("ssm").put_parameter(
            Name=resource.name,
            Value=props["Value"],
            Type=props.get("Type", "String"),
            Description=props.get("Description", ""),
            Tags=stack_tags(resource),
        )

    def _database(self, resource: Resource) -> None:
        self.client("glue").create_database(DatabaseInput=resource.properties["DatabaseInput"])

    def _table(self, resource: Resource) -> None:
        props = resource.properties
        self.client("glue").create_table(
            DatabaseName=props["DatabaseName"], TableInput=props["TableInput"]
        )

    def _glue_job(self, resource: Resource) -> None:
        props = {k: v for k, v in resource.properties.items() if k != "Tags"}
        tags = {t["Key"]: t["Value"] for t in stack_tags(resource)}
        self.client("glue").create_job(**props, Tags=tags)

    def _workgroup(self, resource: Resource) -> None:
        props = resource.properties
        self.client("athena").create_work_group(
            Name=resource.name,
            Configuration=props.get("WorkGroupConfiguration", {}),
            Description=props.get("Description", ""),
            Tags=stack_tags(resource),
        )

    def _named_query(self, resource: Resource) -> None:
        props = resource.properties
        self.client("athena").create_named_query(
            Name=props["Name"],
            Description=props.get("Description", ""),
            Database=props["Database"],
            QueryString=props["QueryString"],
            WorkGroup=props.get("WorkGroup", "primary"),
        )

    def _bucket_deployment(self, resource: Resource) -> None:
        """What the CDK's BucketDeployment handler does: unzip each source into the target."""
        props = resource.properties
        s3 = self.client("s3")
        prefix = props.get("DestinationBucketKeyPrefix", "")
        for bucket, key in zip(props["SourceBucketNames"], props["SourceObjectKeys"], strict=True):
            archive = zipfile.ZipFile(io.BytesIO(self._asset_bytes(bucket, key)))
            for member in archive.infolist():
                if member.is_dir():
                    continue
                s3.put_object(
                    Bucket=props["DestinationBucketName"],
                    Key=f"{prefix}{member.filename}",
                    Body=archive.read(member),
                )
                self.result.objects += 1

    def _repository(self, resource: Resource) -> None:
        # The template's tag mutability: with IMMUTABLE, a push cannot move a pushed tag.
        self.client("ecr").create_repository(
            repositoryName=resource.name,
            tags=stack_tags(resource),
            imageTagMutability=resource.properties.get("ImageTagMutability", "MUTABLE"),
        )

    def _model_image(self, resource: Resource) -> None:
        """The image build's result: the tag it pushes, with a manifest naming its source."""
        props = resource.properties
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"source": props["ImageTag"]},
            "layers": [],
        }
        self.client("ecr").put_image(
            repositoryName=props["RepositoryName"],
            imageManifest=json.dumps(manifest),
            imageTag=props["ImageTag"],
        )

    def _model_package_group(self, resource: Resource) -> None:
        props = resource.properties
        self.client("sagemaker").create_model_package_group(
            ModelPackageGroupName=resource.name,
            ModelPackageGroupDescription=props.get("ModelPackageGroupDescription", ""),
            Tags=stack_tags(resource),
        )

    def _pipeline(self, resource: Resource) -> None:
        props = resource.properties
        definition = props["PipelineDefinition"]
        self.client("sagemaker").create_pipeline(
            PipelineName=resource.name,
            PipelineDisplayName=props.get("PipelineDisplayName", resource.name),
            PipelineDefinition=definition["PipelineDefinitionBody"],
            PipelineDescription=props.get("PipelineDescription", ""),
            RoleArn=props["RoleArn"],
            Tags=stack_tags(resource),
        )

    def _lambda_backed(self, resource: Resource) -> None:
        """Invoke the provider with a Create request and wait for its answer on the response
        URL, as CloudFormation does; a FAILED answer fails the deploy with its reason."""
        from workshopctl.emulator.functions import Functions
        from workshopctl.emulator.server import CLOUDFORMATION_RESPONSES

        token = resource.properties["ServiceToken"]
        function = token.rsplit(":", 1)[-1]
        properties = {k: v for k, v in resource.properties.items() if k != "ServiceToken"}
        request_id = f"{resource.stack}-{resource.logical_id}-create"
        event = {
            "RequestType": "Create",
            "ServiceToken": token,
            "ResponseURL": f"{self.account.url}{CLOUDFORMATION_RESPONSES}{request_id}",
            "StackId": (
                f"arn:aws:cloudformation:{self.assembly.region}:{self.assembly.account}:"
                f"stack/{resource.stack}/emulated"
            ),
            "RequestId": request_id,
            "LogicalResourceId": resource.logical_id,
            "ResourceType": resource.type,
            "ResourceProperties": {"ServiceToken": token, **properties},
        }
        functions = Functions(self.account)
        try:
            runtime = functions.resource(function).properties.get("Runtime", "")
        except KeyError:
            runtime = ""
        if not str(runtime).startswith("python"):
            self.result.not_emulated[f"{resource.type} ({runtime or 'no function'})"] += 1
            return
        functions.invoke(function, event, label=f"custom resource {resource.type}")
        answer = self.account.router.cloudformation_responses.get(request_id)
        if answer is None:
            raise DeployFailed(f"{resource.path}: {function} never answered CloudFormation")
        if answer.get("Status") != "SUCCESS":
            raise DeployFailed(f"{resource.path}: {answer.get('Reason', 'FAILED')}")
        self.result.custom_resources[resource.path] = answer

    def _model(self, resource: Resource) -> None:
        props = resource.properties
        optional = {
            key: props[key]
            for key in ("PrimaryContainer", "Containers", "VpcConfig", "EnableNetworkIsolation")
            if key in props
        }
        self.client("sagemaker").create_model(
            ModelName=resource.name,
            ExecutionRoleArn=props["ExecutionRoleArn"],
            Tags=stack_tags(resource),
            **optional,
        )

    def _endpoint_config(self, resource: Resource) -> None:
        props = resource.properties
        optional = {k: props[k] for k in ("DataCaptureConfig", "KmsKeyId") if k in props}
        self.client("sagemaker").create_endpoint_config(
            EndpointConfigName=resource.name,
            ProductionVariants=props["ProductionVariants"],
            Tags=stack_tags(resource),
            **optional,
        )

    def _endpoint(self, resource: Resource) -> None:
        """CreateEndpoint; CloudFormation reports it created once it is InService (awaited
        with the stack's other endpoints, so their servers start side by side)."""
        props = resource.properties
        self.client("sagemaker").create_endpoint(
            EndpointName=resource.name,
            EndpointConfigName=props["EndpointConfigName"],
            Tags=stack_tags(resource),
        )
        self._creating_endpoints.append(resource.name)

    def _await_endpoints(self) -> None:
        sagemaker = self.client("sagemaker")
        deadline = time.monotonic() + ENDPOINT_TIMEOUT_SECONDS
        while self._creating_endpoints:
            name = self._creating_endpoints[0]
            described = sagemaker.describe_endpoint(EndpointName=name)
            status = described["EndpointStatus"]
            if status == "InService":
                self._creating_endpoints.pop(0)
            elif status != "Creating" or time.monotonic() > deadline:
                self._creating_endpoints.clear()
                reason = described.get(
                    "FailureReason", f"not in service after {ENDPOINT_TIMEOUT_SECONDS:.0f} s"
                )
                raise DeployError(f"endpoint {name}: {status}: {reason}")
            else:
                time.sleep(0.1)

    def _scalable_target(self, resource: Resource) -> None:
        """After its endpoint is in service (the template's dependency)."""
        self._await_endpoints()
        props = resource.properties
        optional = {k: props[k] for k in ("RoleARN", "SuspendedState") if k in props}
        self.client("application-autoscaling").register_scalable_target(
            ServiceNamespace=props["ServiceNamespace"],
            ResourceId=props["ResourceId"],
            ScalableDimension=props["ScalableDimension"],
            MinCapacity=props["MinCapacity"],
            MaxCapacity=props["MaxCapacity"],
            Tags={tag["Key"]: tag["Value"] for tag in stack_tags(resource)},
            **optional,
        )

    def _scaling_policy(self, resource: Resource) -> None:
        """The target named by ScalingTargetId (its Ref), or given by its three properties."""
        props = resource.properties
        target = props
        if "ScalingTargetId" in props:
            target = next(
                r.properties
                for r in self.assembly.resources("AWS::ApplicationAutoScaling::ScalableTarget")
                if r.name == props["ScalingTargetId"]
            )
        optional = {
            k: props[k]
            for k in ("TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration")
            if k in props
        }
        self.client("application-autoscaling").put_scaling_policy(
            PolicyName=props["PolicyName"],
            ServiceNamespace=target["ServiceNamespace"],
            ResourceId=target["ResourceId"],
            ScalableDimension=target["ScalableDimension"],
            PolicyType=props.get("PolicyType", "StepScaling"),
            **optional,
        )

    def _function(self, resource: Resource) -> None:
        """Functions run in the rehearsal as processes (their code is in the assembly)."""
        self.result.functions[resource.name] = resource

    def _queue(self, resource: Resource) -> None:
        """A queue (the promotion rule's dead-letter queue); its policy stays in the assembly,
        which the event bus asks before it sends."""
        self.client("sqs").create_queue(QueueName=resource.name, tags={
            tag["Key"]: tag["Value"] for tag in stack_tags(resource)
        })  # fmt: skip

    def _rule(self, resource: Resource) -> None:
        """An EventBridge rule and its targets on the default bus (the emulator's event bus
        delivers what matches; executors/events.py)."""
        props = resource.properties
        events = self.client("events")
        optional = {
            k: json.dumps(props[k]) if k == "EventPattern" else props[k]
            for k in ("EventPattern", "ScheduleExpression", "Description", "State")
            if k in props
        }
        events.put_rule(Name=resource.name, **optional)
        targets = [
            {k: target[k] for k in ("Id", "Arn", "RoleArn", "Input", "InputPath",
                                    "RetryPolicy", "DeadLetterConfig") if k in target}
            for target in props.get("Targets", [])
        ]  # fmt: skip
        if targets:
            events.put_targets(Rule=resource.name, Targets=targets)


def deploy(account: EmulatedAccount) -> Deployment:
    return Deployer(account).deploy()
