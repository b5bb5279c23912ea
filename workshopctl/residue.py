"""``workshopctl residue`` (the last step of ``make destroy``): what is left in the account that
the workshop made or caused. Read-only: it lists, it never deletes.

Three ways of finding, each row says which one found it:
  * ``tag workshop=<prefix>``: every taggable resource the Resource Groups Tagging API knows with
    the workshop tag (the stacks tag everything they create; attendees' SDK calls may too);
  * ``name prefix <prefix>-``: the workshop's kinds listed by name (stacks, buckets, SageMaker,
    ECR, Glue, Athena, log groups and streams, SSM ``/<prefix>/``, SNS), which also finds what
    attendees created untagged;
  * ``known leftover``: what AWS services create on the workshop's behalf, untagged and with
    names the workshop does not choose: Studio's home EFS volume and its NFS security groups,
    SageMaker's network interfaces, and the CDK asset objects and images of this app in the
    bootstrap bucket and repository (their keys are read from ``cdk.out/*.assets.json``).

KMS keys pending deletion are not residue: they delete themselves at the end of their waiting
period (they are listed below the table). SageMaker's shared log groups (``/aws/sagemaker/
TrainingJobs``, ``ProcessingJobs``, ...) belong to every user of the account and region: only
their streams named ``<prefix>-...`` are the workshop's, so only those are reported.

Exit code: 0 nothing remains, 1 something remains (or a kind could not be listed: the scan
cannot then say the account is clean), 2 AWS could not be reached.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.janitor.aws import Calls, Clients, error_text
from lambdas.janitor.data_kinds import SAGEMAKER_LOGS
from lambdas.janitor.model import TAG_KEY
from lambdas.janitor.prices import Prices, format_usd, load_prices, sum_known
from workshop_spec.config import PROJECT_ROOT, load_project_config
from workshopctl.cli_options import add_region
from workshopctl.cloud_assembly import asset_destinations

CDK_OUT = PROJECT_ROOT / "cdk.out"
# The default bootstrap qualifier (the app does not set another one).
BOOTSTRAP_QUALIFIER = "hnb659fds"
STUDIO_EFS_TAG = "ManagedByAmazonSageMakerResource"
NFS_GROUP = re.compile(r"^security-group-for-(inbound|outbound)-nfs-(d-[a-z0-9]+)$")
DOMAIN_ID = re.compile(r"\bd-[a-z0-9]{6,}\b")
FINISHED_STACKS = frozenset({"DELETE_COMPLETE"})
LIVE_STACK_STATUSES = [
    "CREATE_IN_PROGRESS",
    "CREATE_FAILED",
    "CREATE_COMPLETE",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
]
NOTEBOOK_RUNNING = frozenset({"InService", "Pending", "Updating"})


# -- records ---------------------------------------------------------------------------------------
@dataclass
class Finding:
    """One resource that remains (or a kind that could not be listed: ``error`` set)."""

    kind: str  # service:type, as in the resource's ARN (sagemaker:notebook-instance)
    name: str
    region: str
    how: list[str] = field(default_factory=list)
    arn: str = ""
    state: str = ""
    instance_type: str | None = None  # what the price table is asked about
    instance_count: int = 0
    error: str = ""

    def hourly_usd(self, prices: Prices) -> float | str | None:
        """USD/hour, None when the table lacks the type, "-" when the table does not price the
        kind (storage, requests) or nothing runs."""
        if self.instance_type is None or self.instance_count == 0:
            return "-"
        return prices.hourly_usd(self.instance_type, self.instance_count)

    def to_dict(self, prices: Prices) -> dict[str, Any]:
        cost = self.hourly_usd(prices)
        return {
            "kind": self.kind,
            "name": self.name,
            "region": self.region,
            "found_by": self.how,
            "arn": self.arn,
            "state": self.state,
            "hourly_usd": None if cost in ("-", None) else cost,
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class Residue:
    """What the scan found, keyed by ARN (or kind/name) so two ways of finding merge."""

    findings: dict[str, Finding] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, finding: Finding) -> Finding:
        key = finding.arn or f"{finding.kind}|{finding.name}"
        known = self.findings.get(key)
        if known is None:
            self.findings[key] = finding
            return finding
        known.how += [how for how in finding.how if how not in known.how]
        for attribute in ("state", "instance_type", "instance_count", "error"):
            if not getattr(known, attribute) and getattr(finding, attribute):
                setattr(known, attribute, getattr(finding, attribute))
        return known

    @property
    def rows(self) -> list[Finding]:
        return sorted(self.findings.values(), key=lambda f: (f.kind, f.name))

    @property
    def clean(self) -> bool:
        return not self.findings

    def table(self, prices: Prices) -> str:
        header = ("kind", "id/name", "region", "state", "USD/h", "found by")
        rows = [header]
        costs: list[float | None] = []
        for finding in self.rows:
            cost = finding.hourly_usd(prices)
            if cost != "-":
                costs.append(cost)  # type: ignore[arg-type]
            state = f"could not list: {finding.error}" if finding.error else finding.state
            rows.append(
                (
                    finding.kind,
                    finding.name,
                    finding.region,
                    state or "-",
                    cost if cost == "-" else format_usd(cost),  # type: ignore[arg-type]
                    "; ".join(finding.how),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[-1]
            for row in rows
        ]
        known, unknown = sum_known(costs)
        total = f"{len(self.findings)} remaining, {format_usd(known)} USD/hour known"
        if unknown:
            total += f" + {unknown} of unknown price (?)"
        return "\n".join([*lines, total + f" ({prices.note}; '-': not priced per hour)"])


# -- the scan -------------------------------------------------------------------------------------
def how_tag(prefix: str) -> str:
    return f"tag {TAG_KEY}={prefix}"


def how_name(prefix: str) -> str:
    return f"name prefix {prefix}-"


def kind_and_name(arn: str) -> tuple[str, str]:
    """("service:type", "id") from an ARN: arn:aws:s3:::bucket, ...:key/id, ...:log-group:n."""
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5]
    if service == "s3" and "/" not in resource:
        return "s3:bucket", resource
    if service == "sns":
        return "sns:topic", resource
    if service == "logs":  # log-group:/aws/x[:log-stream:y]: the names hold "/"
        kind, _, name = resource.partition(":")
    else:
        kind, _, name = resource.partition("/" if "/" in resource else ":")
    if not name:
        return f"{service}:{kind}", kind
    if service == "logs" and name.endswith(":*"):
        name = name[:-2]
    if service == "cloudformation":
        name = name.split("/")[0]
    return f"{service}:{kind}", name


@dataclass(kw_only=True)
class Scan(Calls):
    """Everything one residue scan needs: clients, the prefix, and what the tags found."""

    prefix: str
    region: str
    account: str
    cdk_out: Path = CDK_OUT
    extra_domain_ids: frozenset[str] = frozenset()
    residue: Residue = field(default_factory=Residue)
    tagged: dict[str, dict[str, str]] = field(default_factory=dict)  # ARN → tags
    domain_ids: set[str] = field(default_factory=set)
    workshop_vpcs: set[str] = field(default_factory=set)

    @property
    def all_domain_ids(self) -> set[str]:
        """The workshop's Studio domains: live, in its stacks' history, or given."""
        return self.domain_ids | set(self.extra_domain_ids)

    def client(self, service: str) -> Any:
        return self.clients.get(service)

    def named(self, name: str) -> bool:
        return name.startswith(f"{self.prefix}-")

    def found(
        self, arn: str, name_matches: bool, *, kind: str = "", name: str = "", **details: Any
    ) -> Finding | None:
        """Record a resource listed by name when its name or its tag puts it in scope."""
        how = [how_name(self.prefix)] if name_matches else []
        if arn in self.tagged:
            how.insert(0, how_tag(self.prefix))
        if not how:
            return None
        arn_kind, arn_name = kind_and_name(arn) if arn else ("", "")
        return self.residue.add(
            Finding(kind or arn_kind, name or arn_name, self.region, how, arn=arn, **details)
        )

    def leftover(self, kind: str, name: str, why: str, arn: str = "", **details: Any) -> None:
        self.residue.add(
            Finding(kind, name, self.region, [f"known leftover: {why}"], arn=arn, **details)
        )


Scanner = Callable[[Scan], None]


def scan_tagged(s: Scan) -> None:
    """The Resource Groups Tagging API: every resource tagged workshop=<prefix> in the region."""
    tagging = s.client("resourcegroupstaggingapi")
    mappings = s.pages(
        tagging,
        "get_resources",
        "ResourceTagMappingList",
        TagFilters=[{"Key": TAG_KEY, "Values": [s.prefix]}],
    )
    for mapping in mappings:
        s.tagged[mapping["ResourceARN"]] = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}


def scan_stacks(s: Scan) -> None:
    """CloudFormation stacks <prefix>-* that are not DELETE_COMPLETE; the domain ids of the
    workshop's stacks, deleted ones included (CloudFormation keeps them 90 days)."""
    cloudformation = s.client("cloudformation")
    for stack in s.pages(cloudformation, "list_stacks", "StackSummaries"):
        name, status = stack["StackName"], stack["StackStatus"]
        if not s.named(name):
            continue
        if status not in FINISHED_STACKS:
            s.found(stack["StackId"], True, state=status)
        resources = s.pages(
            cloudformation,
            "list_stack_resources",
            "StackResourceSummaries",
            StackName=stack["StackId"],
        )
        for resource in resources:
            if resource["ResourceType"] == "AWS::SageMaker::Domain":
                s.domain_ids.update(DOMAIN_ID.findall(resource.get("PhysicalResourceId", "")))
    # Tagged stacks are listed above by name; a DELETE_COMPLETE one may linger in the tag index.
    for arn in [arn for arn in s.tagged if arn.startswith("arn:aws:cloudformation:")]:
        if not any(f.arn == arn for f in s.residue.findings.values()):
            s.tagged.pop(arn)


