"""What AWS services do with the project's roles, derived from the synthesized resources.

Each ``*_accesses`` function reads one kind of resource from the cloud assembly and yields the
requests AWS will make when it runs it, as the role AWS documents it uses. The contract tests
then ask the IAM evaluation whether each request is allowed. The AWS page behind every rule is
named in the function's docstring.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from workshopctl.cloud_assembly import CloudAssembly, Resource
from workshopctl.emulator.pipeline_expressions import ExpressionError, parse_path, walk

RUN = "run-1"  # a value only known at run time (an execution id, a generated job name)


@dataclass(frozen=True)
class Access:
    """One request AWS makes: ``principal`` (a role ARN, or a service principal's name) does
    ``action`` on ``resource``."""

    principal: str
    action: str
    resource: str
    why: str
    context: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        who = self.principal.rsplit("/", 1)[-1]
        extra = f" {dict(self.context)}" if self.context else ""
        return f"{who} → {self.action} on {self.resource}{extra}: {self.why}"


# -- S3, KMS, ECR building blocks ----------------------------------------------------------------
def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def bucket_key_arn(assembly: CloudAssembly, bucket: str) -> str | None:
    """The customer key a bucket of the assembly encrypts new objects with (SSE-KMS)."""
    resource = assembly.find("AWS::S3::Bucket", bucket)
    if resource is None:
        return None
    rules = resource.properties.get("BucketEncryption", {}).get(
        "ServerSideEncryptionConfiguration", []
    )
    for rule in rules:
        default = rule.get("ServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
            return key_arn(assembly, default["KMSMasterKeyID"])
    return None


def key_arn(assembly: CloudAssembly, key: str) -> str:
    if key.startswith("arn:"):
        return key
    found = assembly.find("AWS::KMS::Key", key)
    return found.arn if found else key


def s3_read(
    assembly: CloudAssembly, role: str, uri: str, why: str, *, prefix: bool
) -> Iterator[Access]:
    """Reading ``uri``. An ``S3Prefix`` input is listed before it is downloaded, so it needs
    ``s3:ListBucket`` on that prefix as well (SageMaker API Reference, S3DataSource:
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3DataSource.html; the
    Amazon S3 actions: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
    Objects in an SSE-KMS bucket are decrypted through S3 with the reader's rights
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)."""
    bucket, key = split_s3(uri)
    if prefix:
        yield Access(
            role,
            "s3:ListBucket",
            f"arn:aws:s3:::{bucket}",
            f"{why} (S3Prefix: listed first)",
            {"s3:prefix": key},
        )
        key = key if key.endswith((".gz", ".csv", ".json", ".py", ".zip")) else f"{key}/part-0"
    yield Access(role, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", why)
    yield from _through_s3(assembly, role, bucket, "kms:Decrypt", why)


def s3_write(assembly: CloudAssembly, role: str, uri: str, why: str) -> Iterator[Access]:
    bucket, key = split_s3(uri)
    key = key if key.endswith((".gz", ".json", ".csv")) else f"{key.rstrip('/')}/out-0"
    yield Access(role, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", why)
    yield from _through_s3(assembly, role, bucket, "kms:GenerateDataKey", why)


def _through_s3(
    assembly: CloudAssembly, role: str, bucket: str, action: str, why: str
) -> Iterator[Access]:
    """S3 uses an SSE-KMS bucket's key with the caller's rights, as S3 (kms:ViaService)."""
    key = bucket_key_arn(assembly, bucket)
    if key:
        via_s3 = {"kms:ViaService": f"s3.{assembly.region}.amazonaws.com"}
        yield Access(role, action, key, f"{why} (SSE-KMS)", via_s3)


def image_pull(assembly: CloudAssembly, role: str, image: str, why: str) -> Iterator[Access]:
    """A private image in the account's own registry is pulled with the execution role
    (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html, "CreateModel API:
    Execution Role Permissions"); SageMaker's first-party images live in AWS's accounts and
    need no permission of the role."""
    registry, _, rest = image.partition("/")
    if not registry.startswith(f"{assembly.account}.dkr.ecr."):
        return
    repository = rest.split(":")[0].split("@")[0]
    arn = f"arn:aws:ecr:{assembly.region}:{assembly.account}:repository/{repository}"
    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
        yield Access(role, action, arn, f"{why} pulls {repository}")
    yield Access(role, "ecr:GetAuthorizationToken", "*", f"{why} logs in to ECR")


def pass_role(caller: str, passed: str, service: str, why: str) -> Access:
    return Access(caller, "iam:PassRole", passed, why, {"iam:PassedToService": service})


# -- SageMaker pipelines -------------------------------------------------------------------------
class _Definition:
    """Resolves a pipeline definition's expressions to the strings a run would see, with
    :data:`RUN` where only the run knows the value."""

    def __init__(self, definition: Mapping[str, Any]):
        self.parameters = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
        self.steps = {step["Name"]: step for step in _flatten(definition["Steps"])}

    def value(self, node: Any) -> Any:
        if isinstance(node, Mapping) and "Get" in node:
            return self._get(node["Get"])
        if isinstance(node, Mapping) and "Std:Join" in node:
            join = node["Std:Join"]
            return join["On"].join(str(self.value(v)) for v in join["Values"])
        if isinstance(node, Mapping) and "Std:JsonGet" in node:
            return RUN
        return node

    def _get(self, path: str) -> Any:
        segments = parse_path(path)
        if segments[0] == "Parameters":
            return self.parameters[segments[1]]
        if segments[0] == "Steps":
            step = self.steps[segments[1]]
            if segments[2:4] == ["ModelArtifacts", "S3ModelArtifacts"]:
                output = self.value(step["Arguments"]["OutputDataConfig"]["S3OutputPath"])
                return f"{output}/{RUN}/output/model.tar.gz"
            try:  # the step's own arguments, walked as the emulator's executions walk them
                return self.value(walk(step["Arguments"], segments[2:], path))
            except ExpressionError:
                return RUN  # a property only the run produces (a job name, a metric)
        return RUN


def _flatten(steps: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from _flatten(step["Arguments"].get("IfSteps", []))
            yield from _flatten(step["Arguments"].get("ElseSteps", []))


def pipeline_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """Every pipeline step, as SageMaker Pipelines runs it: the pipeline's role creates each
    step's job and passes the step's role to it; the job's role reads its inputs (listing
    ``S3Prefix`` inputs), writes its outputs and pulls private images.
    (https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-access.html,
    https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html)"""
    for pipeline, definition in _definitions(assembly):
        caller = pipeline.properties["RoleArn"]
        for step in definition.steps.values():
            where = f"{pipeline.name}/{step['Name']}"
            yield from _step_accesses(assembly, definition, step, caller, where)


def _step_accesses(
    assembly: CloudAssembly,
    definition: _Definition,
    step: Mapping[str, Any],
    caller: str,
    where: str,
) -> Iterator[Access]:
    args = step.get("Arguments", {})
    value = definition.value
    job = f"pipelines-{RUN}-{step['Name'].lower()}"
    arn = f"arn:aws:sagemaker:{assembly.region}:{assembly.account}"
    kind = step["Type"]
    if kind == "Processing":
        role = args["RoleArn"]
        yield Access(caller, "sagemaker:CreateProcessingJob", f"{arn}:processing-job/{job}", where)
        yield pass_role(caller, role, "sagemaker.amazonaws.com", f"{where} runs as its role")
        yield from image_pull(assembly, role, args["AppSpecification"]["ImageUri"], where)
        for item in args.get("ProcessingInputs", []):
            if "S3Input" in item:
                why = f"{where} input {item['InputName']}"
                yield from _read_source(assembly, definition, role, item["S3Input"], why)
        for item in args.get("ProcessingOutputConfig", {}).get("Outputs", []):
            uri = value(item["S3Output"]["S3Uri"])
            yield from s3_write(assembly, role, uri, f"{where} output {item['OutputName']}")
    elif kind in ("Training", "Tuning"):
        spec = args["TrainingJobDefinition"] if kind == "Tuning" else args
        role = spec["RoleArn"]
        if kind == "Tuning":
            yield Access(
                caller,
                "sagemaker:CreateHyperParameterTuningJob",
                f"{arn}:hyper-parameter-tuning-job/{RUN}",
                where,
            )
        else:
            yield Access(caller, "sagemaker:CreateTrainingJob", f"{arn}:training-job/{job}", where)
        yield pass_role(caller, role, "sagemaker.amazonaws.com", f"{where} runs as its role")
        algorithm = spec["AlgorithmSpecification"]
        image = algorithm.get("TrainingImage")
        if image:
            yield from image_pull(assembly, role, value(image), where)
        for channel in spec.get("InputDataConfig", []):
            source = channel["DataSource"]["S3DataSource"]
            why = f"{where} channel {channel['ChannelName']}"
            yield from _read_source(assembly, definition, role, source, why)
        hyperparameters = spec.get("HyperParameters") or spec.get("StaticHyperParameters") or {}
        code = hyperparameters.get("sagemaker_submit_directory")
        if code:
            code_uri = str(value(code)).strip('"')
            yield from s3_read(assembly, role, code_uri, f"{where} code", prefix=False)
        output = value(spec["OutputDataConfig"]["S3OutputPath"])
        yield from s3_write(assembly, role, f"{output}/{RUN}/output/model.tar.gz", where)
    elif kind == "Model":
        role = args["ExecutionRoleArn"]
        yield pass_role(caller, role, "sagemaker.amazonaws.com", f"{where} model role")
        container = args["PrimaryContainer"]
        yield from image_pull(assembly, role, value(container["Image"]), where)
        model = value(container["ModelDataUrl"])
        yield from s3_read(assembly, role, model, f"{where} model data", prefix=False)
    elif kind == "Transform":
        model_step = args["ModelName"]["Get"].split(".")[1]
        role = definition.steps[model_step]["Arguments"]["ExecutionRoleArn"]
        yield Access(caller, "sagemaker:CreateTransformJob", f"{arn}:transform-job/{job}", where)
        source = args["TransformInput"]["DataSource"]["S3DataSource"]
        yield from _read_source(assembly, definition, role, source, f"{where} input")
        output = value(args["TransformOutput"]["S3OutputPath"])
        yield from s3_write(assembly, role, output, f"{where} output")
    elif kind == "RegisterModel":
        group = args["ModelPackageGroupName"]
        yield Access(
            caller,
            "sagemaker:CreateModelPackage",
            f"{arn}:model-package/{group}/1",
            f"{where} registers a version",
        )


def _read_source(
    assembly: CloudAssembly,
    definition: _Definition,
    role: str,
    source: Mapping[str, Any],
    why: str,
) -> Iterator[Access]:
    """A step input with ``S3Uri`` and ``S3DataType`` (processing, channel, transform)."""
    uri = definition.value(source["S3Uri"])
    yield from s3_read(assembly, role, uri, why, prefix=source.get("S3DataType") == "S3Prefix")


def _definitions(assembly: CloudAssembly) -> Iterator[tuple[Resource, _Definition]]:
    for pipeline in assembly.resources("AWS::SageMaker::Pipeline"):
        body = pipeline.properties["PipelineDefinition"]["PipelineDefinitionBody"]
        yield pipeline, _Definition(json.loads(body))


def registered_model_data(assembly: CloudAssembly) -> Iterator[tuple[str, str, str]]:
    """(model package group, model data URI, image) of every RegisterModel step."""
    for _, definition in _definitions(assembly):
        for step in definition.steps.values():
            if step["Type"] != "RegisterModel":
                continue
            group = step["Arguments"]["ModelPackageGroupName"]
            for container in step["Arguments"]["InferenceSpecification"]["Containers"]:
                yield (
                    group,
                    definition.value(container["ModelDataUrl"]),
                    definition.value(container["Image"]),
                )


# -- hosting -------------------------------------------------------------------------------------
def hosting_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """Models and endpoints: the model's execution role reads the model data and pulls a
    private image; data capture writes to its destination with that role, and its KMS key
    must let that role encrypt (DataCaptureConfig:
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html)."""
    models = {m.name: m for m in assembly.resources("AWS::SageMaker::Model")}
    for model in models.values():
        role = model.properties["ExecutionRoleArn"]
        for container in _containers(model):
            where = f"model {model.name}"
            yield from image_pull(assembly, role, container["Image"], where)
            if "ModelDataUrl" in container:
                multi = container.get("Mode") == "MultiModel"
                yield from s3_read(
                    assembly, role, container["ModelDataUrl"], f"{where} data", prefix=multi
                )
    for config in assembly.resources("AWS::SageMaker::EndpointConfig"):
        capture = config.properties.get("DataCaptureConfig")
        if not capture:
            continue
        for variant in config.properties["ProductionVariants"]:
            role = models[variant["ModelName"]].properties["ExecutionRoleArn"]
            where = f"{config.name}/{variant['VariantName']} data capture"
            yield from s3_write(assembly, role, capture["DestinationS3Uri"], where)
            if capture.get("KmsKeyId"):
                yield Access(role, "kms:GenerateDataKey", key_arn(assembly, capture["KmsKeyId"]),
                             f"{where} encrypts with its key")  # fmt: skip


def _containers(model: Resource) -> list[Mapping[str, Any]]:
    props = model.properties
    return [props["PrimaryContainer"]] if "PrimaryContainer" in props else props["Containers"]


def registry_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """A model package approved in a group that a promotion function watches is deployed as a
    model running as the role the function is given (``EXECUTION_ROLE_ARN``, see
    lambdas/promotion): that role must read what the pipeline registered and pull its image
    (CreateModel from a model package, and its execution-role permissions:
    https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-deploy.html,
    https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html)."""
    serving_role = {}
    for function in assembly.resources("AWS::Lambda::Function"):
        variables = function.properties.get("Environment", {}).get("Variables", {})
        if "MODEL_PACKAGE_GROUP" in variables and "EXECUTION_ROLE_ARN" in variables:
            serving_role[variables["MODEL_PACKAGE_GROUP"]] = variables["EXECUTION_ROLE_ARN"]
    for group, model_data, image in registered_model_data(assembly):
        role = serving_role.get(group)
        if role is None:
            continue  # nothing deploys this group's packages automatically
        where = f"an approved {group} package served as {role.rsplit('/', 1)[-1]}"
        yield from s3_read(assembly, role, model_data, where, prefix=False)
        yield from image_pull(assembly, role, image, where)


# -- notebooks -----------------------------------------------------------------------------------
def notebook_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """A notebook instance in a subnet is attached to it with the notebook's own role, which
    needs the EC2 network-interface actions ("CreateNotebookInstance API: Execution Role
    Permissions", https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html), on
    the resources the EC2 actions authorize against (the Service Authorization Reference for
    Amazon EC2: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html)."""
    ec2 = f"arn:aws:ec2:{assembly.region}:{assembly.account}"
    for notebook in assembly.resources("AWS::SageMaker::NotebookInstance"):
        props = notebook.properties
        if not props.get("SubnetId"):
            continue
        role, why = props["RoleArn"], f"notebook {notebook.name} joins its subnet"
        subnet = f"{ec2}:subnet/{props['SubnetId']}"
        interface = f"{ec2}:network-interface/eni-{RUN}"
        in_subnet = {"ec2:Subnet": subnet}
        yield Access(role, "ec2:CreateNetworkInterface", interface, why)
        yield Access(role, "ec2:CreateNetworkInterface", subnet, why)
        for group in props.get("SecurityGroupIds", []):
            yield Access(role, "ec2:CreateNetworkInterface", f"{ec2}:security-group/{group}", why)
        yield Access(role, "ec2:CreateNetworkInterfacePermission", interface, why, in_subnet)
        yield Access(role, "ec2:DeleteNetworkInterface", interface, why, in_subnet)
        yield Access(role, "ec2:DeleteNetworkInterfacePermission", interface, why, in_subnet)
        for action in (
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        ):
            yield Access(role, action, "*", why)


# -- Glue ----------------------------------------------------------------------------------------
# What each argument of the reviews ETL script means (training_code/reviews/etl.py's parser).
GLUE_ARGUMENT_ACCESS = {
    "--source": "read-prefix",
    "--target": "write",
    "--quarantine": "write",
    "--summary": "write",
    "--TempDir": "write",
    "--extra-py-files": "read",
}


def glue_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """A Glue job runs as its role: it reads its script and inputs, writes its outputs, writes
    its logs under /aws-glue/, and ``--enable-metrics`` makes it publish job metrics to the
    ``Glue`` namespace (https://docs.aws.amazon.com/glue/latest/dg/create-an-iam-role.html,
    https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html,
    https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html)."""
    for job in assembly.resources("AWS::Glue::Job"):
        props = job.properties
        role = props["Role"]
        where = f"Glue job {job.name}"
        yield from s3_read(
            assembly, role, props["Command"]["ScriptLocation"], f"{where} script", prefix=False
        )
        for argument, uri in props.get("DefaultArguments", {}).items():
            access = GLUE_ARGUMENT_ACCESS.get(argument)
            if access == "read-prefix":
                yield from s3_read(assembly, role, uri, f"{where} {argument}", prefix=True)
            elif access == "read":
                yield from s3_read(assembly, role, uri, f"{where} {argument}", prefix=False)
            elif access == "write":
                yield from s3_write(assembly, role, uri, f"{where} {argument}")
        if props.get("DefaultArguments", {}).get("--enable-metrics") is not None:
            yield Access(
                role,
                "cloudwatch:PutMetricData",
                "*",
                f"{where} --enable-metrics",
                {"cloudwatch:namespace": "Glue"},
            )
        group = f"arn:aws:logs:{assembly.region}:{assembly.account}:log-group:/aws-glue/jobs/output"
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            yield Access(role, action, f"{group}:log-stream:{RUN}", f"{where} logs")


def glue_unknown_arguments(assembly: CloudAssembly) -> list[str]:
    """S3 arguments of a Glue job that :data:`GLUE_ARGUMENT_ACCESS` does not classify."""
    unknown = []
    for job in assembly.resources("AWS::Glue::Job"):
        for argument, value in job.properties.get("DefaultArguments", {}).items():
            if str(value).startswith("s3://") and argument not in GLUE_ARGUMENT_ACCESS:
                unknown.append(f"{job.name} {argument}")
    return unknown


# -- CodeBuild -----------------------------------------------------------------------------------
def codebuild_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """A CodeBuild project downloads its S3 source and writes its logs with its service role
    (https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html), and
    pushing to ECR needs the push actions on the repository plus the token
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html)."""
    for project in assembly.resources("AWS::CodeBuild::Project"):
        props = project.properties
        role = props["ServiceRole"]
        role = role if role.startswith("arn:") else f"arn:aws:iam::{assembly.account}:role/{role}"
        where = f"CodeBuild {project.name}"
        source = props["Source"]
        if source["Type"] == "S3":
            bucket, _, key = source["Location"].partition("/")
            yield Access(role, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", f"{where} source")
            for action in ("s3:GetBucketLocation", "s3:GetBucketAcl"):
                yield Access(role, action, f"arn:aws:s3:::{bucket}", f"{where} source bucket")
        logs = props.get("LogsConfig", {}).get("CloudWatchLogs", {})
        if logs.get("Status") == "ENABLED" and logs.get("GroupName"):
            group = (
                f"arn:aws:logs:{assembly.region}:{assembly.account}:log-group:{logs['GroupName']}"
            )
            for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                yield Access(role, action, f"{group}:log-stream:{RUN}", f"{where} logs")
        for variable in props.get("Environment", {}).get("EnvironmentVariables", []):
            if variable["Name"] == "REPOSITORY_URI":
                repository = str(variable["Value"]).split("/", 1)[1]
                arn = f"arn:aws:ecr:{assembly.region}:{assembly.account}:repository/{repository}"
                for action in (
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                ):
                    yield Access(role, action, arn, f"{where} pushes the image")
                yield Access(role, "ecr:GetAuthorizationToken", "*", f"{where} logs in to ECR")
        if props.get("EncryptionKey"):
            key = key_arn(assembly, props["EncryptionKey"])
            yield Access(role, "kms:GenerateDataKey", key, f"{where} encrypts its artifacts")


# -- events, schedules, alarms, budgets, dead letters --------------------------------------------
def event_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """EventBridge invokes a Lambda target through the function's resource policy, for the
    rule's ARN (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html)."""
    for rule in assembly.resources("AWS::Events::Rule"):
        source = {"aws:SourceArn": rule.arn}
        for target in rule.properties.get("Targets", []):
            if ":lambda:" in target["Arn"]:
                yield Access("events.amazonaws.com", "lambda:InvokeFunction", target["Arn"],
                             f"rule {rule.name} invokes its target", source)  # fmt: skip


def schedule_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """EventBridge Scheduler calls its target as the schedule's role; a universal target
    ``arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`` needs that API's action
    (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html)."""
    for schedule in assembly.resources("AWS::Scheduler::Schedule"):
        target = schedule.properties["Target"]
        role, arn = target["RoleArn"], target["Arn"]
        where = f"schedule {schedule.name}"
        if arn.startswith("arn:aws:scheduler:::aws-sdk:"):
            service, api = arn.rsplit(":", 2)[1:]
            action = f"{service}:{api[0].upper()}{api[1:]}"
            body = json.loads(target.get("Input") or "{}")
            resource, tags = _sdk_target(assembly, service, body)
            yield Access(role, action, resource, where, tags)
        elif ":lambda:" in arn:
            yield Access(role, "lambda:InvokeFunction", arn, where)


def _sdk_target(
    assembly: CloudAssembly, service: str, body: Mapping[str, Any]
) -> tuple[str, dict[str, str]]:
    """The resource a universal target acts on, with its tags as ``aws:ResourceTag`` keys."""
    if service == "sagemaker" and "NotebookInstanceName" in body:
        notebook = assembly.find("AWS::SageMaker::NotebookInstance", body["NotebookInstanceName"])
        if notebook is not None:
            tags = {f"aws:ResourceTag/{t['Key']}": t["Value"] for t in notebook.properties["Tags"]}
            return notebook.arn, tags
    return "*", {}


def notification_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """Alarm actions are published by CloudWatch and budget alerts by AWS Budgets, each as its
    service principal: the topic's policy must allow it, and an encrypted topic's key policy
    must let it use the key (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
    https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html,
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)."""
    topics = {t.arn: t for t in assembly.resources("AWS::SNS::Topic")}
    publishers: list[tuple[str, str, str]] = []
    for alarm in assembly.resources("AWS::CloudWatch::Alarm"):
        for action in alarm.properties.get("AlarmActions", []) + alarm.properties.get(
            "OKActions", []
        ):
            if action in topics:
                publishers.append(("cloudwatch.amazonaws.com", action, alarm.arn))
    for budget in assembly.resources("AWS::Budgets::Budget"):
        for notification in budget.properties.get("NotificationsWithSubscribers", []):
            for subscriber in notification["Subscribers"]:
                if subscriber["SubscriptionType"] == "SNS":
                    name = budget.properties["Budget"].get("BudgetName", budget.name)
                    source = f"arn:aws:budgets::{assembly.account}:budget/{name}"
                    publishers.append(("budgets.amazonaws.com", subscriber["Address"], source))
    for service, topic_arn, source in publishers:
        context = {"aws:SourceArn": source}
        why = f"{source.rsplit(':', 1)[-1]} publishes"
        yield Access(service, "sns:Publish", topic_arn, why, context)
        key = topics[topic_arn].properties.get("KmsMasterKeyId") if topic_arn in topics else None
        if key:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                yield Access(service, action, key_arn(assembly, key), f"{why} (encrypted)", context)


def dead_letter_accesses(assembly: CloudAssembly) -> Iterator[Access]:
    """Dead-letter queues must accept their sender and let it use their key: EventBridge sends a
    target's undeliverable events as its service principal for the rule
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html); Lambda sends a
    failed asynchronous event with the function's role; an SSE-KMS queue needs the sender to
    use its key
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html)."""
    queues = {q.arn: q for q in assembly.resources("AWS::SQS::Queue")}
    for rule in assembly.resources("AWS::Events::Rule"):
        for target in rule.properties.get("Targets", []):
            dlq = target.get("DeadLetterConfig", {}).get("Arn")
            if dlq:
                yield from _queue_send(
                    assembly, queues, "events.amazonaws.com", dlq, f"rule {rule.name}",
                    {"aws:SourceArn": rule.arn},
                )  # fmt: skip
    for function in assembly.resources("AWS::Lambda::Function"):
        target = function.properties.get("DeadLetterConfig", {}).get("TargetArn")
        if not target:
            continue
        role = function.properties["Role"]
        yield from _queue_send(assembly, queues, role, target, f"function {function.name}", {})


def _queue_send(
    assembly: CloudAssembly,
    queues: Mapping[str, Resource],
    sender: str,
    queue: str,
    who: str,
    context: Mapping[str, Any],
) -> Iterator[Access]:
    where = f"{who} dead-letters"
    yield Access(sender, "sqs:SendMessage", queue, where, context)
    key = queues[queue].properties.get("KmsMasterKeyId") if queue in queues else None
    if key and key != "alias/aws/sqs":
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            yield Access(sender, action, key_arn(assembly, key), f"{where} (encrypted)", context)


ALL_RULES = (
    pipeline_accesses,
    hosting_accesses,
    registry_accesses,
    notebook_accesses,
    glue_accesses,
    codebuild_accesses,
    event_accesses,
    schedule_accesses,
    notification_accesses,
    dead_letter_accesses,
)
