"""The synthesized cloud assembly (``cdk.out``) read as the account a deploy would create.

One reader for everything that needs to know what the stacks decided (the contract checker,
the organiser's commands, the local target): templates are resolved for a fixed account and
region the way CloudFormation would resolve them (``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
``Fn::Sub``, ``Fn::ImportValue`` across stacks, ``Fn::FindInMap``, ...), physical names come from
the name properties the templates set, and generated names are stable placeholders
(``<stack>-<logical id>``). What CloudFormation returns for ``Ref`` and each attribute follows
the "Return values" section of each resource type's page in the CloudFormation User Guide
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).

On top of the resolved templates it answers the questions the IAM evaluation needs: which
policies a role has (inline, customer-managed, AWS-managed by name), and the resource policy of
a bucket, key, topic, queue or function; and it reads the asset manifests (what a deploy
uploads to the bootstrap bucket and repository).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshopctl.iam_evaluation import Decision, Principal, Request, evaluate

ACCOUNT = "123456789012"
REGION = "eu-west-1"

# The property that carries a resource's physical name, per type.
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::NotebookInstance": "NotebookInstanceName",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig": "NotebookInstanceLifecycleConfigName",
    "AWS::SageMaker::Pipeline": "PipelineName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::SageMaker::Domain": "DomainName",
    "AWS::SageMaker::UserProfile": "UserProfileName",
    "AWS::Glue::Job": "Name",
    "AWS::Glue::SecurityConfiguration": "Name",
    "AWS::Athena::WorkGroup": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::CodeBuild::Project": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
}

# Types whose names AWS allows in lowercase only, so CloudFormation generates them so (S3 bucket
# naming rules; ECR's repositoryName pattern in the CreateRepository API reference).
LOWERCASE_NAMES = {"AWS::S3::Bucket", "AWS::ECR::Repository"}
# Types whose Ref is their ARN (the others' Ref is their name or id).
REF_IS_ARN = {
    "AWS::IAM::ManagedPolicy",
    "AWS::SNS::Topic",
    "AWS::SageMaker::Model",
    "AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::NotebookInstance",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig",
    "AWS::SageMaker::ModelPackageGroup",
    "AWS::Lambda::LayerVersion",
    "AWS::SecretsManager::Secret",
}

# ARN shapes, for Ref and Fn::GetAtt Arn: {p} partition, {r} region, {a} account, {n} name.
ARN_FORMAT = {
    "AWS::S3::Bucket": "arn:aws:s3:::{n}",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{n}",
    "AWS::IAM::User": "arn:aws:iam::{a}:user/{n}",
    "AWS::IAM::Group": "arn:aws:iam::{a}:group/{n}",
    # Secrets Manager appends six random characters to a secret's ARN; the reader cannot know them.
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{r}:{a}:secret:{n}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{a}:policy/{n}",
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{n}",
    "AWS::Lambda::LayerVersion": "arn:aws:lambda:{r}:{a}:layer:{n}:1",
    "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{n}",
    "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{n}",
    "AWS::ECR::Repository": "arn:aws:ecr:{r}:{a}:repository/{n}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}:*",
    "AWS::KMS::Key": "arn:aws:kms:{r}:{a}:key/{n}",
    "AWS::SageMaker::Model": "arn:aws:sagemaker:{r}:{a}:model/{n}",
    "AWS::SageMaker::EndpointConfig": "arn:aws:sagemaker:{r}:{a}:endpoint-config/{n}",
    "AWS::SageMaker::Endpoint": "arn:aws:sagemaker:{r}:{a}:endpoint/{n}",
    "AWS::SageMaker::NotebookInstance": "arn:aws:sagemaker:{r}:{a}:notebook-instance/{n}",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig": (
        "arn:aws:sagemaker:{r}:{a}:notebook-instance-lifecycle-config/{n}"
    ),
    "AWS::SageMaker::Pipeline": "arn:aws:sagemaker:{r}:{a}:pipeline/{n}",
    "AWS::SageMaker::ModelPackageGroup": "arn:aws:sagemaker:{r}:{a}:model-package-group/{n}",
    "AWS::SageMaker::Domain": "arn:aws:sagemaker:{r}:{a}:domain/{n}",
    "AWS::Glue::Job": "arn:aws:glue:{r}:{a}:job/{n}",
    "AWS::Athena::WorkGroup": "arn:aws:athena:{r}:{a}:workgroup/{n}",
    "AWS::SSM::Parameter": "arn:aws:ssm:{r}:{a}:parameter/{n}",
    "AWS::CodeBuild::Project": "arn:aws:codebuild:{r}:{a}:project/{n}",
    "AWS::Events::Rule": "arn:aws:events:{r}:{a}:rule/{n}",
    "AWS::Scheduler::Schedule": "arn:aws:scheduler:{r}:{a}:schedule/default/{n}",
    "AWS::CloudWatch::Alarm": "arn:aws:cloudwatch:{r}:{a}:alarm:{n}",
}

# Fn::GetAtt attributes that are the physical name under another label.
NAME_ATTRIBUTES = {
    "ModelName",
    "EndpointName",
    "EndpointConfigName",
    "NotebookInstanceName",
    "NotebookInstanceLifecycleConfigName",
    "PipelineName",
    "ModelPackageGroupName",
    "TopicName",
    "QueueName",
    "Name",
    "DomainId",
}


# The longest physical name CloudFormation generates per type (the service's name limit).
GENERATED_NAME_LIMIT = {"AWS::S3::Bucket": 63, "AWS::SQS::Queue": 80, "AWS::SNS::Topic": 256}


class UnresolvableError(ValueError):
    """A template value this reader cannot resolve (an intrinsic it does not know)."""


@dataclass(frozen=True)
class Resource:
    stack: str
    logical_id: str
    type: str
    properties: dict[str, Any]  # resolved
    name: str  # physical name or id
    arn: str | None

    @property
    def path(self) -> str:
        return f"{self.stack}/{self.logical_id}"


@dataclass(frozen=True)
class Role:
    """A role as IAM will see it: its policies as (name, document) pairs."""

    resource: Resource
    trust_policy: dict[str, Any]
    policies: tuple[tuple[str, dict[str, Any]], ...]
    aws_managed_policies: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    inline_policies: tuple[dict[str, Any], ...] = ()  # documents IAM counts as inline
    managed_policy_count: int = 0  # customer- and AWS-managed policies attached

    @property
    def arn(self) -> str:
        return self.resource.arn or ""

    @property
    def name(self) -> str:
        return self.resource.name

    def principal(self, account: str = ACCOUNT) -> Principal:
        return Principal(self.arn, account, self.tags)


@dataclass(frozen=True)
class User:
    """An IAM user as IAM will see it: its own policies and those of its groups."""

    resource: Resource
    policies: tuple[tuple[str, dict[str, Any]], ...]
    groups: tuple[str, ...]  # group names
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return self.resource.arn or ""

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def login_profile(self) -> dict[str, Any] | None:
        """The console password settings (a dynamic reference, never the password)."""
        return self.resource.properties.get("LoginProfile")

    def principal(self, account: str = ACCOUNT) -> Principal:
        return Principal(self.arn, account, self.tags, kind="User")


@dataclass(frozen=True)
class FileAsset:
    """A file asset as a publisher sees it: its source and where it goes, with the placeholders
    (``${AWS::AccountId}``, a template parameter's ``${Name}``) still in the destination."""

    source: Path  # a file, or a folder that ``packaging="zip"`` zips on publishing
    packaging: str  # "file" or "zip"
    bucket: str
    key: str
    region: str = "${AWS::Region}"
    role: str = ""  # the publishing role of the destination (its account tells whose it is)


@dataclass(frozen=True)
class AssemblyLayout:
    """Which templates make the assembly, in what order, and the file assets they read.

    ``of_cdk_out`` reads a ``cdk.out`` (its manifest and asset manifests); other layouts (the
    Workshop Studio bundle, :mod:`workshopctl.workshop_studio_bundle`) give the same three
    things from their own files.
    """

    templates: dict[str, Path]  # artifact id -> template file
    stack_names: dict[str, str]  # artifact id -> the stack's name in CloudFormation
    dependencies: dict[str, list[str]]  # artifact id -> the stacks it deploys after
    assets: tuple[FileAsset, ...] = ()

    @classmethod
    def of_cdk_out(cls, outdir: Path) -> AssemblyLayout:
        manifest = json.loads((outdir / "manifest.json").read_text())
        templates, names, dependencies = {}, {}, {}
        for artifact_id, artifact in manifest["artifacts"].items():
            if artifact.get("type") == "aws:cloudformation:stack":
                templates[artifact_id] = outdir / artifact["properties"]["templateFile"]
                names[artifact_id] = artifact["properties"].get("stackName", artifact_id)
                dependencies[artifact_id] = list(artifact.get("dependencies", []))
        assets = []
        for manifest_file in sorted(outdir.glob("*.assets.json")):
            for entry in json.loads(manifest_file.read_text()).get("files", {}).values():
                for destination in entry.get("destinations", {}).values():
                    assets.append(
                        FileAsset(
                            source=outdir / entry["source"]["path"],
                            packaging=entry["source"].get("packaging", "file"),
                            bucket=destination["bucketName"],
                            key=destination["objectKey"],
                            region=destination.get("region", "${AWS::Region}"),
                            role=destination.get("assumeRoleArn", ""),
                        )
                    )
        return cls(templates, names, dependencies, tuple(assets))


class MissingParameterError(ValueError):
    """A template parameter has no Default and the assembly was given no value for it."""


class CloudAssembly:
    """The templates of one ``cdk.out`` (or another :class:`AssemblyLayout`), resolved for
    ``account`` and ``region``.

    ``parameters`` are the template parameters' values a deploy passes (CloudFormation's
    ``Parameters`` of CreateStack): ``Ref`` and ``Fn::Sub`` resolve a parameter to its given
    value, else to its ``Default``; a parameter with neither is an error that names it
    ("Parameters" in the CloudFormation User Guide:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html).
    """

    def __init__(
        self,
        outdir: Path | str,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        longest_names: bool = False,
        parameters: Mapping[str, str] | None = None,
        layout: AssemblyLayout | None = None,
    ):
        """``longest_names``: give generated names the longest length CloudFormation may
        generate (for size limits, e.g. of policies that name buckets and roles).
        ``parameters``: the values given to the templates' parameters (every template that
        declares one receives it, as Workshop Studio passes its variables to each template).
        ``layout``: the templates and assets, when ``outdir`` is not a ``cdk.out``."""
        self.outdir = Path(outdir)
        self.account = account
        self.region = region
        self.longest_names = longest_names
        self.layout = layout or AssemblyLayout.of_cdk_out(self.outdir)
        self.templates: dict[str, dict[str, Any]] = {
            artifact_id: json.loads(path.read_text())
            for artifact_id, path in self.layout.templates.items()
        }
        self.stack_names: dict[str, str] = dict(self.layout.stack_names)
        self.parameters: dict[str, str] = dict(parameters or {})
        if parameters is not None:
            self._check_parameters()
        self._exports = self._export_index()

    def _check_parameters(self) -> None:
        declared = {
            name: (stack, spec)
            for stack, template in self.templates.items()
            for name, spec in template.get("Parameters", {}).items()
        }
        unknown = sorted(set(self.parameters) - set(declared))
        if unknown:
            raise MissingParameterError(
                f"no template declares the parameter(s) {', '.join(unknown)}; the templates "
                f"declare: {', '.join(sorted(declared)) or 'none'}"
            )
        missing = [
            f"{name} (stack {stack})"
            for name, (stack, spec) in sorted(declared.items())
            if name not in self.parameters and "Default" not in spec
        ]
        if missing:
            raise MissingParameterError(
                f"no value for the required template parameter(s) {', '.join(missing)}: "
                "pass them in parameters={...}"
            )

    @property
    def dependencies(self) -> dict[str, list[str]]:
        """Each stack's dependencies (artifact ids; asset manifests among them for a cdk.out)."""
        return self.layout.dependencies

    # -- resolution ---------------------------------------------------------------------------
    @property
    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Partition": "aws",
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }

    def resolve(self, stack: str, node: Any) -> Any:
        """``node`` of ``stack``'s template with every intrinsic function resolved."""
        if isinstance(node, list):
            return [self.resolve(stack, item) for item in node if not _is_no_value(item)]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self._ref(stack, value)
            if key.startswith("Fn::"):
                return self._function(stack, key, value)
        return {k: self.resolve(stack, v) for k, v in node.items() if not _is_no_value(v)}

    def _function(self, stack: str, name: str, value: Any) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
            return self.attribute(stack, logical_id, attribute)
        if name == "Fn::Join":
            delimiter, items = value
            return delimiter.join(str(item) for item in self.resolve(stack, items))
        if name == "Fn::Sub":
            return self._sub(stack, value)
        if name == "Fn::ImportValue":
            return self._import(self.resolve(stack, value))
        if name == "Fn::Select":
            index, items = self.resolve(stack, value)
            return items[int(index)]
        if name == "Fn::Split":
            delimiter, text = self.resolve(stack, value)
            return text.split(delimiter)
        if name == "Fn::FindInMap":
            mapping, first, second = self.resolve(stack, value)
            return self.templates[stack]["Mappings"][mapping][first][second]
        if name == "Fn::GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name == "Fn::Base64":
            return self.resolve(stack, value)
        raise UnresolvableError(f"{stack}: {name} is not supported by the assembly reader")

    def _sub(self, stack: str, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else value
        resolved = {k: self.resolve(stack, v) for k, v in variables.items()}

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved:
                return str(resolved[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.attribute(stack, logical_id, attribute))
            return str(self._ref(stack, name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _ref(self, stack: str, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        template = self.templates[stack]
        if name in template.get("Parameters", {}):
            return self._parameter(stack, name, template["Parameters"][name])
        resource = self.resource(stack, name)
        if resource.type in REF_IS_ARN:
            return resource.arn
        if resource.type == "AWS::SQS::Queue":
            return self._queue_url(resource.name)
        return resource.name

    def _parameter(self, stack: str, name: str, spec: Mapping[str, Any]) -> Any:
        """A given value, else the Default. An assembly given no ``parameters`` only reads the
        templates (outputs, policies): a parameter with neither resolves to None there, where
        one given ``parameters`` was refused at construction (:meth:`_check_parameters`)."""
        if name in self.parameters:
            return self.parameters[name]
        return spec.get("Default")

    def attribute(self, stack: str, logical_id: str, attribute: str) -> Any:
        """``Fn::GetAtt`` as CloudFormation returns it."""
        resource = self.resource(stack, logical_id)
        if attribute in ("Arn", "TopicArn", "ModelPackageGroupArn") and resource.arn:
            return resource.arn
        if attribute in NAME_ATTRIBUTES:
            return resource.name
        if resource.type == "AWS::S3::Bucket" and attribute in ("DomainName", "RegionalDomainName"):
            return f"{resource.name}.s3.{self.region}.amazonaws.com"
        if resource.type == "AWS::ECR::Repository" and attribute == "RepositoryUri":
            return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{resource.name}"
        if resource.type == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self._queue_url(resource.name)
        if resource.type == "AWS::KMS::Key" and attribute == "KeyId":
            return resource.name
        if resource.type == "AWS::IAM::Role" and attribute == "RoleId":
            return f"AROA{logical_id.upper()[:17]}"
        if attribute == "ImageUri" and "RepositoryUri" in resource.properties:
            # Custom::ModelImage (lambdas/image_build) answers with the pushed image's URI.
            return f"{resource.properties['RepositoryUri']}:{resource.properties['ImageTag']}"
        return f"{{{resource.path}.{attribute}}}"  # a custom resource's answer: opaque

    def _queue_url(self, name: str) -> str:
        return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"

    def _export_index(self) -> dict[str, tuple[str, Any]]:
        exports = {}
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    exports[output["Export"]["Name"]] = (stack, output["Value"])
        return exports

    def _import(self, name: str) -> Any:
        if name not in self._exports:
            raise UnresolvableError(f"no stack exports {name}")
        stack, value = self._exports[name]
        return self.resolve(stack, value)

    def outputs(self) -> dict[str, dict[str, Any]]:
        """Each stack's outputs (by stack name, then output key), resolved as CloudFormation
        would return them from DescribeStacks for this account and region."""
        return {
            self.stack_names[stack]: {
                key: self.resolve(stack, output["Value"])
                for key, output in template.get("Outputs", {}).items()
            }
            for stack, template in self.templates.items()
        }

    # -- resources ----------------------------------------------------------------------------
    @functools.cache  # noqa: B019 - the assembly is immutable and lives as long as its cache
    def resource(self, stack: str, logical_id: str) -> Resource:
        raw = self.templates[stack]["Resources"][logical_id]
        kind = raw["Type"]
        properties = raw.get("Properties", {})
        name = self._physical_name(stack, logical_id, kind, properties)
        arn_format = ARN_FORMAT.get(kind)
        arn = (
            arn_format.format(a=self.account, r=self.region, n=name.lstrip("/"))
            if arn_format
            else None
        )
        # Properties resolve eagerly: a Ref or GetAtt needs only another resource's name, so
        # resolution never recurses into a cycle.
        return Resource(stack, logical_id, kind, self.resolve(stack, properties), name, arn)

    def _physical_name(self, stack: str, logical_id: str, kind: str, properties: dict) -> str:
        explicit = None
        if kind in NAME_PROPERTY and NAME_PROPERTY[kind] in properties:
            explicit = self.resolve(stack, properties[NAME_PROPERTY[kind]])
        elif kind == "AWS::Glue::Database":
            explicit = self.resolve(stack, properties["DatabaseInput"]["Name"])
        elif kind == "AWS::Glue::Table":
            explicit = self.resolve(stack, properties["TableInput"]["Name"])
        if explicit:
            return str(explicit)
        if kind == "AWS::KMS::Key":
            return f"key-{logical_id.lower()}"
        generated = f"{stack}-{logical_id}"
        limit = GENERATED_NAME_LIMIT.get(kind, 64)
        if self.longest_names:
            generated = f"{generated}-".ljust(limit, "x")
        if kind in LOWERCASE_NAMES:
            return generated.lower()[:limit]
        return generated[:limit]

    def resources(self, kind: str | None = None) -> Iterator[Resource]:
        for stack, template in self.templates.items():
            for logical_id, raw in template["Resources"].items():
                if kind is None or raw["Type"] == kind:
                    yield self.resource(stack, logical_id)

    def find(self, kind: str, name: str) -> Resource | None:
        """The resource of ``kind`` with physical name (or ARN) ``name``."""
        for resource in self.resources(kind):
            if name in (resource.name, resource.arn):
                return resource
        return None

    # -- IAM ----------------------------------------------------------------------------------
    @functools.cached_property
    def roles(self) -> dict[str, Role]:
        """Every role of the assembly by ARN, with all policies that attach to it."""
        managed = {r.arn: r for r in self.resources("AWS::IAM::ManagedPolicy")}
        roles = {}
        for resource in self.resources("AWS::IAM::Role"):
            props = resource.properties
            policies = [
                (f"{resource.path}:{p['PolicyName']}", p["PolicyDocument"])
                for p in props.get("Policies", [])
            ]
            inline = [document for _, document in policies]
            attached = len(props.get("ManagedPolicyArns", []))
            aws_managed = []
            for arn in props.get("ManagedPolicyArns", []):
                if arn in managed:
                    policies.append((managed[arn].path, managed[arn].properties["PolicyDocument"]))
                else:
                    aws_managed.append(arn)
            for policy in self.resources("AWS::IAM::ManagedPolicy"):
                policy_roles = policy.properties.get("Roles", [])
                if resource.name in policy_roles and policy.arn not in props.get(
                    "ManagedPolicyArns", []
                ):
                    policies.append((policy.path, policy.properties["PolicyDocument"]))
                    attached += 1
            for policy in self.resources("AWS::IAM::Policy"):
                if resource.name in policy.properties.get("Roles", []):
                    policies.append((policy.path, policy.properties["PolicyDocument"]))
                    inline.append(policy.properties["PolicyDocument"])
            tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
            roles[resource.arn] = Role(
                resource,
                props.get("AssumeRolePolicyDocument", {}),
                tuple(policies),
                tuple(aws_managed),
                tags,
                tuple(inline),
                attached,
            )
        return roles

    @functools.cached_property
    def users(self) -> dict[str, User]:
        """Every IAM user of the assembly by ARN, with its own policies and its groups'
        (a user's effective identity policies: IAM User Guide, "Policies and permissions",
        https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html)."""
        group_policies = self._group_policies()
        users = {}
        for resource in self.resources("AWS::IAM::User"):
            props = resource.properties
            groups = list(props.get("Groups", []))
            for addition in self.resources("AWS::IAM::UserToGroupAddition"):
                if resource.name in addition.properties.get("Users", []):
                    groups.append(addition.properties["GroupName"])
            policies = self._attached_policies(resource, props, "Users")
            for group in groups:
                policies += group_policies.get(group, [])
            tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
            users[resource.arn] = User(resource, tuple(policies), tuple(groups), tags)
        return users

    def _group_policies(self) -> dict[str, list[tuple[str, dict]]]:
        return {
            group.name: self._attached_policies(group, group.properties, "Groups")
            for group in self.resources("AWS::IAM::Group")
        }

    def _attached_policies(
        self, holder: Resource, props: dict[str, Any], member_key: str
    ) -> list[tuple[str, dict]]:
        """The policies of a user or group: inline, managed by ARN, and the managed and inline
        policies that name it under ``member_key`` (``Users`` or ``Groups``)."""
        managed = {r.arn: r for r in self.resources("AWS::IAM::ManagedPolicy")}
        policies = [
            (f"{holder.path}:{p['PolicyName']}", p["PolicyDocument"])
            for p in props.get("Policies", [])
        ]
        for arn in props.get("ManagedPolicyArns", []):
            if arn in managed:
                policies.append((managed[arn].path, managed[arn].properties["PolicyDocument"]))
        for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            for policy in self.resources(kind):
                if holder.name in policy.properties.get(member_key, []) and (
                    policy.arn not in props.get("ManagedPolicyArns", [])
                ):
                    policies.append((policy.path, policy.properties["PolicyDocument"]))
        return policies

    def user(self, name_or_arn: str) -> User:
        for user in self.users.values():
            if name_or_arn in (user.arn, user.name):
                return user
        raise KeyError(f"no IAM user {name_or_arn} in the assembly")

    def role(self, arn: str) -> Role:
        if arn not in self.roles:
            raise KeyError(f"no role {arn} in the assembly")
        return self.roles[arn]

    def resource_policy(self, resource_arn: str) -> tuple[str, dict] | None:
        """The resource-based policy that governs ``resource_arn``, if the assembly has one."""
        service = resource_arn.split(":")[2]
        if service == "s3":
            bucket = resource_arn.split(":::", 1)[1].split("/", 1)[0]
            for policy in self.resources("AWS::S3::BucketPolicy"):
                if policy.properties["Bucket"] == bucket:
                    return policy.path, policy.properties["PolicyDocument"]
        elif service == "kms":
            key = self.find("AWS::KMS::Key", resource_arn)
            if key is not None:
                return key.path, key.properties["KeyPolicy"]
        elif service == "sns":
            for policy in self.resources("AWS::SNS::TopicPolicy"):
                if resource_arn in policy.properties["Topics"]:
                    return policy.path, policy.properties["PolicyDocument"]
        elif service == "sqs":
            for policy in self.resources("AWS::SQS::QueuePolicy"):
                urls = policy.properties["Queues"]
                if any(url.rsplit("/", 1)[-1] == resource_arn.rsplit(":", 1)[-1] for url in urls):
                    return policy.path, policy.properties["PolicyDocument"]
        elif service == "lambda":
            return self._lambda_permissions(resource_arn)
        elif service == "ecr":
            repository = self.find("AWS::ECR::Repository", resource_arn)
            if repository is not None and "RepositoryPolicyText" in repository.properties:
                return repository.path, repository.properties["RepositoryPolicyText"]
        return None

    def _lambda_permissions(self, function_arn: str) -> tuple[str, dict] | None:
        statements = []
        for permission in self.resources("AWS::Lambda::Permission"):
            props = permission.properties
            target = props["FunctionName"]
            if target not in (function_arn, function_arn.rsplit(":", 1)[-1]):
                continue
            statement = {
                "Effect": "Allow",
                "Principal": {"Service": props["Principal"]}
                if props["Principal"].endswith(".amazonaws.com")
                else {"AWS": props["Principal"]},
                "Action": props["Action"],
                "Resource": function_arn,
            }
            if "SourceArn" in props:
                statement["Condition"] = {"ArnLike": {"aws:SourceArn": props["SourceArn"]}}
            statements.append(statement)
        return ("lambda-permissions", {"Statement": statements}) if statements else None

    def decide(
        self,
        principal: Role | User | str,
        action: str,
        resource: str,
        context: dict[str, Any] | None = None,
    ) -> Decision:
        """Would AWS allow ``principal`` (a role, or a service principal's name) ``action`` on
        ``resource``? Identity policies plus the resource's own policy from the assembly."""
        if isinstance(principal, Role | User):
            who, identity = principal.principal(self.account), principal.policies
        else:
            who, identity = Principal(principal, self.account), ()
        request = Request(who, action, resource, context or {})
        is_key = resource.startswith("arn:aws:kms:")
        resource_policy = self.resource_policy(resource) if resource.startswith("arn:") else None
        if is_key and resource_policy is None:
            return Decision(False, f"{resource} is not a key of this assembly (no key policy)")
        return evaluate(request, identity, resource_policy, key_policy=is_key)


def _is_no_value(node: Any) -> bool:
    return isinstance(node, dict) and node == {"Ref": "AWS::NoValue"}


# -- assets: what a deploy uploads to the bootstrap bucket and repository -----------------
def placeholder_resolver(
    account: str, region: str, parameters: Mapping[str, str] | None = None
) -> Callable[[str], str]:
    """Fills an asset manifest's placeholders as the CDK CLI does (``${AWS::AccountId}``,
    ``${AWS::Region}``, ``${AWS::Partition}``), and a template parameter's ``${Name}`` with its
    value (the event-bucket synthesizer's destinations, stacks/synthesizers.py)."""
    values = {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws"}
    values.update(parameters or {})

    def resolve(text: str) -> str:
        for name, value in values.items():
            text = text.replace(f"${{{name}}}", value)
        return text

    return resolve


def asset_destinations(
    cdk_out: Path, account: str, region: str, parameters: Mapping[str, str] | None = None
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """((bucket, key) of every file asset, (repository, tag) of every image asset) that the
    asset manifests in ``cdk_out`` publish to this account and region (none without them);
    ``parameters`` fill the templates' parameters in the destinations (an event bucket's)."""
    files: set[tuple[str, str]] = set()
    images: set[tuple[str, str]] = set()
    resolve = placeholder_resolver(account, region, parameters)

    for manifest_file in sorted(Path(cdk_out).glob("*.assets.json")):
        manifest = json.loads(manifest_file.read_text())
        for asset in manifest.get("files", {}).values():
            for destination in asset.get("destinations", {}).values():
                if _same_environment(destination, account, region, resolve):
                    files.add(
                        (resolve(destination["bucketName"]), resolve(destination["objectKey"]))
                    )
        for asset in manifest.get("dockerImages", {}).values():
            for destination in asset.get("destinations", {}).values():
                if _same_environment(destination, account, region, resolve):
                    images.add(
                        (resolve(destination["repositoryName"]), resolve(destination["imageTag"]))
                    )
    return files, images


def file_assets(assembly: CloudAssembly) -> list[FileAsset]:
    """The assembly's file assets this account and region receive, destinations resolved
    (placeholders and the given template parameters filled in)."""
    resolve = placeholder_resolver(assembly.account, assembly.region, assembly.parameters)
    found = []
    for asset in assembly.layout.assets:
        destination = {"region": asset.region, "assumeRoleArn": asset.role}
        if _same_environment(destination, assembly.account, assembly.region, resolve):
            found.append(
                FileAsset(
                    asset.source,
                    asset.packaging,
                    resolve(asset.bucket),
                    resolve(asset.key),
                    assembly.region,
                    resolve(asset.role),
                )
            )
    return found


def _same_environment(
    destination: dict[str, Any], account: str, region: str, resolve: Callable[[str], str]
) -> bool:
    wanted_region = resolve(destination.get("region", region))
    role = resolve(destination.get("assumeRoleArn", ""))
    return wanted_region == region and (not role or f":{account}:" in role)