def scan_buckets(s: Scan) -> None:
    """Buckets named <prefix>-... (the stacks' buckets start with their stack's name)."""
    s3 = s.client("s3")
    for bucket in s.call(s3.list_buckets).get("Buckets", []):
        name = bucket["Name"]
        arn = f"arn:aws:s3:::{name}"
        if s.named(name) or arn in s.tagged:
            s.found(arn, s.named(name))


def _instances(config: dict[str, Any] | None) -> dict[str, Any]:
    config = config or {}
    if not config.get("InstanceType"):
        return {}
    return {
        "instance_type": config["InstanceType"],
        "instance_count": int(config.get("InstanceCount", 1)),
    }


def scan_sagemaker(s: Scan) -> None:
    """Notebook instances, endpoints (with their instances), endpoint configs, models, jobs in
    progress, pipelines, model package groups, Studio domains and what is in them."""
    sm = s.client("sagemaker")
    for item in s.pages(sm, "list_notebook_instances", "NotebookInstances"):
        status = item.get("NotebookInstanceStatus", "")
        running = status in NOTEBOOK_RUNNING
        s.found(
            item["NotebookInstanceArn"],
            s.named(item["NotebookInstanceName"]),
            state=status,
            instance_type=item.get("InstanceType"),
            instance_count=1 if running else 0,
        )
    for item in s.pages(sm, "list_endpoints", "Endpoints"):
        name, arn = item["EndpointName"], item["EndpointArn"]
        if not (s.named(name) or arn in s.tagged):
            continue
        details: dict[str, Any] = {"state": item.get("EndpointStatus", "")}
        described = s.call(sm.describe_endpoint, EndpointName=name)
        try:
            config = s.call(
                sm.describe_endpoint_config, EndpointConfigName=described["EndpointConfigName"]
            )
            variants = [v for v in config["ProductionVariants"] if v.get("InstanceType")]
            types = sorted({v["InstanceType"] for v in variants})
            if len(types) == 1:
                details["instance_type"] = types[0]
                details["instance_count"] = sum(
                    int(v.get("InitialInstanceCount", 1)) for v in variants
                )
        except ClientError:
            pass  # its config is gone too: the cost is unknown, the endpoint still reported
        s.found(arn, s.named(name), **details)
    for noun, key in (("EndpointConfig", "EndpointConfigs"), ("Model", "Models")):
        snake = re.sub(r"(?<!^)([A-Z])", r"_\1", noun).lower()
        for item in s.pages(sm, f"list_{snake}s", key):
            s.found(item[f"{noun}Arn"], s.named(item[f"{noun}Name"]))
    jobs = (
        ("TrainingJob", "TrainingJobSummaries", "ResourceConfig"),
        ("ProcessingJob", "ProcessingJobSummaries", "ProcessingResources"),
        ("TransformJob", "TransformJobSummaries", "TransformResources"),
        ("HyperParameterTuningJob", "HyperParameterTuningJobSummaries", ""),
    )
    for noun, key, resources in jobs:
        snake = re.sub(r"(?<!^)([A-Z])", r"_\1", noun).lower()
        for item in s.pages(sm, f"list_{snake}s", key, StatusEquals="InProgress"):
            name, arn = item[f"{noun}Name"], item[f"{noun}Arn"]
            if not (s.named(name) or arn in s.tagged):
                continue
            described = s.call(getattr(sm, f"describe_{snake}"), **{f"{noun}Name": name})
            config = described.get(resources, {}) if resources else {}
            config = config.get("ClusterConfig", config)
            s.found(arn, s.named(name), state="InProgress", **_instances(config))
    for item in s.pages(sm, "list_pipelines", "PipelineSummaries"):
        s.found(item["PipelineArn"], s.named(item["PipelineName"]))
    for item in s.pages(sm, "list_model_package_groups", "ModelPackageGroupSummaryList"):
        s.found(item["ModelPackageGroupArn"], s.named(item["ModelPackageGroupName"]))
    for item in s.pages(sm, "list_domains", "Domains"):
        finding = s.found(item["DomainArn"], s.named(item["DomainName"]), state=item.get("Status"))
        if finding is None:
            continue
        domain_id = item["DomainId"]
        s.domain_ids.add(domain_id)
        for member, key, name_key in (
            ("app", "Apps", "AppName"),
            ("space", "Spaces", "SpaceName"),
            ("user_profile", "UserProfiles", "UserProfileName"),
        ):
            for entry in s.pages(sm, f"list_{member}s", key, DomainIdEquals=domain_id):
                if entry.get("Status") in {"Deleted"}:
                    continue
                owner = entry.get("SpaceName") or entry.get("UserProfileName") or ""
                name = f"{domain_id}/{owner}/{entry[name_key]}" if member == "app" else ""
                s.residue.add(
                    Finding(
                        f"sagemaker:{member.replace('_', '-')}",
                        name or f"{domain_id}/{entry[name_key]}",
                        s.region,
                        [f"in domain {item['DomainName']}"],
                        state=entry.get("Status", ""),
                        **_instances(entry.get("ResourceSpec")),
                    )
                )


