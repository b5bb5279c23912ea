"""What is committed in labs/: valid notebooks without outputs, written against the helper,
with no SDK v1 call and no account, region, role or bucket typed in."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from workshopctl.local.labs_step import LABS_DIR, local_kernel, notebooks

NOTEBOOKS = notebooks()
# The kernel of an Amazon Linux 2023 notebook instance (the labs' platform, Python 3.10).
NOTEBOOK_INSTANCE_KERNELSPEC = {
    "name": "conda_python3",
    "display_name": "conda_python3",
    "language": "python",
}
LAB_FILES = sorted(p for p in LABS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

# SageMaker Python SDK v1 names that v2 removed or renamed (the v2 migration guide's list).
SDK_V1_NAMES = re.compile(
    r"get_image_uri|\bs3_input\b|\btrain_instance_(?:count|type)\b|\btrain_volume_size\b"
    r"|\btrain_max_run\b|\btrain_use_spot_instances\b|\btrain_max_wait\b"
    r"|\bcsv_serializer\b|\bjson_serializer\b|\bcsv_deserializer\b|\bjson_deserializer\b"
    r"|\bRealTimePredictor\b|\bimage_name\s*=|\bupdate_endpoint\s*=|sagemaker\.amazon\.amazon_estimator"
    r"|\bsagemaker\.content_types\b|\bsession\.s3_input\b"
)
ACCOUNT_ID = re.compile(r"(?<![\d.])\d{12}(?![\d.])")
REGION = re.compile(
    r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?-"
    r"(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d\b"
)
ARN = re.compile(r"\barn:aws")
BUCKET_LITERAL = re.compile(
    r"s3://[A-Za-z0-9]"  # an S3 URI with the bucket typed in
    r"|\bBucket\s*=\s*[\"'][^\"'{]"  # a boto3 call with a bucket name in quotes
    r"|\bsagemaker-[a-z]{2}-[a-z]+-\d-\d{12}\b"  # the SDK's default bucket of an account
)


def hard_coded(text: str) -> list[str]:
    """Every literal account id, region, ARN or bucket in ``text``."""
    return [m.group(0) for pattern in (ACCOUNT_ID, REGION, ARN, BUCKET_LITERAL)
            for m in pattern.finditer(text)]  # fmt: skip


def code_cells(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize(
    "text",
    [
        "from sagemaker.amazon.amazon_estimator import get_image_uri",
        "train = sagemaker.s3_input(s3_data=uri, content_type='csv')",
        "Estimator(container, role, train_instance_count=2, train_instance_type='ml.m4.xlarge')",
        "predictor.serializer = sagemaker.predictor.csv_serializer",
        "RealTimePredictor(endpoint)",
    ],
)
def test_the_v1_check_catches_v1_calls(text):
    assert SDK_V1_NAMES.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "role = 'arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole'",
        "region = 'us-east-1'",
        "boto3.client('s3', region_name='eu-west-1')",
        "data = 's3://sagemaker-workshop-data/bank/train.csv'",
        "s3.put_object(Bucket='my-bucket', Key=key, Body=body)",
        "bucket = 'sagemaker-us-west-2-123456789012'",
    ],
)
def test_the_literal_check_catches_accounts_regions_roles_and_buckets(text):
    assert hard_coded(text)


def test_the_literal_check_passes_names_read_from_the_environment():
    text = (
        "uri = workshop.s3_uri('bank/train/')\n"
        "f's3://{env.curated_bucket}/{key}'\n"
        "boto3.Session(region_name=environment().region)\n"
        "shuffled = table.sample(frac=1, random_state=1729)\n"
    )
    assert hard_coded(text) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_carries_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)

    assert notebook.nbformat == 4
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: outputs in cell {cell.id}"
            assert cell.execution_count is None, f"{path.name}: execution count in {cell.id}"
        assert set(cell.metadata) <= {"tags"}, f"{path.name}: metadata {dict(cell.metadata)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_no_sdk_v1_name(path):
    offending = [m.group(0) for cell in code_cells(path) for m in SDK_V1_NAMES.finditer(cell)]
    assert offending == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_code_names_no_account_region_role_or_bucket(path):
    offending = [found for cell in code_cells(path) for found in hard_coded(cell)]
    assert offending == []


@pytest.mark.parametrize("path", LAB_FILES, ids=lambda p: p.name)
def test_nothing_in_labs_names_an_account_region_or_role(path):
    """The acceptance criterion, for every file in labs/ (prose and helper included)."""
    text = path.read_text(encoding="utf-8")
    assert hard_coded(text) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_explains_reads_the_environment_and_ends_with_a_clean_up(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    code = [cell.source for cell in cells if cell.cell_type == "code"]

    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# Module ")
    assert "import workshop" in code[0] and "workshop.environment()" in code[0]
    assert "workshop.cleanup(" in code[-1]
    assert "Clean-up" in cells[-2].source
    assert sum(cell.cell_type == "markdown" for cell in cells) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_declares_the_notebook_instance_kernel(path):
    """Opened on a notebook instance, the lab starts on conda_python3 without asking."""
    notebook = nbformat.read(path, as_version=4)
    assert dict(notebook.metadata.kernelspec) == NOTEBOOK_INSTANCE_KERNELSPEC


def test_the_local_target_runs_conda_python3_on_the_labs_kernel(tmp_path):
    """conda_python3 is the labs' kernel (the notebook's Python and SDK, from the kernel lock);
    a notebook that declares none runs on this Python."""
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": NOTEBOOK_INSTANCE_KERNELSPEC})
    assert local_kernel(notebook, tmp_path / "1-a.ipynb") == "conda_python3"
    assert local_kernel(nbformat.v4.new_notebook(), tmp_path / "1-a.ipynb") == "python3"
    notebook.metadata.kernelspec["name"] = "conda_pytorch"
    with pytest.raises(ValueError, match="conda_pytorch"):
        local_kernel(notebook, tmp_path / "1-a.ipynb")


# The SageMaker resources a lab from module 5 on creates, and the SDK v3 call that creates each:
# the acceptance "the cells that create SageMaker resources contain the SDK calls themselves".
SDK_CREATES = {
    "5-classification": [
        "ModelTrainer(", ".train(", "Model.create(", "Transformer(", ".transform(",
    ],
    "6.1-tuning": [
        "ModelTrainer(", "HyperparameterTuner(", ".tune(", "Model.create(", "Transformer(",
    ],
    "6.2-tuning-analysis": ["HyperparameterTuningJobAnalytics("],
    "7-byom": [
        "Model.create(", "ProductionVariant(", "EndpointConfig.create(", "Endpoint.create(",
        "update_endpoint_weights_and_capacities(", "register_scalable_target(",
        "put_scaling_policy(", "ModelTrainer(", "Transformer(", 'mode="MultiModel"',
    ],
    # Module 8 creates through the deployed automation: a pipeline run and an approval.
    "8-mlops": ["start_pipeline_execution(", "update_model_package("],
}  # fmt: skip
# What the helper no longer does for the labs: the SDK code lives in the cells.
HELPER_SDK_CALLS = re.compile(
    r"workshop\.(?:train_\w+|tune|deploy\w*|batch_transform|enable_autoscaling|set_weights)\("
)


@pytest.mark.parametrize("stem", sorted(SDK_CREATES))
def test_labs_from_module_5_write_the_sdk_calls_in_their_cells(stem):
    code = "\n".join(code_cells(LABS_DIR / f"{stem}.ipynb"))

    assert [call for call in SDK_CREATES[stem] if call not in code] == []
    assert HELPER_SDK_CALLS.findall(code) == []
    assert "workshop.show(" not in code


@pytest.mark.parametrize(
    "stem", ["5-classification", "6.1-tuning", "6.2-tuning-analysis", "7-byom", "8-mlops"]
)
def test_labs_from_module_5_open_with_objectives_duration_and_cost_and_hold_exercises(stem):
    cells = nbformat.read(LABS_DIR / f"{stem}.ipynb", as_version=4).cells
    opening = cells[0].source
    markdown = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")

    assert "**Objectives.**" in opening and "**Duration**" in opening and "**Cost**" in opening
    assert "## Exercise" in markdown and "## Discussion" in markdown
    solution = re.search(r"%load (solutions/module_[0-9_]+\.py)", markdown)
    assert solution and (LABS_DIR / solution.group(1)).is_file()
