"""``workshopctl destroy``: janitor, then cdk destroy, then the residue scan, all three always;
the exit code is the first failing step's."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest

from workshopctl import destroy


@pytest.mark.parametrize(
    ("janitor", "cli", "left", "expected"),
    [(0, 0, 0, 0), (0, 0, 1, 1), (1, 0, 0, 1), (0, 3, 1, 3)],
)
def test_every_step_runs_and_the_first_failure_is_the_exit_code(
    monkeypatch, capsys, janitor, cli, left, expected
):
    steps: list[str] = []
    monkeypatch.setattr(
        destroy.janitor_cli, "run_janitor", lambda args, _: steps.append("janitor") or janitor
    )
    monkeypatch.setattr(
        destroy.residue, "run_residue", lambda args, _: steps.append("residue") or left
    )

    def runner(argv, env):
        steps.append(" ".join(argv[4:]))  # after `npx --no-install cdk --no-notices`
        assert env["AWS_REGION"] == "eu-west-1"
        return cli

    clients = SimpleNamespace(session=SimpleNamespace(region_name="eu-west-1"))
    args = argparse.Namespace(region="eu-west-1", context=[])
    assert destroy.run_destroy(args, clients=clients, runner=runner) == expected
    assert steps == ["janitor", "destroy --all --force", "residue"]
    assert "destroy: 0 s in all; stack times unavailable" in capsys.readouterr().out
