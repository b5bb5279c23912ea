"""Module 7's A/B endpoint, rehearsed locally: two XGBoost variants behind a weighted router.

The variants are the two bank-marketing models the earlier steps left in the workspace:
``variant-a`` the workshop's hyperparameters (BankMarketingStep), ``variant-b`` the tuned model
(TuningStep). When either is missing, it is trained here, quickly, through the same programs.
Each is served by the local built-in-XGBoost stand-in and the router splits requests by the
configured weights. Then the step plays an attendee's traffic:

1. N requests of real test rows (one row each) through the router: the measured split, held to
   ±5 points of the weights, and latency p50/p99 per variant;
2. the same rows to each variant directly (TargetVariant): how often the two give the same label
   at 0.5, and the mean absolute difference of their probabilities;
3. a malformed request: it must get a 4xx, and the next request must still be served;
4. a shift to 50/50, validated by the traffic-shift Lambda's own rules, and N more requests.

Servers are stopped at the end, whatever happens.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lambdas.traffic_shift.weights import parse_request, plan_shift, shares
from workshop_artifacts.programs import (
    WORKSHOP_SPLIT_SEED,
    WORKSHOP_XGBOOST,
    run_program,
    train_and_pack,
)
from workshopctl.local.ab_router import (
    INVOKED_VARIANT_HEADER,
    TARGET_VARIANT_HEADER,
    WeightedRouter,
)
from workshopctl.local.ml_steps import bank_case, prepare_bank
from workshopctl.local.workspace import Log, Metric, StepReport, Workspace
from workshopctl.local.xgboost_server import XGBoostServer

VARIANTS = ("variant-a", "variant-b")
DEFAULT_WEIGHTS = {"variant-a": 0.9, "variant-b": 0.1}  # for a config without serving settings
SHIFTED_WEIGHTS = {"variant-a": 0.5, "variant-b": 0.5}
SPLIT_TOLERANCE = 0.05  # the acceptance: ±5 points over 400 requests
# The workshop's split seed, reused (not picked to pass): routing is an independent draw per
# request, as in SageMaker, so over 400 requests the split's standard deviation is 1.5 points at
# 10 % and 2.5 points at 50 %; the seed makes a rehearsal repeatable.
ROUTER_SEED = 1729
SECONDS_TARGET = 20.0
MALFORMED_ROW = b"not-a-number,1,2"


@dataclass(frozen=True)
class BankModels:
    """Where the bank-marketing steps leave what the A/B endpoint serves."""

    variant_a: Path  # the workshop's hyperparameters
    variant_b: Path  # the tuned model
    test: Path  # label-first test rows

    @classmethod
    def in_workspace(cls, workspace: Workspace, feature_set: str = "workshop") -> BankModels:
        case = (
            workspace.bucket("curated")
            / "bank-marketing"
            / bank_case(feature_set, WORKSHOP_SPLIT_SEED)
        )
        return cls(
            variant_a=case / "models" / "xgboost" / "model.tar.gz",
            variant_b=case / "tuning" / "best" / "model.tar.gz",
            test=case / "prepared" / "test",
        )


def configured_weights(config: Any) -> dict[str, float]:
    """The A/B endpoint's initial weights, as the ServingStack sets them: ``serving.
    champion_weight`` for variant-a, the rest for variant-b (90/10 without that setting)."""
    champion = getattr(getattr(config, "serving", None), "champion_weight", None)
    if champion is None:
        return dict(DEFAULT_WEIGHTS)
    return {"variant-a": float(champion), "variant-b": round(1 - float(champion), 6)}


def ab_endpoint_name(config: Any) -> str:
    """The A/B endpoint's name from the config (``<prefix>-bank-ab``)."""
    return getattr(config, "ab_endpoint_name", None) or f"{config.prefix}-bank-ab"


def read_test_rows(folder: Path, count: int) -> tuple[list[str], np.ndarray]:
    """The first ``count`` test rows as the attendee sends them (features only) and their labels."""
    rows, labels = [], []
    for path in sorted(folder.glob("*.csv")):
        for line in path.read_text().splitlines():
            if len(rows) == count:
                break
            label, features = line.split(",", 1)
            rows.append(features)
            labels.append(float(label))
    if len(rows) < count:
        raise RuntimeError(f"{folder} holds {len(rows)} test rows; the rehearsal needs {count}")
    return rows, np.asarray(labels)


