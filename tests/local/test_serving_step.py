"""The local A/B rehearsal over real HTTP: model servers, the weighted router, and the step.

One workspace for the module: the step finds no models there, trains both quickly through the
training programs (~5 s on an idle machine), then every test reuses them.
"""

from __future__ import annotations

import http.client
import re
import socket
from types import SimpleNamespace

import numpy as np
import pytest
import xgboost as xgb

from lambdas.traffic_shift.weights import InvalidShiftRequest
from workshopctl.local.ab_router import (
    INVOKED_VARIANT_HEADER,
    TARGET_VARIANT_HEADER,
    WeightedRouter,
)
from workshopctl.local.serving_step import (
    DEFAULT_WEIGHTS,
    BankModels,
    ServingStep,
    configured_weights,
    post,
    read_test_rows,
)
from workshopctl.local.workspace import Workspace
from workshopctl.local.xgboost_server import MAX_PAYLOAD_BYTES, XGBoostServer

CONFIG = SimpleNamespace(prefix="mlws")  # a workshop config without serving settings


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    """The step as `make up` runs it: the project's own config (cdk.json), an empty workspace."""
    workspace = Workspace(tmp_path_factory.mktemp("local"))
    lines: list[str] = []
    report = ServingStep(quick_tuning_jobs=2).run(workspace, lines.append)
    return SimpleNamespace(
        workspace=workspace, report=report, log=lines, models=BankModels.in_workspace(workspace)
    )


@pytest.fixture(scope="module")
def rows(rehearsal):
    return read_test_rows(rehearsal.models.test, 20)[0]


def test_the_split_follows_the_weights_before_and_after_the_shift(rehearsal):
    split = rehearsal.report.tables["A/B split and latency (client side, through the router)"]
    by_phase = {(row["phase"], row["variant"]): row for row in split}
    assert {k: r["weight"] for k, r in by_phase.items()} == {
        ("configured", "variant-a"): 0.9,
        ("configured", "variant-b"): 0.1,
        ("after shift", "variant-a"): 0.5,
        ("after shift", "variant-b"): 0.5,
    }
    for row in split:
        assert abs(row["share"] - row["weight"]) <= 0.05, row
        assert row["p50 ms"] <= row["p99 ms"]
    assert sum(r["requests"] for r in split if r["phase"] == "configured") == 400
    share_metrics = [m for m in rehearsal.report.metrics if "share of requests" in m.name]
    assert len(share_metrics) == 4 and all(m.met for m in share_metrics)


def test_the_two_variants_are_compared_on_the_same_rows(rehearsal):
    metrics = {m.name: m.value for m in rehearsal.report.metrics}
    assert 0.9 <= metrics["label agreement"] <= 1.0  # two XGBoost fits of the same data
    assert 0 < metrics["mean abs probability difference"] < 0.1
    for variant in ("variant-a", "variant-b"):
        assert metrics[f"ROC AUC {variant} (400 test rows)"] > 0.7  # real predictions, not noise


def test_the_step_trains_missing_models_and_stays_within_its_time_budget(rehearsal):
    models = rehearsal.models
    assert models.variant_a.exists() and models.variant_b.exists()
    assert any(
        "trained here because missing: variant-a, variant-b (2 tuning jobs)" in line
        for line in rehearsal.report.lines
    )
    seconds = next(m for m in rehearsal.report.metrics if m.name == "serving step seconds")
    assert seconds.met


def test_every_server_is_stopped_at_the_end(rehearsal):
    [started] = [line for line in rehearsal.log if "router on" in line]
    ports = [int(port) for port in re.findall(r":(\d+)", started)]
    assert len(ports) == 3
    for port in ports:
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass


def test_a_second_run_reuses_the_models(rehearsal):
    before = rehearsal.models.variant_b.stat().st_mtime_ns
    report = ServingStep(requests=40, config=CONFIG).run(rehearsal.workspace, lambda _: None)
    assert "models from the bank-marketing and tuning steps" in report.lines
    assert rehearsal.models.variant_b.stat().st_mtime_ns == before


