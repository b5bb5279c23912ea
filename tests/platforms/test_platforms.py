"""The platform matrix as a deprecation gate: every runtime we ship to is still supported today.

The matrix (``workshop_spec/platforms.yaml``) names each runtime, its end of support and the AWS
page that states it. This test goes red on the first day after any of those dates, naming the
platform, the date and the page, so a retirement is found by CI, not by an attendee on the day.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, timedelta

import pytest
import yaml

from workshop_spec import platforms
from workshop_spec.config import PROJECT_ROOT, ConfigError, load_project_config

MATRIX = platforms.matrix()
TODAY = date.today()
DOCUMENT = yaml.safe_load(platforms.MATRIX_FILE.read_text())


def retired_platforms_message(matrix: platforms.Matrix, today: date) -> str:
    """The gate's failure message: one line per platform past its end of support."""
    return "\n".join(p.retirement() for p in matrix.retired(today))


# -- the gate -------------------------------------------------------------------------------------


def test_no_platform_we_ship_to_is_past_its_end_of_support():
    message = retired_platforms_message(MATRIX, TODAY)
    assert not message, f"re-platform before the next deploy:\n{message}"


def test_the_gate_names_the_platform_its_date_and_its_page():
    yesterday = TODAY - timedelta(days=1)
    document = copy.deepcopy(DOCUMENT)
    document["platforms"]["glue"]["end_of_support"] = yesterday.isoformat()
    message = retired_platforms_message(platforms.parse(document), TODAY)
    assert message == (
        f"glue (5.0) reached end of support on {yesterday.isoformat()} "
        "(https://docs.aws.amazon.com/glue/latest/dg/glue-version-support-policy.html)"
    )


def test_the_last_day_of_support_is_still_supported():
    document = copy.deepcopy(DOCUMENT)
    document["platforms"]["glue"]["end_of_support"] = TODAY.isoformat()
    assert not platforms.parse(document).retired(TODAY)


# -- the matrix's shape -----------------------------------------------------------------------


@pytest.mark.parametrize("platform", MATRIX.platforms.values(), ids=list(MATRIX.platforms))
def test_every_entry_has_a_page_and_a_date_or_a_reason(platform):
    assert re.match(r"^https://\S+$", platform.page), platform.key
    assert platform.source.strip(), platform.key
    if platform.end_of_support is None:
        assert platform.no_date_reason and len(platform.no_date_reason) > 20, platform.key
    else:
        assert platform.no_date_reason is None, f"{platform.key}: a date and a reason"


def test_the_matrix_says_when_it_was_checked_and_that_the_pages_were_stored_copies():
    assert MATRIX.last_checked <= TODAY
    header = platforms.MATRIX_FILE.read_text().split("platforms:")[0]
    assert "stored copies" in header and "live pages" in header


def test_the_runtimes_the_issue_names_are_all_in_the_matrix():
    assert {p.kind for p in MATRIX.in_use()} >= {
        "notebook-platform",
        "framework-image",
        "builtin-algorithm",
        "container-base-image",
        "lambda-runtime",
        "glue-version",
        "codebuild-image",
        "python-sdk",
        "node",
    }


def test_the_kernel_and_glue_versions_are_recorded():
    assert MATRIX["notebook-al2023"].implies["kernel_python"] == "3.10"
    assert MATRIX["glue"].implies == {"python": "3.11", "spark": "3.5.4", "java": "17"}


# -- the places that cannot read the matrix agree with it --------------------------------------


def test_the_pinned_sagemaker_sdk_has_the_matrix_major():
    pins = (PROJECT_ROOT / "requirements.txt").read_text()
    major = re.search(r"^sagemaker==(\d+)\.", pins, re.MULTILINE).group(1)
    assert major == MATRIX["sagemaker-sdk"].identifier


def test_the_dockerfile_default_base_image_is_the_matrix_one():
    dockerfile = (PROJECT_ROOT / "training_code" / "byom_scikit" / "Dockerfile").read_text()
    assert f"ARG PYTHON_IMAGE={MATRIX['byom-base-image'].identifier}" in dockerfile


def test_the_makefile_installs_the_matrix_node_and_requires_its_minimum():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    installed = re.search(r"^NODE_INSTALL_VERSION := (\d+)\.", makefile, re.MULTILINE).group(1)
    minimum = re.search(r"^NODE_MIN_MAJOR := (\d+)$", makefile, re.MULTILINE).group(1)
    assert installed == MATRIX["cdk-cli-node"].identifier
    assert minimum == MATRIX["cdk-cli-node"].implies["minimum_major"]


def test_the_tuning_spec_trains_the_matrix_xgboost():
    # A shared data file (the labs read it too), so it keeps its own copy of the version.
    spec = json.loads((PROJECT_ROOT / "training_code/tuning/bank_xgboost_tuning.json").read_text())
    version = spec["TrainingJobDefinition"]["Algorithm"]["Version"]
    assert version == MATRIX["sagemaker-xgboost"].identifier


# -- warnings for `make up` ---------------------------------------------------------------------


def test_warnings_name_each_platform_within_90_days_of_its_end():
    end = MATRIX["sagemaker-sdk"].end_of_support
    lines = platforms.warnings(end - timedelta(days=30), days=90)
    assert any(
        line.startswith("platform ending in 30 days: sagemaker-sdk (2) until 2027-07-06")
        for line in lines
    ), lines


def test_no_warning_far_from_any_end_and_none_for_a_retired_platform_we_no_longer_use():
    assert platforms.warnings(date(2026, 12, 3), days=90) == []  # notebook-al2 is not in use


# -- the config refuses a retired notebook platform ------------------------------------------


def test_notebooks_default_to_amazon_linux_2023():
    config = load_project_config()
    assert config.attendee_environment.platform == "notebook-al2023-v1"


def test_a_retired_notebook_platform_is_refused_with_its_date_and_page():
    with pytest.raises(ConfigError) as error:
        load_project_config({"attendee_environment.platform": "notebook-al2-v3"})
    assert str(error.value) == (
        "attendee_environment.platform: notebook-al2-v3 is not allowed; notebook-al2 "
        "(notebook-al2-v3) reached end of support on 2026-06-30 "
        "(https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-al2.html); "
        "use one of notebook-al2023-v1"
    )


def test_make_up_prints_one_warning_line_per_platform_near_its_end(monkeypatch, capsys, tmp_path):
    import workshopctl.__main__ as cli

    class EndOfTheSdk(date):
        @classmethod
        def today(cls):
            return MATRIX["sagemaker-sdk"].end_of_support - timedelta(days=10)

    monkeypatch.setattr(cli, "date", EndOfTheSdk)
    monkeypatch.setattr(cli, "all_steps", lambda: [])
    monkeypatch.setattr(cli, "run", lambda steps, workspace: ([], None))
    assert cli.main(["up", "--root", str(tmp_path)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "WARNING" in line]
    assert warnings == [
        "WARNING platform ending in 10 days: sagemaker-sdk (2) until 2027-07-06 "
        "(https://pypi.org/project/sagemaker/2.257.7/)"
    ]
