"""Each of the project's functions imports its handler from its synthesized asset alone.

Lambda puts the asset root (``/var/task``) on ``sys.path`` and nothing of this repository; a
package importing a shared module of ``lambdas/`` (``cfn_response``) that its asset left out
would fail only there, on its first request. Here every function's handler is imported in a
fresh interpreter whose only project path is its asset's folder in ``cdk.out``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import resources_of

IMPORT_HANDLER = (
    "import importlib, sys; module, _, name = sys.argv[1].rpartition('.'); "
    "getattr(importlib.import_module(module), name)"
)


def test_every_function_imports_its_handler_from_its_asset_alone(synth):
    synthesis = synth()
    checked, failures = [], []
    for template in synthesis.templates.values():
        for function in resources_of(template, "AWS::Lambda::Function").values():
            properties = function["Properties"]
            handler = properties.get("Handler", "")
            if handler.count(".") < 2:
                continue  # the CDK's own helpers (index.handler), not ours
            asset = synthesis.outdir / f"asset.{properties['Code']['S3Key'].removesuffix('.zip')}"
            result = subprocess.run(
                [sys.executable, "-c", IMPORT_HANDLER, handler],
                cwd=asset,  # `python -c` puts the working folder, and only it, first on sys.path
                env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                capture_output=True,
                text=True,
                timeout=120,
            )
            checked.append(handler)
            if result.returncode != 0:
                failures.append(f"{handler}: {result.stderr.strip().splitlines()[-1]}")
    assert {"glue_run.handler.handler", "image_build.handler.handler"} <= set(checked)
    assert not failures, "\n".join(failures)
