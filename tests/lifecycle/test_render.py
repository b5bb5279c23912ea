"""render(): values reach the script as data, names are checked, the size limit holds."""

from __future__ import annotations

import base64
import gzip
import subprocess
from pathlib import Path

import pytest

from notebook_lifecycle.render import (
    AUTOSTOP,
    CONTENT_LIMIT,
    ON_START,
    autostop_payload,
    encoded_length,
    render,
    render_on_create,
    render_on_start,
    without_comment_lines,
)

HOSTILE_VALUES = [
    "$(touch {marker})",
    "`touch {marker}`",
    "'; touch {marker}; echo '",
    '"; touch {marker}; echo "',
    "a b\nc\ttouch {marker}",
    "$HOME ${{PATH}} \\ ! * ?",
    "",
    "ünïcødé 🚀",
]


@pytest.fixture
def echo_script(tmp_path: Path) -> Path:
    script = tmp_path / "echo.sh"
    script.write_text('#!/bin/bash\nprintf "%s" "$VALUE"\n')
    return script


@pytest.mark.parametrize("template", HOSTILE_VALUES)
def test_values_arrive_verbatim_and_never_run(
    template: str, echo_script: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    value = template.format(marker=marker)
    rendered = render(echo_script, {"VALUE": value})
    done = subprocess.run(["bash", "-c", rendered], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert done.stdout == value
    assert not marker.exists()


def test_shebang_first_then_exports_then_body(echo_script: Path) -> None:
    lines = render(echo_script, {"A_1": "x", "B": "y z"}).splitlines()
    assert lines[0] == "#!/bin/bash"
    exports = [line for line in lines if line.startswith("export ")]
    assert exports == ["export A_1=x", "export B='y z'"]
    assert lines.index(exports[-1]) < lines.index('printf "%s" "$VALUE"')
    assert sum(line.startswith("#!") for line in lines) == 1


def test_a_script_without_shebang_gets_bash(tmp_path: Path) -> None:
    script = tmp_path / "plain.sh"
    script.write_text("echo hi\n")
    assert render(script, {}).splitlines()[0] == "#!/bin/bash"


@pytest.mark.parametrize("name", ["lower", "1ST", "A-B", "A B", "", "PATH;rm", "Ä", "A\n"])
def test_names_that_are_not_shell_variables_are_rejected(name: str, echo_script: Path) -> None:
    with pytest.raises(ValueError, match="not a shell variable name"):
        render(echo_script, {name: "x"})


def test_non_string_values_and_nul_bytes_are_rejected(echo_script: Path) -> None:
    with pytest.raises(TypeError, match="IDLE_MINUTES"):
        render(echo_script, {"IDLE_MINUTES": 60})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="NUL"):
        render(echo_script, {"VALUE": "a\0b"})


def test_size_limit_is_the_base64_content_limit(echo_script: Path) -> None:
    """Content is base64 (≤ 16,384 characters): the script itself may have 12,288 bytes."""
    room = 12_288 - len(render(echo_script, {"VALUE": ""}).encode())
    fits = render(echo_script, {"VALUE": " " * room})  # quoted: '   ', as the empty value ''
    assert len(fits.encode()) == 12_288
    assert encoded_length(fits) == CONTENT_LIMIT
    with pytest.raises(ValueError, match="16384"):
        render(echo_script, {"VALUE": " " * (room + 1)})


def test_workshop_scripts_fit_with_room_for_the_stack_values() -> None:
    values = {
        "LAB_REPOSITORIES": "https://github.com/CloudaYolla/ArchitectingMLonAWS "
        "https://github.com/awslabs/amazon-sagemaker-examples",
        "LABS_S3_URI": "s3://mlws-data-lake-curatedbucket0123456789-abcdefghijkl/labs/labs.zip",
        "IDLE_MINUTES": "60",
        "WORKSHOP_SSM_PARAMETER": "/mlws/attendees/attendee-01/environment",
    }
    for script in (render_on_create(values), render_on_start(values)):
        assert encoded_length(script) <= CONTENT_LIMIT - 1000  # a margin for more values


def test_on_start_carries_autostop_exactly_and_deterministically() -> None:
    assert autostop_payload() == autostop_payload()  # no gzip timestamp: stable templates
    assert gzip.decompress(base64.b64decode(autostop_payload())) == AUTOSTOP.read_bytes()
    rendered = render_on_start({})
    assert f"export AUTOSTOP_PY_GZ_B64={autostop_payload()}" in rendered
    assert rendered.endswith(without_comment_lines(ON_START.read_text().partition("\n")[2]))


def test_rendering_on_start_by_path_still_carries_autostop() -> None:
    """The stack may call render(path, ...) directly: on-start must not lose its auto-stop."""
    values = {"IDLE_MINUTES": "30"}
    assert render(ON_START, values) == render_on_start(values)
    assert "AUTOSTOP_PY_GZ_B64" not in render_on_create(values)


def test_comment_lines_are_left_out_but_heredocs_and_directives_are_kept() -> None:
    body = (
        "# why this script exists\n"
        "    # why this step\n"
        "# shellcheck disable=SC2329\n"
        'f() { echo "#not a comment"; } # trailing comments stay\n'
        "cat <<'TEXT'\n"
        "# a line of the text, kept\n"
        "TEXT\n"
        'base64 -d <<<"$X"\n'
        "# dropped again after the heredoc\n"
    )
    assert without_comment_lines(body) == (
        "# shellcheck disable=SC2329\n"
        'f() { echo "#not a comment"; } # trailing comments stay\n'
        "cat <<'TEXT'\n"
        "# a line of the text, kept\n"
        "TEXT\n"
        'base64 -d <<<"$X"\n'
    )


def test_rendered_on_start_leaves_room_under_the_limit() -> None:
    """Where the margin stands (README.md quotes it): on-start is the larger script."""
    rendered = render_on_start({"IDLE_MINUTES": "60", "WORKSHOP_SSM_PARAMETER": "/mlws/a/env"})
    assert encoded_length(rendered) < 15_000