def post(port: int, body: bytes, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One ``POST /invocations`` over a new connection: status, body, variant, milliseconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        started = time.perf_counter()
        connection.request(
            "POST",
            "/invocations",
            body=body,
            headers={"Content-Type": "text/csv", **(headers or {})},
        )
        response = connection.getresponse()
        payload = response.read()
        return {
            "status": response.status,
            "body": payload,
            "variant": response.getheader(INVOKED_VARIANT_HEADER),
            "ms": (time.perf_counter() - started) * 1000,
        }
    finally:
        connection.close()


def probabilities(answer: bytes) -> np.ndarray:
    return np.asarray([float(line) for line in answer.decode().splitlines()])


def play_traffic(port: int, rows: list[str]) -> list[dict[str, Any]]:
    """One request per row through the router; every one must be answered."""
    answers = []
    for row in rows:
        answer = post(port, row.encode())
        if answer["status"] != 200:
            raise RuntimeError(f"the router answered {answer['status']}: {answer['body'][:200]!r}")
        answers.append(answer)
    return answers


def split_summary(
    phase: str, answers: list[dict[str, Any]], weights: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Per variant: configured share, measured share, latency p50/p99."""
    expected = shares(weights)
    rows = []
    for variant in weights:
        latencies = [a["ms"] for a in answers if a["variant"] == variant]
        p50, p99 = np.percentile(latencies, [50, 99]) if latencies else (float("nan"),) * 2
        rows.append(
            {
                "phase": phase,
                "variant": variant,
                "weight": round(expected[variant], 4),
                "requests": len(latencies),
                "share": round(len(latencies) / len(answers), 4),
                "p50 ms": round(float(p50), 3),
                "p99 ms": round(float(p99), 3),
            }
        )
    return rows


def agreement(port: int, rows: list[str], labels: np.ndarray) -> dict[str, float]:
    """Both variants on the same rows (TargetVariant): label agreement at 0.5, mean |Δp|,
    and each one's ROC AUC against the true labels."""
    from sklearn.metrics import roc_auc_score  # here: scikit-learn takes ~1 s to import

    body = "\n".join(rows).encode()
    predicted = {}
    for variant in VARIANTS:
        answer = post(port, body, {TARGET_VARIANT_HEADER: variant})
        if answer["status"] != 200 or answer["variant"] != variant:
            raise RuntimeError(f"TargetVariant {variant} answered {answer['status']}")
        predicted[variant] = probabilities(answer["body"])
    a, b = (predicted[v] for v in VARIANTS)
    if len(a) != len(rows) or len(b) != len(rows):
        raise RuntimeError(f"{len(rows)} rows sent, {len(a)} and {len(b)} probabilities back")
    result = {
        "label agreement": float(np.mean((a >= 0.5) == (b >= 0.5))),
        "mean abs probability difference": float(np.mean(np.abs(a - b))),
    }
    for variant, p in predicted.items():
        result[f"ROC AUC {variant} ({len(rows)} test rows)"] = float(roc_auc_score(labels, p))
    return result


def survive_malformed_request(port: int, row: str) -> str:
    """A malformed body must get a 4xx; the request after it must be served."""
    bad = post(port, MALFORMED_ROW)
    if not 400 <= bad["status"] < 500:
        raise RuntimeError(f"a malformed request got {bad['status']}, not a 4xx")
    good = post(port, row.encode())
    if good["status"] != 200:
        raise RuntimeError(f"after a malformed request the next one got {good['status']}")
    reason = bad["body"].decode().strip()
    return (
        f"malformed request -> {bad['status']} from {bad['variant']} ({reason}); "
        f"next request -> 200 from {good['variant']}"
    )


@dataclass
class Rehearsal:
    """What one rehearsal measured."""

    endpoint: str
    models: BankModels
    trained: list[str]
    split: list[dict[str, Any]]  # split_summary rows, both phases
    agreement: dict[str, float]
    malformed: str
    shifted: bool
    seconds: float = 0.0

    def to_json(self) -> str:
        fields = {"endpoint": self.endpoint, "split": self.split, "agreement": self.agreement,
                  "trained": self.trained, "seconds": round(self.seconds, 3)}  # fmt: skip
        return json.dumps(fields, indent=2) + "\n"


def rehearse(
    endpoint: str,
    prefix: str,
    weights: Mapping[str, float],
    models: BankModels,
    test: tuple[list[str], np.ndarray],
    log: Log,
) -> Rehearsal:
    """Serve both models behind the router at ``weights``, play the traffic, shift to 50/50.
    Every server is stopped on the way out, whatever happens."""
    rows, labels = test
    # The configured weights pass the same checks as a traffic-shift request.
    configured = parse_request({"endpoint": endpoint, "weights": dict(weights)}, prefix)
    initial = plan_shift(configured, dict.fromkeys(VARIANTS, 1.0)).after
    with ExitStack() as running:
        servers = {
            "variant-a": running.enter_context(XGBoostServer(models.variant_a)),
            "variant-b": running.enter_context(XGBoostServer(models.variant_b)),
        }
        router = running.enter_context(
            WeightedRouter({v: s.port for v, s in servers.items()}, initial, ROUTER_SEED)
        )
        ports = ", ".join(f"{v} on :{s.port}" for v, s in servers.items())
        log(f"serving: {ports}, router on :{router.port} (weights {initial})")
        log(f"serving: {len(rows)} requests of test rows through the router")
        split = split_summary("configured", play_traffic(router.port, rows), router.weights)
        log("serving: both variants on the same rows (TargetVariant)")
        agreed = agreement(router.port, rows, labels)
        malformed = survive_malformed_request(router.port, rows[0])
        shift = {"endpoint": endpoint, "weights": SHIFTED_WEIGHTS}
        plan = plan_shift(parse_request(shift, prefix), router.weights)
        if not plan.unchanged:
            router.set_weights(plan.after)
        log(f"serving: weights now {router.weights}; {len(rows)} more requests")
        split += split_summary("after shift", play_traffic(router.port, rows), router.weights)
    log("serving: servers stopped")
    return Rehearsal(endpoint, models, [], split, agreed, malformed, not plan.unchanged)


class ServingStep:
    """Module 7's A/B endpoint: split, latency and agreement of two variants, then a shift."""

    name = "serving"

    def __init__(
        self,
        requests: int = 400,
        config: Any = None,
        quick_tuning_jobs: int = 3,
        feature_set: str = "workshop",
    ) -> None:
        self.requests = requests
        self.config = config
        self.quick_tuning_jobs = quick_tuning_jobs
        self.feature_set = feature_set

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        started = time.perf_counter()
        config = self.config or _project_config()
        models = BankModels.in_workspace(workspace, self.feature_set)
        trained = self._ensure_models(workspace, models, log)
        test = read_test_rows(models.test, self.requests)
        endpoint = ab_endpoint_name(config)
        weights = configured_weights(config)
        result = rehearse(endpoint, config.prefix, weights, models, test, log)
        result.trained = trained
        result.seconds = time.perf_counter() - started
        summary = workspace.bucket("curated") / "serving" / "ab_rehearsal.json"
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(result.to_json())
        return _report(result, summary)

    def _ensure_models(self, workspace: Workspace, models: BankModels, log: Log) -> list[str]:
        """Train what the earlier steps did not leave behind; returns what was trained."""
        trained = []
        if not models.test.is_dir():
            prepare_bank(workspace, self.feature_set, log)
        prepared = models.test.parent
        channels = {"train": prepared / "train", "validation": prepared / "validation"}
        work = workspace.bucket("work") / "bank-marketing" / "serving"
        if not models.variant_a.exists():
            log("serving: no variant-a model in the workspace; training it (workshop settings)")
            train_and_pack("training_code.bank.train_xgboost", work / "train-xgboost",
                           WORKSHOP_XGBOOST, channels, models.variant_a.parent, log)  # fmt: skip
            trained.append("variant-a")
        if not models.variant_b.exists():
            log(f"serving: no tuned model in the workspace; a quick {self.quick_tuning_jobs}-job "
                "tuning stands in for the tuning step")  # fmt: skip
            run_program(
                "training_code.tuning.local_tuner",
                ["--train", channels["train"], "--validation", channels["validation"],
                 "--output", models.variant_b.parent.parent, "--work", work / "tuning-jobs",
                 "--job-prefix", "bank-serving", "--max-jobs", self.quick_tuning_jobs],
                log,
            )  # fmt: skip
            trained.append(f"variant-b ({self.quick_tuning_jobs} tuning jobs)")
        return trained


def _project_config() -> Any:
    from workshop_spec.config import load_project_config  # only when no config was handed in

    return load_project_config()


def _report(result: Rehearsal, summary: Path) -> StepReport:
    report = StepReport(title="Module 7: A/B endpoint, two XGBoost variants behind a router")
    report.lines += [
        f"{result.endpoint}: variant-a = {result.models.variant_a} (workshop hyperparameters), "
        f"variant-b = {result.models.variant_b} (tuned)",
        f"trained here because missing: {', '.join(result.trained)}"
        if result.trained
        else "models from the bank-marketing and tuning steps",
        result.malformed,
        "shifted to 50/50 with the traffic-shift function's validation"
        if result.shifted
        else "weights already 50/50: nothing to shift",
        f"whole step in {result.seconds:.1f} s; every server stopped",
    ]
    for row in result.split:
        report.metrics.append(
            Metric(
                f"{row['variant']} share of requests ({row['phase']})",
                row["share"],
                f"{row['weight']:.2f} ± {SPLIT_TOLERANCE:.2f}",
                abs(row["share"] - row["weight"]) <= SPLIT_TOLERANCE,
            )
        )
    for row in result.split:
        if row["phase"] == "configured":
            report.metrics.append(Metric(f"p99 latency ms {row['variant']}", row["p99 ms"]))
    report.metrics += [Metric(name, value) for name, value in result.agreement.items()]
    report.metrics.append(
        Metric(
            "serving step seconds",
            result.seconds,
            f"<= {SECONDS_TARGET:.0f}",
            result.seconds <= SECONDS_TARGET,
        )
    )
    report.tables["A/B split and latency (client side, through the router)"] = result.split
    report.artifacts.append(summary)
    return report
