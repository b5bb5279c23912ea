"""Settings a fresh account or AWS's service contracts require of single resources.

Each test cites the AWS page that states the rule; each runs over the synthesized assemblies.
"""

from __future__ import annotations

import re

from workshop_spec.config import PROJECT_ROOT
from workshopctl.cloud_assembly import CloudAssembly


def test_no_function_reserves_concurrency(deployed):
    """A new account may start with an account concurrency of 10, and Lambda keeps at least 100
    executions unreserved: any reservation then fails with "decreases account's
    UnreservedConcurrentExecution below its minimum value"
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html,
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)."""
    reserving = [
        f.path
        for f in deployed.assembly.resources("AWS::Lambda::Function")
        if "ReservedConcurrentExecutions" in f.properties
    ]
    assert reserving == []


def test_notebooks_accept_only_imdsv2(deployed):
    """Notebook instances support requiring IMDSv2
    (https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-imds.html); v1 lets any process that
    can make a GET request read the role's credentials."""
    for notebook in deployed.assembly.resources("AWS::SageMaker::NotebookInstance"):
        setting = notebook.properties.get("InstanceMetadataServiceConfiguration", {})
        assert setting.get("MinimumInstanceMetadataServiceVersion") == "2", notebook.path


def test_notebooks_in_a_subnet_wait_for_their_route_and_endpoints(deployed):
    """The on-create script fetches the labs as the notebook first starts; CloudFormation only
    orders what a resource depends on, so a notebook must depend on its subnet's default route
    (through the NAT gateway) and the VPC endpoints, not only on its subnet
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html)."""
    for stack, template in deployed.assembly.templates.items():
        resources = template["Resources"]
        needed = {
            logical_id
            for logical_id, r in resources.items()
            if r["Type"] == "AWS::EC2::VPCEndpoint"
            or (r["Type"] == "AWS::EC2::Route" and "NatGatewayId" in r["Properties"])
        }
        for logical_id, raw in resources.items():
            if (
                raw["Type"] == "AWS::SageMaker::NotebookInstance"
                and "SubnetId" in raw["Properties"]
            ):
                missing = needed - set(raw.get("DependsOn", []))
                assert not missing, f"{stack}/{logical_id} does not wait for {sorted(missing)}"


def test_serving_models_are_network_isolated(deployed):
    """Nothing in the served containers needs the network (built-in XGBoost, the BYOM server):
    network isolation keeps a compromised model from calling out
    (https://docs.aws.amazon.com/sagemaker/latest/dg/mkt-algo-model-internet-free.html)."""
    for model in deployed.assembly.resources("AWS::SageMaker::Model"):
        assert model.properties.get("EnableNetworkIsolation") is True, model.path


def test_canary_updates_only_where_a_variant_has_instances_to_spare(deployed):
    """A canary step may shift at most 50 % of a variant's instances
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html,
    CanarySize); with one instance per variant an update must shift all at once (with a bake
    time before the old fleet goes)."""
    assembly = deployed.assembly
    for endpoint in assembly.resources("AWS::SageMaker::Endpoint"):
        config = assembly.find(
            "AWS::SageMaker::EndpointConfig", endpoint.properties["EndpointConfigName"]
        )
        counts = [v.get("InitialInstanceCount", 0) for v in config.properties["ProductionVariants"]]
        policy = endpoint.properties.get("DeploymentConfig", {}).get("BlueGreenUpdatePolicy", {})
        routing = policy.get("TrafficRoutingConfiguration", {})
        if routing.get("Type") == "CANARY":
            assert min(counts) >= 2, f"{endpoint.path}: canary with {counts} instances"


def test_budgets_depend_on_the_topic_policy_that_lets_them_publish(deployed):
    """AWS Budgets publishes to its SNS subscriber only if the topic policy allows it
    (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html):
    the policy must exist before the budget that names the topic."""
    assembly: CloudAssembly = deployed.assembly
    for stack, template in assembly.templates.items():
        policies = {
            k for k, r in template["Resources"].items() if r["Type"] == "AWS::SNS::TopicPolicy"
        }
        for logical_id, raw in template["Resources"].items():
            if raw["Type"] == "AWS::Budgets::Budget" and policies:
                assert policies & set(raw.get("DependsOn", [])), f"{stack}/{logical_id}"


def test_the_image_build_pulls_nothing_from_docker_hub():
    """A ``# syntax=`` directive makes BuildKit pull the Dockerfile frontend image from Docker
    Hub (https://docs.docker.com/build/buildkit/frontend/), anonymously from CodeBuild's
    shared addresses, where Docker Hub's rate limit for anonymous pulls applies
    (https://docs.docker.com/docker-hub/usage/). Base images come from ECR Public."""
    dockerfile = PROJECT_ROOT / "training_code" / "byom_scikit" / "Dockerfile"
    text = dockerfile.read_text()
    assert not re.search(r"^#\s*syntax\s*=", text, re.MULTILINE | re.IGNORECASE)
    arguments = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.MULTILINE))
    for image in re.findall(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)", text, re.MULTILINE):
        image = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], image)
        assert image.startswith("public.ecr.aws/"), image


def test_every_instance_the_deploy_starts_is_in_the_quota_data(deployed):
    """Quotas are per instance type and use ("Amazon SageMaker endpoints and quotas":
    https://docs.aws.amazon.com/general/latest/gr/sagemaker.html); a new account may have 0 of
    a type. Whatever the synthesized stacks start at deploy must be in workshopctl/quotas.yaml
    (which the deploy's early stop and the organiser's preflight read) with at least that
    many instances."""
    from workshopctl.quotas import needs

    deploy_needs = {n.quota_name: n.deploy_need for n in needs(deployed.config)}
    started: dict[str, int] = {}
    for notebook in deployed.assembly.resources("AWS::SageMaker::NotebookInstance"):
        key = f"{notebook.properties['InstanceType']} for notebook instance usage"
        started[key] = started.get(key, 0) + 1
    for config in deployed.assembly.resources("AWS::SageMaker::EndpointConfig"):
        for variant in config.properties["ProductionVariants"]:
            if "InstanceType" in variant:
                key = f"{variant['InstanceType']} for endpoint usage"
                started[key] = started.get(key, 0) + variant["InitialInstanceCount"]
    assert started, "the check would be empty"
    short = {k: (v, deploy_needs.get(k)) for k, v in started.items() if deploy_needs.get(k, 0) < v}
    assert not short, f"started at deploy vs written down: {short}"
