"""SageMaker's multi-model API: load, list, describe, invoke, unload, 409/404/507, LRU."""

from __future__ import annotations

import json

import pytest

from .conftest import IRIS_SETOSA

MULTI = {"SAGEMAKER_MULTI_MODEL": "true"}


def load(server, name, url):
    body = json.dumps({"model_name": name, "url": str(url)})
    return server.request("POST", "/models", body, {"Content-Type": "application/json"})


def invoke(server, name, body=IRIS_SETOSA):
    return server.request("POST", f"/models/{name}/invoke", body, {"Content-Type": "text/csv"})


@pytest.fixture
def model_url(trained_root):
    return trained_root / "model"


def test_load_list_describe_invoke_unload(start_server, trained_root, model_url):
    server = start_server(trained_root, env={**MULTI, "MULTI_MODEL_MAX_MODELS": "4"})
    assert server.request("GET", "/ping")[0] == 200
    assert load(server, "iris-a", model_url)[0] == 200
    assert load(server, "iris/b.tar.gz", model_url)[0] == 200  # opaque names, slashes too
    status, _, body = server.request("GET", "/models")
    assert status == 200
    assert json.loads(body) == {
        "models": [
            {"modelName": "iris-a", "modelUrl": str(model_url)},
            {"modelName": "iris/b.tar.gz", "modelUrl": str(model_url)},
        ]
    }
    status, _, body = server.request("GET", "/models/iris-a")
    assert (status, json.loads(body)) == (200, {"modelName": "iris-a", "modelUrl": str(model_url)})
    # Several requests, so both workers answer: the table is shared between them.
    for _ in range(10):
        assert invoke(server, "iris-a") == (200, invoke(server, "iris-a")[1], b"setosa\n")
        assert invoke(server, "iris/b.tar.gz")[2] == b"setosa\n"
    assert server.request("DELETE", "/models/iris-a")[0] == 200
    assert server.request("GET", "/models/iris-a")[0] == 404


def test_409_when_already_loaded_and_404_when_not(start_server, trained_root, model_url):
    server = start_server(trained_root, env=MULTI)
    assert load(server, "m", model_url)[0] == 200
    status, _, body = load(server, "m", model_url)
    assert status == 409
    assert "already loaded" in json.loads(body)["error"]
    assert server.request("GET", "/models/ghost")[0] == 404
    assert server.request("DELETE", "/models/ghost")[0] == 404
    assert invoke(server, "ghost")[0] == 404


def test_invoke_validates_input_like_single_model_mode(start_server, trained_root, model_url):
    server = start_server(trained_root, env=MULTI)
    load(server, "m", model_url)
    assert invoke(server, "m", "5.1,3.5")[0] == 400
    status = server.request("POST", "/models/m/invoke", IRIS_SETOSA, {"Content-Type": "x/y"})[0]
    assert status == 415


def test_bad_load_requests_are_400(start_server, trained_root, tmp_path):
    server = start_server(trained_root, env=MULTI, workers=1)
    headers = {"Content-Type": "application/json"}
    assert server.request("POST", "/models", "{", headers)[0] == 400
    assert server.request("POST", "/models", '{"url": "/x"}', headers)[0] == 400
    status, _, body = load(server, "m", tmp_path / "no-such-model")
    assert status == 400
    assert "manifest.json" in json.loads(body)["error"]


def test_least_recently_used_model_is_evicted_at_the_bound(start_server, trained_root, model_url):
    server = start_server(trained_root, env={**MULTI, "MULTI_MODEL_MAX_MODELS": "2"})
    assert load(server, "first", model_url)[0] == 200
    assert load(server, "second", model_url)[0] == 200
    assert invoke(server, "first")[0] == 200  # now "second" is the least recently used
    status, _, body = load(server, "third", model_url)
    assert status == 200
    assert json.loads(body)["evicted"] == ["second"]
    names = [m["modelName"] for m in json.loads(server.request("GET", "/models")[2])["models"]]
    assert names == ["first", "third"]
    assert invoke(server, "second")[0] == 404
    assert invoke(server, "first")[0] == 200


def test_507_at_capacity_when_eviction_is_off(start_server, trained_root, model_url):
    env = {**MULTI, "MULTI_MODEL_MAX_MODELS": "1", "MULTI_MODEL_EVICTION": "off"}
    server = start_server(trained_root, env=env)
    assert load(server, "one", model_url)[0] == 200
    status, _, body = load(server, "two", model_url)
    assert status == 507
    assert "limit 1" in json.loads(body)["error"]
    assert server.request("DELETE", "/models/one")[0] == 200
    assert load(server, "two", model_url)[0] == 200


def test_507_when_a_model_exceeds_the_memory_budget(start_server, trained_root, model_url):
    server = start_server(trained_root, env={**MULTI, "MULTI_MODEL_MEMORY_BUDGET_MB": "0.0001"})
    status, _, body = load(server, "big", model_url)
    assert status == 507
    assert "memory budget" in json.loads(body)["error"]
    assert server.request("GET", "/models/big")[0] == 404


def test_pagination_of_the_model_list(start_server, trained_root, model_url):
    server = start_server(trained_root, env={**MULTI, "MULTI_MODEL_MAX_MODELS": "200"}, workers=1)
    for index in range(105):
        assert load(server, f"m{index:03d}", model_url)[0] == 200
    first = json.loads(server.request("GET", "/models")[2])
    assert len(first["models"]) == 100
    second = json.loads(
        server.request("GET", f"/models?next_page_token={first['nextPageToken']}")[2]
    )
    assert len(second["models"]) == 5
    assert "nextPageToken" not in second
