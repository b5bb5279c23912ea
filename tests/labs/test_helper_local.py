"""The helper's local side: S3 as workspace folders, the local endpoint's variant routing, and
the Comprehend stand-in, called directly (the notebooks exercise the rest end to end)."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest
import workshop


@pytest.fixture
def local(monkeypatch, lab_workspace):
    """The helper in local mode over the session's lab workspace."""
    monkeypatch.setenv("WORKSHOP_TARGET", "local")
    monkeypatch.setenv("WORKSHOP_LOCAL_ROOT", str(lab_workspace))
    monkeypatch.setenv("WORKSHOP_REVIEWS_SCALE", "0.2")
    workshop.environment.cache_clear()
    local_module = workshop._local()
    local_module.workspace.cache_clear()
    monkeypatch.setattr(local_module, "REVIEWS_SCALE", 0.2)
    yield local_module
    workshop.cleanup()
    workshop.environment.cache_clear()
    local_module.workspace.cache_clear()


def test_s3_uris_are_workspace_folders_and_listing_follows_s3_prefix_rules(local, lab_workspace):
    frame = pd.DataFrame({"a": [1, 2]})
    workshop.write_csv(frame, workshop.s3_uri("listing/part-1.csv"))
    workshop.write_csv(frame, workshop.s3_uri("listing/part-2.csv"))
    workshop.write_csv(frame, workshop.s3_uri("listing-other/x.csv"))

    assert local.path(workshop.s3_uri("listing/part-1.csv")) == (
        lab_workspace / "curated" / "attendees" / "local" / "listing" / "part-1.csv"
    )
    assert workshop.list_objects(workshop.s3_uri("listing/")) == [
        workshop.s3_uri("listing/part-1.csv"),
        workshop.s3_uri("listing/part-2.csv"),
    ]
    assert len(workshop.list_objects(workshop.s3_uri("listing"))) == 3  # a key prefix, as S3
    assert workshop.read_csv(workshop.raw_uri("bike-sharing/hour.csv")).shape == (17_379, 17)


def test_final_metrics_use_sagemakers_names_from_the_last_round():
    from workshop_local import _final_metrics

    lines = ["[0]#011train-auc:0.70000#011validation-auc:0.69000", "noise",
             "[9]#011train-auc:0.81234#011validation-auc:0.77777"]  # fmt: skip

    assert _final_metrics(lines) == {"train:auc": 0.81234, "validation:auc": 0.77777}
    assert _final_metrics(["no rounds"]) == {}


def _closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_local_endpoint_routes_pins_shifts_and_stops(local):
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    rows.insert(0, "y", (rows["a"] + rows["b"] > 0).astype(int))
    workshop.write_csv(rows, workshop.s3_uri("routing/train/train.csv"))
    job = workshop.train_bank_xgboost(
        workshop.s3_uri("routing/train/"), workshop.s3_uri("routing/train/"),
        {"num_round": 5, "eval_metric": "auc"}, instance_count=1,
    )  # fmt: skip
    endpoint = workshop.deploy(
        {"variant-a": job.model_data, "variant-b": job.model_data}, kind="xgboost",
        suffix="routing", weights={"variant-a": 1.0, "variant-b": 0.0},
    )  # fmt: skip
    body = rows.drop(columns=["y"]).head(3).to_csv(index=False, header=False)

    assert {workshop.invoke(endpoint, body).variant for _ in range(20)} == {"variant-a"}
    pinned = workshop.invoke(endpoint, body, target_variant="variant-b")
    assert pinned.variant == "variant-b" and len(pinned.body.split()) == 3
    assert workshop.set_weights(endpoint, {"variant-a": 0.0, "variant-b": 1.0}) == {
        "variant-a": 0.0, "variant-b": 1.0
    }  # fmt: skip
    assert workshop.invoke(endpoint, body).variant == "variant-b"
    assert job.metrics["validation:auc"] > 0.9
    with pytest.raises(ValueError, match="no variant"):
        workshop.enable_autoscaling(endpoint, "variant-c")
    with pytest.raises(ValueError, match="min_instances"):
        workshop.enable_autoscaling(endpoint, "variant-a", min_instances=3, max_instances=2)

    local_endpoint = local.ENDPOINTS[endpoint]
    ports = [local_endpoint.router.port, *(s.port for s in local_endpoint.servers.values())]
    assert workshop.cleanup() == [f"endpoint {endpoint}"]
    assert all(_closed(port) for port in ports)
    assert endpoint not in local.ENDPOINTS


def test_sentiment_stand_in_says_what_it_is_and_leaves_empty_texts_unscored(local):
    texts = ["I love this dress, it fits perfectly and the color is gorgeous.",
             "", "Terrible quality, it ripped the first time I wore it. Returned."]  # fmt: skip

    frame = workshop.comprehend_sentiment(texts)

    assert frame.attrs["model"].startswith("local stand-in for Comprehend")
    assert list(frame["sentiment"].fillna("-")) == ["POSITIVE", "-", "NEGATIVE"]
    assert frame.loc[1, "error"].startswith("empty text")
    scores = frame.loc[[0, 2], ["positive", "negative", "neutral"]].sum(axis=1)
    assert np.allclose(scores, 1.0) and frame["mixed"].isna().all()