def scan_named_kinds(s: Scan) -> None:
    """ECR repositories, Glue databases and jobs, Athena workgroups, SSM /<prefix>/, SNS."""
    ecr = s.client("ecr")
    for repository in s.pages(ecr, "describe_repositories", "repositories"):
        s.found(repository["repositoryArn"], s.named(repository["repositoryName"]))
    glue = s.client("glue")
    database_prefix = f"{s.prefix.replace('-', '_')}_"
    for database in s.pages(glue, "get_databases", "DatabaseList"):
        name = database["Name"]
        arn = f"arn:aws:glue:{s.region}:{s.account}:database/{name}"
        s.found(arn, name.startswith(database_prefix) or s.named(name))
    for job in s.pages(glue, "get_jobs", "Jobs"):
        s.found(f"arn:aws:glue:{s.region}:{s.account}:job/{job['Name']}", s.named(job["Name"]))
    athena = s.client("athena")
    for workgroup in s.pages(athena, "list_work_groups", "WorkGroups"):
        name = workgroup["Name"]
        s.found(f"arn:aws:athena:{s.region}:{s.account}:workgroup/{name}", s.named(name))
    ssm = s.client("ssm")
    parameters = s.pages(
        ssm,
        "describe_parameters",
        "Parameters",
        ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"/{s.prefix}/"]}],
    )
    for parameter in parameters:
        arn = f"arn:aws:ssm:{s.region}:{s.account}:parameter{parameter['Name']}"
        s.residue.add(
            Finding(
                "ssm:parameter",
                parameter["Name"],
                s.region,
                [f"name prefix /{s.prefix}/"],
                arn=arn,
            )
        )
    sns = s.client("sns")
    for topic in s.pages(sns, "list_topics", "Topics"):
        arn = topic["TopicArn"]
        s.found(arn, s.named(arn.rsplit(":", 1)[-1]))


