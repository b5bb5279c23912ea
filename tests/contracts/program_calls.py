"""What the project's own programs call in AWS, and as which role of the cloud assembly.

The calls are read from the code (:mod:`workshopctl.aws_calls`); where a program builds an
operation's name at run time (the janitor's kinds) the call's actions are declared here, and a
test derives the same actions from the code's kind table. Each action is then tried on the
resource it would hit: the ARN format of the action's resource type in the Service
Authorization Reference (parliament's copy), filled with the names the program acts on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.contracts.conftest import Deployed
from workshop_spec.config import ATTENDEES_PREFIX, PROJECT_ROOT
from workshopctl import service_reference

LAMBDAS = PROJECT_ROOT / "lambdas"
CFN_RESPONSE = LAMBDAS / "cfn_response.py"  # shipped beside the packages that import it


@dataclass(frozen=True)
class Program:
    """One program, the role it runs as, and the names it acts on."""

    name: str
    files: tuple[Path, ...]
    role_arn: str
    names: Mapping[str, str]  # values of the ARN formats' ${Variables}
    context: Mapping[str, str] = field(default_factory=dict)
    # Calls whose operation name is computed: the reported expression → its IAM actions.
    dynamic: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # AWS calls made through a library rather than boto3 (the SageMaker SDK), declared.
    declared: tuple[str, ...] = ()
    # (action, resource) pairs a call implies, e.g. iam:PassRole for CreateModel's role.
    implied: tuple[tuple[str, str], ...] = ()
    versioned_deletes: bool = False  # DeleteObjects with VersionId (s3:DeleteObjectVersion)


def census_namespace() -> str:
    from lambdas.janitor.census import NAMESPACE

    return NAMESPACE


# -- the janitor's kinds, as the code builds their operation names ------------------------------
def _snake(noun: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", noun).lower()


def janitor_dynamic_calls() -> dict[str, tuple[str, ...]]:
    """The actions of the janitor's computed calls, derived from its kind table (the nouns in
    ``_Job(...)``, ``_simple_kind(...)`` and ``_discover_domain_members(...)``)."""
    source = (LAMBDAS / "janitor" / "sagemaker_kinds.py").read_text()
    jobs = re.findall(r'_Job\(\s*"[^"]+",\s*"(\w+)"', source)
    simple = re.findall(r'_simple_kind\("[^"]+", "(\w+)"', source)
    members = re.findall(r'_discover_domain_members\(d, sm, "[^"]+", "(\w+)", "(\w+)"\)', source)
    assert jobs and simple and members, "the janitor's kind table moved: update this reader"
    sm = "sagemaker:"
    return {
        "d.pages(sm, f'list_{snake}s', job.list_key, StatusEquals='InProgress')": tuple(
            f"{sm}List{noun}s" for noun in jobs
        ),
        "getattr(sm, f'describe_{snake}')": tuple(f"{sm}Describe{noun}" for noun in jobs),
        "getattr(sm, f'stop_{snake}')": tuple(f"{sm}Stop{noun}" for noun in jobs),
        "d.pages(sm, f'list_{snake}s', list_key)": tuple(f"{sm}List{noun}s" for noun in simple),
        "getattr(sm, f'delete_{snake}')": tuple(f"{sm}Delete{noun}" for noun in simple),
        "d.pages(sm, f'list_{member}s', f'{noun}s', DomainIdEquals=domain_id)": tuple(
            f"{sm}List{noun}s" for noun, _ in members
        ),
        "getattr(sm, f'describe_{member}')": tuple(f"{sm}Describe{noun}" for noun, _ in members),
    }


# -- the programs of one deployed config ---------------------------------------------------------
def _function(deployed: Deployed, handler_prefix: str):
    for function in deployed.assembly.resources("AWS::Lambda::Function"):
        if str(function.properties.get("Handler", "")).startswith(handler_prefix):
            return function
    return None


def _variables(function) -> dict[str, str]:
    return dict((function.properties.get("Environment") or {}).get("Variables") or {})


def programs(deployed: Deployed) -> list[Program]:
    """Every program of the config whose role the assembly holds."""
    assembly, config = deployed.assembly, deployed.config
    prefix = config.prefix
    found: list[Program] = []
    promotion = _function(deployed, "promotion.")
    if promotion is not None:
        from lambdas.promotion.promotion import Settings, endpoint_config_name, model_name

        env = _variables(promotion)
        settings = Settings.from_env(env)
        endpoint, group = env["ENDPOINT_NAME"], env["MODEL_PACKAGE_GROUP"]
        model = model_name(settings, group, 3)  # the names the function gives version 3
        found.append(
            Program(
                "promotion",
                (LAMBDAS / "promotion",),
                promotion.properties["Role"],
                {
                    "EndpointName": endpoint,
                    "EndpointConfigName": endpoint_config_name(endpoint, "c", model, 3, 0.1),
                    "ModelName": model,
                    "ModelPackageGroupName": group,
                    "ModelPackageName": f"{group}/3",
                },
                context={
                    "aws:RequestTag/workshop": prefix,
                    "aws:ResourceTag/workshop": prefix,
                    "iam:PassedToService": "sagemaker.amazonaws.com",
                },
                implied=(("iam:PassRole", env["EXECUTION_ROLE_ARN"]),),
            )
        )
    shift = _function(deployed, "traffic_shift.")
    if shift is not None:
        found.append(
            Program(
                "traffic-shift",
                (LAMBDAS / "traffic_shift",),
                shift.properties["Role"],
                {"EndpointName": config.ab_endpoint_name},
            )
        )
    janitor = _function(deployed, "janitor.handler")
    if janitor is not None:
        env = _variables(janitor)
        files = tuple(p for p in (LAMBDAS / "janitor").glob("*.py") if p.name != "census.py")
        found.append(
            Program(
                "janitor",
                files,
                janitor.properties["Role"],
                {
                    "BucketName": env["WORKSHOP_BUCKETS"].split(",")[0],
                    "ObjectName": f"{ATTENDEES_PREFIX}x/left-behind.csv",
                    "DatabaseName": env["WORKSHOP_DATABASE"],
                    "TableName": "left_behind",
                    "WorkGroupName": env["WORKSHOP_WORKGROUP"],
                    "LogGroupName": "/aws/sagemaker/TrainingJobs",
                    "LogStreamName": f"{prefix}-x/algo-1",
                    "RepositoryName": f"{prefix}-attendee-x",
                    "DomainId": "d-x",
                    "UserProfileName": f"{prefix}-x",
                    "SpaceName": f"{prefix}-x",
                    "AppName": "default",
                    "AppType": "jupyterlab",
                    "_default": f"{prefix}-x",  # any other name: one in the workshop's scope
                },
                context={"aws:ResourceTag/workshop": prefix},
                dynamic=janitor_dynamic_calls(),
                versioned_deletes=True,  # it empties versioned buckets by VersionId
            )
        )
    census = _function(deployed, "janitor.census")
    if census is not None:
        found.append(
            Program(
                "census",
                (LAMBDAS / "janitor" / "census.py",),
                census.properties["Role"],
                {},
                context={"cloudwatch:namespace": census_namespace()},
            )
        )
    image_build = _function(deployed, "image_build.")
    repositories = list(assembly.resources("AWS::ECR::Repository"))
    projects = list(assembly.resources("AWS::CodeBuild::Project"))
    if image_build is not None and repositories and projects:
        found.append(
            Program(
                "image-build",
                (LAMBDAS / "image_build", CFN_RESPONSE),
                image_build.properties["Role"],
                {"RepositoryName": repositories[0].name, "ProjectName": projects[0].name},
            )
        )
    etl_run = _function(deployed, "glue_run.")
    if etl_run is not None:
        (run,) = assembly.resources("Custom::ReviewsEtlRun")  # the resource it answers
        found.append(
            Program(
                "reviews ETL run",
                (LAMBDAS / "glue_run", CFN_RESPONSE),
                etl_run.properties["Role"],
                {"JobName": run.properties["JobName"]},
            )
        )
    studio_teardown = _function(deployed, "studio_teardown.")
    domains = list(assembly.resources("AWS::SageMaker::Domain"))
    if studio_teardown is not None and domains:
        found.append(
            Program(
                "studio teardown",
                (LAMBDAS / "studio_teardown",),
                studio_teardown.properties["Role"],
                {"DomainId": domains[0].name},
            )
        )
    found += _glue_scripts(deployed)
    found.append(_labs_helper(deployed))
    for lifecycle in (_notebook_lifecycle(deployed), _studio_lifecycle(deployed)):
        if lifecycle is not None:
            found.append(lifecycle)
    return found


def _glue_scripts(deployed: Deployed) -> list[Program]:
    """The reviews ETL's own boto3 calls (its summary), as the Glue job's role."""
    found = []
    for job in deployed.assembly.resources("AWS::Glue::Job"):
        summary = job.properties.get("DefaultArguments", {}).get("--summary")
        if summary is None:
            continue
        bucket, _, key = summary.removeprefix("s3://").partition("/")
        found.append(
            Program(
                f"Glue job {job.name}",
                (PROJECT_ROOT / "training_code" / "reviews" / "etl.py",),
                job.properties["Role"],
                {"BucketName": bucket, "ObjectName": key},
            )
        )
    return found


# `aws <service> <command>` in the lifecycle scripts → the IAM action it needs.
LIFECYCLE_CLI_ACTIONS = {("s3", "cp"): "s3:GetObject", ("ssm", "get-parameter"): "ssm:GetParameter"}
LIFECYCLE = PROJECT_ROOT / "notebook_lifecycle"


def lifecycle_cli_calls() -> set[tuple[str, str]]:
    """Every ``aws <service> <command>`` the lifecycle scripts run."""
    calls = set()
    for script in LIFECYCLE.glob("*.sh"):
        calls.update(re.findall(r"\baws ([a-z0-9-]+) ([a-z0-9-]+)", script.read_text()))
    return calls


def _notebook_lifecycle(deployed: Deployed) -> Program | None:
    """The lifecycle scripts run as the notebook's role: they fetch the labs archive and the
    labs' parameter (values as rendered into the synthesized lifecycle configuration)."""
    assembly = deployed.assembly
    configs = list(assembly.resources("AWS::SageMaker::NotebookInstanceLifecycleConfig"))
    if not configs:
        return None
    scripts = "".join(
        hook["Content"]
        for hooks in ("OnCreate", "OnStart")
        for hook in configs[0].properties[hooks]
    )
    return _lifecycle_program(deployed, "notebook lifecycle", scripts)


