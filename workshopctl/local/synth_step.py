"""Step 0 of the local target: synthesize every stack and run the security gates on them.

The app runs as its own process (``python app.py``), exactly the code `cdk deploy` runs, so the
operator tooling never imports the stacks. The cdk-nag packs run inside synth (an unacknowledged
finding fails it); cfn-lint then checks every template.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from workshop_spec.config import PROJECT_ROOT
from workshopctl.local.workspace import Log, Metric, StepReport, Workspace

CDK_OUT = PROJECT_ROOT / "cdk.out"


def synthesize(log: Log) -> list[Path]:
    """Run the CDK app into cdk.out; return the templates. Raises with synth's output on failure."""
    stale_report = CDK_OUT / "validation-report.json"  # a stale one would confuse a later deploy
    stale_report.unlink(missing_ok=True)
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("CDK_OUTDIR", None)
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"synth failed:\n{result.stdout}\n{result.stderr}")
    templates = sorted(CDK_OUT.glob("*.template.json"))
    log(f"synthesized {len(templates)} stacks into {CDK_OUT}")
    return templates


CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def lint(templates: list[Path]) -> str:
    """cfn-lint over the templates (rules configured in .cfnlintrc); returns its findings.

    An empty string means clean; cfn-lint failing to run at all is an error, never "clean".
    """
    result = subprocess.run(
        [str(CFN_LINT), *map(str, templates)], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    findings = (result.stdout + result.stderr).strip()
    if result.returncode != 0 and not findings:
        raise RuntimeError(f"cfn-lint exited with {result.returncode} and said nothing")
    return findings


class SynthStep:
    name = "synthesize every stack, cdk-nag (3 packs), cfn-lint"

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        templates = synthesize(log)
        findings = lint(templates)
        if findings:
            raise RuntimeError(f"cfn-lint found problems:\n{findings}")
        acknowledgements = json.loads((CDK_OUT / "nag-acknowledgements.json").read_text())
        report = StepReport(title="Synthesis and security gates")
        would_create = []
        for template in templates:
            resources = json.loads(template.read_text()).get("Resources", {})
            stack = template.name.removesuffix(".template.json")
            report.lines.append(f"{stack}: {len(resources)} resources")
            types = Counter(resource["Type"] for resource in resources.values())
            would_create += [
                {"stack": stack, "type": t, "count": n} for t, n in sorted(types.items())
            ]
        report.tables["what `make deploy` would create"] = would_create
        report.lines.append(
            "cdk-nag AwsSolutions, NIST 800-53 rev 5, HIPAA Security: 0 unacknowledged findings; "
            f"{len(acknowledgements)} acknowledged with reasons (make nag-report)"
        )
        report.metrics.append(Metric("cfn-lint findings", 0, "= 0", True))
        return report