def scan_identities(s: Scan) -> None:
    """IAM users and roles named ``<prefix>-...`` (IAM is global, so the regional Tagging API
    does not list them): a sign-in user left behind can still sign in to the console."""
    iam = s.client("iam")
    for user in s.pages(iam, "list_users", "Users"):
        s.found(user["Arn"], s.named(user["UserName"]), kind="iam:user", name=user["UserName"])
    for role in s.pages(iam, "list_roles", "Roles"):
        s.found(role["Arn"], s.named(role["RoleName"]), kind="iam:role", name=role["RoleName"])


def scan_logs(s: Scan) -> None:
    """Log groups naming the prefix (/aws/lambda/<prefix>-..., /aws/sagemaker/Endpoints/
    <prefix>-...), and the streams named <prefix>-... in SageMaker's shared groups."""
    logs = s.client("logs")
    marker = f"{s.prefix}-"
    for group in s.pages(logs, "describe_log_groups", "logGroups"):
        name = group["logGroupName"]
        arn = group["arn"].removesuffix(":*")
        if marker in name or arn in s.tagged or group["arn"] in s.tagged:
            finding = s.found(arn, marker in name, state=f"{group.get('storedBytes', 0)} bytes")
            if finding and marker in name and how_name(s.prefix) in finding.how:
                finding.how[finding.how.index(how_name(s.prefix))] = f"name contains {marker}"
            continue
        if not name.startswith(SAGEMAKER_LOGS):
            continue
        streams = s.pages(
            logs,
            "describe_log_streams",
            "logStreams",
            logGroupName=name,
            logStreamNamePrefix=marker,
        )
        for stream in streams:
            s.residue.add(
                Finding(
                    "logs:log-stream",
                    f"{name}:{stream['logStreamName']}",
                    s.region,
                    [f"{how_name(s.prefix)} (stream in SageMaker's shared group)"],
                    arn=stream.get("arn", ""),
                    state=f"{stream.get('storedBytes', 0)} bytes",
                )
            )