def _studio_lifecycle(deployed: Deployed) -> Program | None:
    """Studio's JupyterLab lifecycle configuration runs in the attendee's space as the space's
    execution role, the attendee's own (https://docs.aws.amazon.com/sagemaker/latest/dg/jl-lcc.html):
    it fetches the labs archive and the labs' parameter."""
    configs = list(deployed.assembly.resources("AWS::SageMaker::StudioLifecycleConfig"))
    if not configs:
        return None
    script = configs[0].properties["StudioLifecycleConfigContent"]
    return _lifecycle_program(deployed, "studio lifecycle", script)


def _lifecycle_program(deployed: Deployed, name: str, scripts: str) -> Program:
    labs = re.search(r"\bLABS_S3_URI='s3://([^/]+)/([^']+)'", scripts)
    parameter = re.search(r"\bWORKSHOP_SSM_PARAMETER='?(/[^'\s]+)", scripts)
    assert labs and parameter, "the rendered lifecycle scripts changed: update this reader"
    return Program(
        name,
        (),
        deployed.attendee_role(deployed.config.attendee_names[0]).arn,
        {
            "BucketName": labs.group(1),
            "ObjectName": labs.group(2),
            "ParameterNameWithoutLeadingSlash": parameter.group(1).lstrip("/"),
        },
        declared=tuple(LIFECYCLE_CLI_ACTIONS[call] for call in sorted(lifecycle_cli_calls())),
    )


