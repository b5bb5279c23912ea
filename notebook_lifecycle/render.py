"""Turn a lifecycle script of this folder into the content of a SageMaker lifecycle config.

The stack passes its values as variables; ``render`` writes them as ``export NAME='value'``
lines (quoted with ``shlex.quote``, so a value is data, never code) between the script's
shebang and its body. Standard library only: the CDK app imports this.

A CDK token (``bucket.bucket_name``) may be a value: it is quoted like any string and resolved
by CloudFormation inside the quotes. The size check then counts the token's placeholder, not
the final value, which is close enough for names and ARNs.

The scripts' whole-line comments stay in this folder and are left out of the rendered content
(except shellcheck directives and heredoc bodies): they explain the source to its maintainers,
and the lifecycle hook's size limit is better spent on code.
"""

from __future__ import annotations

import base64
import gzip
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
ON_CREATE = HERE / "on-create.sh"
ON_START = HERE / "on-start.sh"
AUTOSTOP = HERE / "autostop.py"
STUDIO_JUPYTERLAB = HERE / "studio-jupyterlab.sh"

# NotebookInstanceLifecycleHook.Content is the *base64* of the script, at most 16,384
# characters: the script itself may be at most 12,288 bytes.
CONTENT_LIMIT = 16_384
_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_DEFAULT_SHEBANG = "#!/bin/bash"
# `<<WORD`, `<<-'WORD'`, `<<"WORD"`, but not the here-string `<<<`.
_HEREDOC = re.compile(r"(?<!<)<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
AUTOSTOP_VARIABLE = "AUTOSTOP_PY_GZ_B64"


def encoded_length(script: str) -> int:
    """Characters of the script as SageMaker stores it (base64 of its UTF-8 bytes)."""
    return len(base64.b64encode(script.encode("utf-8")))


def render(script_path: str | Path, variables: Mapping[str, str]) -> str:
    """The script with ``export NAME=value`` lines after its shebang, ready for the stack.

    on-start.sh always gets ``AUTOSTOP_PY_GZ_B64`` (autostop.py) too: without it the
    instance would start with no auto-stop.

    Raises ValueError for a name that is not ``[A-Z_][A-Z0-9_]*``, a value with a NUL byte
    (no shell variable can hold one), or a result over the lifecycle config's size limit;
    TypeError for a value that is not a string.
    """
    if Path(script_path).resolve() == ON_START:
        variables = {AUTOSTOP_VARIABLE: autostop_payload(), **variables}
    text = Path(script_path).read_text(encoding="utf-8")
    shebang, body = _DEFAULT_SHEBANG, text
    if text.startswith("#!"):
        shebang, _, body = text.partition("\n")
    exports = []
    for name, value in variables.items():
        if not _NAME.fullmatch(name):  # fullmatch: `$` would allow a trailing newline
            raise ValueError(f"{name!r} is not a shell variable name ([A-Z_][A-Z0-9_]*)")
        if not isinstance(value, str):
            raise TypeError(f"{name}: values are strings, not {type(value).__name__}")
        if "\0" in value:
            raise ValueError(f"{name}: a NUL byte cannot be passed to a shell script")
        exports.append(f"export {name}={shlex.quote(value)}")
    header = [shebang, "# --- parameters from the workshop stack ---", *exports, "# ---"]
    script = "\n".join(header) + "\n" + without_comment_lines(body)
    size = encoded_length(script)
    if size > CONTENT_LIMIT:
        raise ValueError(
            f"{Path(script_path).name} renders to {size} base64 characters; a lifecycle "
            f"config script may have at most {CONTENT_LIMIT}"
        )
    return script


def without_comment_lines(body: str) -> str:
    """``body`` without its whole-line ``#`` comments; heredoc bodies (text, not code) and
    ``# shellcheck`` directives (the rendered script is linted too) are kept verbatim."""
    kept, terminator = [], None
    for line in body.splitlines(keepends=True):
        if terminator is not None:
            kept.append(line)
            if line.rstrip("\n").strip() == terminator:
                terminator = None
            continue
        stripped = line.lstrip()
        if stripped.startswith("#") and not stripped.startswith("# shellcheck"):
            continue
        kept.append(line)
        heredoc = _HEREDOC.search(line)
        if heredoc:
            terminator = heredoc.group(2)
    return "".join(kept)


def autostop_payload() -> str:
    """autostop.py gzipped (with a fixed mtime, so templates are stable) and base64-encoded.

    Compressed because the raw source would not fit in on-start's size limit.
    """
    compressed = gzip.compress(AUTOSTOP.read_bytes(), compresslevel=9, mtime=0)
    return base64.b64encode(compressed).decode("ascii")


def render_on_create(variables: Mapping[str, str]) -> str:
    """on-create.sh with the stack's values (LAB_REPOSITORIES, LABS_S3_URI, ...)."""
    return render(ON_CREATE, variables)


def render_on_start(variables: Mapping[str, str]) -> str:
    """on-start.sh with the stack's values and autostop.py (as AUTOSTOP_PY_GZ_B64)."""
    return render(ON_START, variables)


def render_studio_jupyterlab(variables: Mapping[str, str]) -> str:
    """studio-jupyterlab.sh with the stack's values (LABS_S3_URI, WORKSHOP_SSM_PARAMETER).

    A Studio lifecycle configuration's content has the same limit as a notebook instance's
    hook, 16,384 characters of base64
    (https://docs.aws.amazon.com/sagemaker/latest/dg/jl-lcc.html)."""
    return render(STUDIO_JUPYTERLAB, variables)