def scan_network(s: Scan) -> None:
    """The workshop's VPCs (tagged), SageMaker's network interfaces, Studio's NFS groups."""
    ec2 = s.client("ec2")
    s.workshop_vpcs = {
        arn.rsplit("/", 1)[-1] for arn in s.tagged if ":vpc/" in arn and arn.startswith("arn:")
    }
    for eni in s.pages(ec2, "describe_network_interfaces", "NetworkInterfaces"):
        description = eni.get("Description", "")
        requester = eni.get("RequesterId", "")
        by_sagemaker = "sagemaker" in f"{description} {requester}".lower()
        eni_id, status = eni["NetworkInterfaceId"], eni.get("Status", "")
        arn = f"arn:aws:ec2:{s.region}:{s.account}:network-interface/{eni_id}"
        why = ""
        if eni.get("VpcId") in s.workshop_vpcs:
            why = f"in the workshop's VPC {eni['VpcId']}"
        elif by_sagemaker and (
            s.prefix in description or set(DOMAIN_ID.findall(description)) & s.all_domain_ids
        ):
            why = "SageMaker network interface naming the workshop"
        elif by_sagemaker and status == "available":
            why = "SageMaker network interface, detached (available)"
        if why:
            s.leftover("ec2:network-interface", eni_id, why, arn=arn, state=status)
    groups = s.pages(
        ec2,
        "describe_security_groups",
        "SecurityGroups",
        Filters=[{"Name": "group-name", "Values": ["security-group-for-*-nfs-*"]}],
    )
    for group in groups:
        match = NFS_GROUP.match(group["GroupName"])
        if match and match.group(2) in s.all_domain_ids:
            s.leftover(
                "ec2:security-group",
                f"{group['GroupId']} ({group['GroupName']})",
                f"Studio NFS group of domain {match.group(2)}",
                arn=f"arn:aws:ec2:{s.region}:{s.account}:security-group/{group['GroupId']}",
            )