def _labs_helper(deployed: Deployed) -> Program:
    """The labs' helper, run by the first attendee as their own role."""
    assembly, config = deployed.assembly, deployed.config
    attendee = config.attendee_names[0]
    role = deployed.attendee_role(attendee)
    own = f"{config.prefix}-{attendee}-bank-xgb-1"
    curated = deployed.bucket("CuratedBucket")
    repositories = list(assembly.resources("AWS::ECR::Repository"))
    return Program(
        "labs helper",
        (PROJECT_ROOT / "labs" / "workshop.py",),
        role.arn,
        {
            name: own
            for name in (
                "TrainingJobName",
                "HyperParameterTuningJobName",
                "ProcessingJobName",
                "TransformJobName",
                "ModelName",
                "EndpointConfigName",
                "EndpointName",
            )
        }
        | {
            "BucketName": curated,
            "ObjectName": f"{config.attendee_prefix(attendee)}train.csv",
            "WorkGroupName": config.athena_workgroup_name,
            "DatabaseName": config.glue_database_name,
            "TableName": "bank_marketing",
            "ParameterNameWithoutLeadingSlash": config.workshop_parameter_name.lstrip("/"),
            "RepositoryName": repositories[0].name if repositories else "none",
            # training_log(): the training job's log streams, one per instance.
            "LogGroupName": "/aws/sagemaker/TrainingJobs",
            "LogStreamName": f"{own}/algo-1-1700000000",
        },
        context={
            "aws:RequestTag/workshop": config.prefix,
            "aws:RequestTag/attendee": attendee,
            "aws:ResourceTag/attendee": attendee,
            "s3:prefix": config.attendee_prefix(attendee),
            "iam:PassedToService": "sagemaker.amazonaws.com",
        },
        # What the notebooks' cells call with the SageMaker SDK v3 (ModelTrainer,
        # HyperparameterTuner, Model, EndpointConfig, Endpoint, Transformer) and boto3 (the
        # traffic shift, the scaling policy), as the same role as the helper.
        declared=(
            "sagemaker:CreateTrainingJob",
            "sagemaker:DescribeTrainingJob",
            "sagemaker:CreateHyperParameterTuningJob",
            "sagemaker:DescribeHyperParameterTuningJob",
            "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
            "sagemaker:CreateModel",
            "sagemaker:DescribeModel",
            "sagemaker:CreateEndpointConfig",
            "sagemaker:DescribeEndpointConfig",
            "sagemaker:CreateEndpoint",
            "sagemaker:DescribeEndpoint",
            "sagemaker:InvokeEndpoint",
            "sagemaker:UpdateEndpointWeightsAndCapacities",
            "sagemaker:CreateTransformJob",
            "sagemaker:DescribeTransformJob",
            "sagemaker:AddTags",
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:PutScalingPolicy",
        ),
        implied=(("iam:PassRole", role.arn),),
    )


# -- resources from the Service Authorization Reference ------------------------------------------
def resource_for(action: str, names: Mapping[str, str], region: str, account: str) -> str:
    """The ARN ``action`` is authorized against, or ``*`` for an action with no resource."""
    prefix, privilege = action.split(":")
    service = service_reference.services()[prefix]
    entry = next(p for p in service["privileges"] if p["privilege"] == privilege)
    types = [t["resource_type"] for t in entry["resource_types"] if t["resource_type"]]
    if not types:
        return "*"
    required = [t.rstrip("*") for t in types if t.endswith("*")] or types
    formats = {r["resource"]: r["arn"] for r in service["resources"]}
    candidates = [formats[t] for t in required if t in formats]
    values = {"Partition": "aws", "Region": region, "Account": account, **names}

    def known(arn: str) -> int:  # the format whose names the program gave, first
        return sum(v in values for v in re.findall(r"\$\{(\w+)\}", arn))

    arn = max(candidates, key=known)
    fallback = names.get("_default", "x")
    return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), fallback), arn)