def test_the_model_server_answers_what_the_booster_predicts(rehearsal, rows):
    with XGBoostServer(rehearsal.models.variant_a) as server:
        answer = post(server.port, "\n".join(rows).encode())
    assert answer["status"] == 200
    served = np.array([float(line) for line in answer["body"].decode().splitlines()])
    features = np.array([[float(v) for v in row.split(",")] for row in rows], dtype=np.float32)
    expected = server.booster.predict(xgb.DMatrix(features))
    assert served.shape == (len(rows),)
    np.testing.assert_allclose(served, expected, atol=1e-7)
    assert ((served >= 0) & (served <= 1)).all()


def _raw_post(port: int, body: bytes, content_type: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": content_type}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"not-a-number" + b",0" * 58, "text/csv", 400),
        (b"1,2,3", "text/csv", 400),  # too few features
        (b"", "text/csv", 400),
        (b"\xff\xfe\x00", "text/csv", 400),
        (b'{"instances": [[1, 2]]}', "application/json", 415),
        (b"0," * (MAX_PAYLOAD_BYTES // 2 + 1), "text/csv", 413),
    ],
)
def test_a_malformed_request_gets_a_4xx_and_the_next_one_is_served(
    rehearsal, rows, body, content_type, status
):
    with XGBoostServer(rehearsal.models.variant_b) as server:
        assert _raw_post(server.port, body, content_type) == status
        after = post(server.port, rows[0].encode())
    assert after["status"] == 200
    assert 0 <= float(after["body"]) <= 1


def test_the_router_names_the_variant_and_honours_target_variant(rehearsal, rows):
    with (
        XGBoostServer(rehearsal.models.variant_a) as a,
        XGBoostServer(rehearsal.models.variant_b) as b,
        WeightedRouter(
            {"variant-a": a.port, "variant-b": b.port}, {"variant-a": 1, "variant-b": 0}, seed=1
        ) as router,
    ):
        routed = {post(router.port, row.encode())["variant"] for row in rows}
        targeted = post(router.port, rows[0].encode(), {TARGET_VARIANT_HEADER: "variant-b"})
        direct = post(b.port, rows[0].encode())
        unknown = post(router.port, rows[0].encode(), {TARGET_VARIANT_HEADER: "variant-z"})
        malformed = post(router.port, b"x,y")
        still_served = post(router.port, rows[0].encode())
    assert routed == {"variant-a"}  # weight 0 gets no traffic
    assert targeted["variant"] == "variant-b" and targeted["body"] == direct["body"]
    assert unknown["status"] == 400 and unknown["variant"] is None
    assert malformed["status"] == 400 and malformed["variant"] == "variant-a"
    assert still_served["status"] == 200
    assert INVOKED_VARIANT_HEADER == "X-Amzn-Invoked-Production-Variant"


def test_configured_weights_follow_the_champion_weight_like_the_stack():
    serving = SimpleNamespace(champion_weight=0.7)
    assert configured_weights(SimpleNamespace(prefix="mlws", serving=serving)) == {
        "variant-a": 0.7,
        "variant-b": 0.3,
    }
    assert configured_weights(CONFIG) == DEFAULT_WEIGHTS


def test_bad_configured_weights_are_refused_by_the_traffic_shift_rules(rehearsal):
    config = SimpleNamespace(prefix="mlws", serving=SimpleNamespace(champion_weight=1.5))
    with pytest.raises(InvalidShiftRequest) as refused:
        ServingStep(requests=10, config=config).run(rehearsal.workspace, lambda _: None)
    assert refused.value.field == "weights.variant-b"  # 1 - 1.5 < 0


def test_the_router_refuses_weights_that_leave_nowhere_to_route():
    router = WeightedRouter({"variant-a": 1, "variant-b": 2}, DEFAULT_WEIGHTS, seed=1)
    try:
        for bad in (
            {"variant-a": 0, "variant-b": 0},
            {"variant-a": -1, "variant-b": 2},
            {"variant-a": 1},
        ):
            with pytest.raises(ValueError):
                router.set_weights(bad)
        assert router.weights == DEFAULT_WEIGHTS
    finally:
        router.stop()