def scan_studio_volumes(s: Scan) -> None:
    """Studio's home EFS volumes: tagged ManagedByAmazonSageMakerResource=<domain ARN>."""
    efs = s.client("efs")
    for system in s.pages(efs, "describe_file_systems", "FileSystems"):
        tags = {t["Key"]: t["Value"] for t in system.get("Tags", [])}
        owner = tags.get(STUDIO_EFS_TAG, "")
        domain = owner.rsplit("/", 1)[-1]
        if owner and domain in s.all_domain_ids:
            size = system.get("SizeInBytes", {}).get("Value", 0)
            s.leftover(
                "elasticfilesystem:file-system",
                system["FileSystemId"],
                f"Studio home volume of domain {domain}",
                arn=system.get("FileSystemArn", ""),
                state=f"{size} bytes",
            )


def scan_tagged_rest(s: Scan) -> None:
    """Tagged resources no name scan listed: one row each (KMS keys and the sign-in stack's
    secrets pending deletion: a note)."""
    listed = {f.arn for f in s.residue.findings.values()}
    kms = s.client("kms")
    for arn in sorted(set(s.tagged) - listed):
        kind, name = kind_and_name(arn)
        state = ""
        if kind == "secretsmanager:secret" and _secret_pending_deletion(s, arn, name):
            continue
        if kind == "kms:key":
            metadata = s.call(kms.describe_key, KeyId=arn)["KeyMetadata"]
            state = metadata.get("KeyState", "")
            if state in {"PendingDeletion", "PendingReplicaDeletion"}:
                when = metadata.get("DeletionDate")
                s.residue.notes.append(
                    f"KMS key {name} is pending deletion"
                    + (f" (deleted on {when:%Y-%m-%d})" if when else "")
                    + ": not residue, it deletes itself"
                )
                continue
        details: dict[str, Any] = {"state": state}
        if kind == "ec2:natgateway":
            details.update(instance_type="nat-gateway", instance_count=1)
        s.residue.add(Finding(kind, name, s.region, [how_tag(s.prefix)], arn=arn, **details))


def _secret_pending_deletion(s: Scan, arn: str, name: str) -> bool:
    """A secret scheduled for deletion (DescribeSecret's DeletedDate) cannot be read and deletes
    itself after its recovery window (Secrets Manager API, DeleteSecret): a note, not residue."""
    try:
        secrets = s.client("secretsmanager")
        deleted = s.call(secrets.describe_secret, SecretId=arn).get("DeletedDate")
    except ClientError as error:
        if "ResourceNotFound" in str(error):
            s.residue.notes.append(f"secret {name}: already gone (the Tagging API lags)")
            return True
        raise
    if deleted is None:
        return False
    s.residue.notes.append(
        f"secret {name} is scheduled for deletion (since {deleted:%Y-%m-%d}): not residue, "
        "it deletes itself at the end of its recovery window"
    )
    return True


def scan_cdk_assets(s: Scan) -> None:
    """This app's file and image assets still in the CDK bootstrap bucket and repository."""
    files, images = asset_destinations(s.cdk_out, s.account, s.region)
    if not files and not images:
        s.residue.notes.append(
            f"no asset manifests in {s.cdk_out}: CDK asset objects not checked (run `make synth`)"
        )
        return
    s3 = s.client("s3")
    for bucket, key in sorted(files):
        try:
            head = s.call(s3.head_object, Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NoSuchBucket"}:
                continue
            raise
        s.leftover(
            "s3:object",
            f"{bucket}/{key}",
            "CDK asset of this app (cdk.out/*.assets.json)",
            arn=f"arn:aws:s3:::{bucket}/{key}",
            state=f"{head.get('ContentLength', 0)} bytes",
        )
    ecr = s.client("ecr")
    for repository, tag in sorted(images):
        try:
            described = s.call(
                ecr.describe_images, repositoryName=repository, imageIds=[{"imageTag": tag}]
            )
        except ClientError as error:
            if "NotFound" in error.response.get("Error", {}).get("Code", ""):
                continue
            raise
        if described.get("imageDetails"):
            s.leftover(
                "ecr:image",
                f"{repository}:{tag}",
                "CDK image asset of this app (cdk.out/*.assets.json)",
            )


SCANNERS: tuple[Scanner, ...] = (
    scan_tagged,  # first: every later scan also reports what the tag index holds
    scan_stacks,  # the workshop's Studio domain ids, from its stacks (deleted ones too)
    scan_buckets,
    scan_sagemaker,
    scan_named_kinds,
    scan_identities,
    scan_logs,
    scan_studio_volumes,
    scan_network,
    scan_cdk_assets,
    scan_tagged_rest,  # last: only what no scan above listed
)


def scan(
    clients: Clients,
    prefix: str,
    *,
    region: str,
    account: str,
    cdk_out: Path = CDK_OUT,
    domain_ids: Iterable[str] = (),
    sleep: Callable[[float], None] | None = None,
) -> Residue:
    """Run every scanner; one that fails becomes a row with its error (the scan goes on)."""
    options: dict[str, Any] = {"sleep": sleep} if sleep else {}
    s = Scan(
        clients=clients,
        prefix=prefix,
        region=region,
        account=account,
        cdk_out=Path(cdk_out),
        extra_domain_ids=frozenset(domain_ids),
        **options,
    )
    for scanner in SCANNERS:
        try:
            scanner(s)
        except (ClientError, BotoCoreError, KeyError) as error:
            what = scanner.__name__.removeprefix("scan_").replace("_", " ")
            s.residue.add(Finding(what, "*", region, ["-"], error=error_text(error)))
    return s.residue


def _iter_lines(residue: Residue, prices: Prices) -> Iterator[str]:
    if residue.clean:
        yield "nothing remains"
    else:
        yield residue.table(prices)
    yield from residue.notes


# -- the command ----------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    """Register ``residue`` on ``workshopctl``'s subcommands."""
    parser = subparsers.add_parser(
        "residue",
        help="after a destroy: what the workshop left in the account (read-only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_region(parser)
    parser.add_argument(
        "--cdk-out", default=str(CDK_OUT), help="the cloud assembly whose assets to look for"
    )
    parser.add_argument(
        "--domain-id",
        action="append",
        default=[],
        help="a Studio domain id of the workshop, for its home volume and NFS groups "
        "(default: found from the stacks, deleted ones included)",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(handler=run_residue)


def run_residue(args: argparse.Namespace, clients: Clients | None = None) -> int:
    """``workshopctl residue``: 0 nothing remains, 1 something remains, 2 AWS unreachable."""
    config = load_project_config()
    if clients is None:
        clients = Clients(boto3.Session(region_name=args.region or config.region))
    session = clients.session
    region = args.region or config.region or session.region_name
    try:
        account = clients.get("sts").get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as error:
        print(f"cannot reach AWS ({error}); set credentials and a region", file=sys.stderr)
        return 2
    prices = load_prices()
    out = sys.stderr if args.json else sys.stdout
    print(
        f"residue scan of {account}/{region}: tag {TAG_KEY}={config.prefix}, "
        f"name prefix {config.prefix}-, known leftovers",
        file=out,
    )
    residue = scan(
        clients,
        config.prefix,
        region=region,
        account=account,
        cdk_out=Path(args.cdk_out),
        domain_ids=args.domain_id,
    )
    if args.json:
        print(json.dumps([finding.to_dict(prices) for finding in residue.rows], indent=2))
        for note in residue.notes:
            print(note, file=out)
    else:
        for line in _iter_lines(residue, prices):
            print(line)
    return 0 if residue.clean else 1
