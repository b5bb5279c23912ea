"""The single-model server over real HTTP: happy paths, every bad input, robustness."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

from .conftest import IRIS_SETOSA, IRIS_VIRGINICA

TWO_ROWS = f"{IRIS_SETOSA}\n{IRIS_VIRGINICA}\n"


def test_ping_answers_200_once_the_model_is_loaded(server):
    status, _, _ = server.request("GET", "/ping")
    assert status == 200


def test_csv_in_csv_out_by_default(server):
    status, headers, body = server.invoke(TWO_ROWS)
    assert status == 200
    assert headers["content-type"] == "text/csv"
    assert body.decode().splitlines() == ["setosa", "virginica"]


def test_json_in_json_out(server):
    payload = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]})
    status, headers, body = server.invoke(payload, "application/json", "application/json")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"predictions": ["setosa", "virginica"]}


@pytest.mark.parametrize(
    "payload",
    [
        [[5.1, 3.5, 1.4, 0.2]],
        [5.1, 3.5, 1.4, 0.2],
        {"features": [5.1, 3.5, 1.4, 0.2]},
        {"instances": [{"features": [5.1, 3.5, 1.4, 0.2]}]},
    ],
)
def test_json_shapes_accepted(server, payload):
    status, _, body = server.invoke(json.dumps(payload), "application/json")
    assert status == 200
    assert body == b"setosa\n"


@pytest.mark.parametrize(
    ("accept", "expected_type"),
    [
        (None, "text/csv"),
        ("*/*", "text/csv"),
        ("text/csv", "text/csv"),
        ("application/json", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ("text/csv;q=0.5, application/json", "application/json"),
        ("application/xml, application/json;q=0.1", "application/json"),
    ],
)
def test_accept_picks_the_answer_format(server, accept, expected_type):
    status, headers, _ = server.invoke(IRIS_SETOSA, accept=accept)
    assert status == 200
    assert headers["content-type"] == expected_type


def test_unanswerable_accept_is_406(server):
    status, _, body = server.invoke(IRIS_SETOSA, accept="application/xml")
    assert status == 406
    assert "text/csv" in json.loads(body)["error"]


def test_csv_with_charset_and_crlf_is_fine(server):
    status, _, body = server.invoke(TWO_ROWS.replace("\n", "\r\n"), "text/csv; charset=utf-8")
    assert (status, body) == (200, b"setosa\nvirginica\n")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-npy", None])
def test_wrong_content_type_is_415(server, content_type):
    status, _, body = server.invoke(IRIS_SETOSA, content_type)
    assert status == 415
    assert "Content-Type" in json.loads(body)["error"]


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        ("5.1,3.5,1.4", "text/csv", "wrong feature count: expected 4 per row, got 3"),
        ("5.1,3.5,1.4,0.2,9", "text/csv", "wrong feature count"),
        (f"{IRIS_SETOSA}\n5.1,3.5", "text/csv", "row 2 has 2 values"),
        ("5.1,3.5,abc,0.2", "text/csv", "non-numeric value 'abc' at row 1, column 3"),
        ("sepal_length,b,c,d\n5.1,3.5,1.4,0.2", "text/csv", "non-numeric value"),
        ("5.1,nan,1.4,0.2", "text/csv", "NaN or infinity"),
        ("5.1,inf,1.4,0.2", "text/csv", "NaN or infinity"),
        ("", "text/csv", "empty body"),
        ("  \n \n", "text/csv", "empty body"),
        (b"\xff\xfe5", "text/csv", "not UTF-8"),
        ("", "application/json", "empty body"),
        ("{not json", "application/json", "malformed JSON"),
        ('[["5.1", 3.5, 1.4, 0.2]]', "application/json", "non-numeric"),
        ("[[true, 3.5, 1.4, 0.2]]", "application/json", "non-numeric"),
        ("[[null, 3.5, 1.4, 0.2]]", "application/json", "non-numeric"),
        ("[[1, 2, 3, 4], [1, 2]]", "application/json", "ragged"),
        ("[[1, 2, 3]]", "application/json", "wrong feature count"),
        ('{"rows": [[1, 2, 3, 4]]}', "application/json", "'instances' or 'features'"),
        ("[]", "application/json", "non-empty"),
        ("[[NaN, 1, 2, 3]]", "application/json", "NaN or infinity"),
    ],
)
def test_bad_input_is_400_saying_what_was_wrong(server, body, content_type, says):
    status, _, answer = server.invoke(body, content_type)
    assert status == 400
    assert says in json.loads(answer)["error"]


def test_body_over_6_mb_is_413(server):
    row = (IRIS_SETOSA + "\n").encode()
    body = row * (6 * 1024 * 1024 // len(row) + 1)
    status, _, answer = server.invoke(body)
    assert status == 413
    assert "limit" in json.loads(answer)["error"]


def test_chunked_body_over_6_mb_is_413(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunk = (IRIS_SETOSA + "\n").encode() * 4096
    chunks = iter([chunk] * (6 * 1024 * 1024 // len(chunk) + 2))
    connection.request(
        "POST", "/invocations", body=chunks, headers={"Content-Type": "text/csv"},
        encode_chunked=True,
    )  # fmt: skip
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_body_just_under_the_limit_is_served(server):
    row = (IRIS_SETOSA + "\n").encode()
    body = row * ((6 * 1024 * 1024 - 1) // len(row))
    status, _, answer = server.invoke(body)
    assert status == 200
    assert answer.count(b"\n") == body.count(b"\n")


def test_unknown_route_and_wrong_method(server):
    assert server.request("GET", "/nope")[0] == 404
    assert server.request("GET", "/invocations")[0] == 405


def test_execution_parameters_for_batch_transform(server):
    status, _, body = server.request("GET", "/execution-parameters")
    assert status == 200
    assert json.loads(body)["MaxPayloadInMB"] == 6


def test_failing_requests_do_not_take_a_worker_down(server):
    workers_before = server.worker_pids()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for body, content_type in [("x", "text/csv"), ("[", "application/json"), ("1", "bad/type")]:
        connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": content_type}
        )
        response = connection.getresponse()
        response.read()
        assert 400 <= response.status < 500
    # Same keep-alive connection, so the same worker that just refused three requests:
    connection.request(
        "POST", "/invocations", body=IRIS_SETOSA, headers={"Content-Type": "text/csv"}
    )
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"setosa\n")
    connection.close()
    assert server.worker_pids() == workers_before


def test_ping_keeps_answering_while_big_payloads_keep_every_worker_busy(server):
    """/ping is never queued behind inference: health checks go on answering 200 while four
    clients keep the workers busy with 20,000-row payloads. How fast (SageMaker's 2 s deadline)
    is a performance goal, measured by `bench/byom_server.py --soak`, not timed here."""
    big = ((IRIS_SETOSA + "\n") * 20_000).encode()
    stop = threading.Event()
    invocations: list[int] = []

    def hammer() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while not stop.is_set():
            connection.request(
                "POST", "/invocations", body=big, headers={"Content-Type": "text/csv"}
            )
            response = connection.getresponse()
            response.read()  # keep-alive: the next request reuses the connection
            invocations.append(response.status)
        connection.close()

    loaders = [threading.Thread(target=hammer) for _ in range(4)]
    for loader in loaders:
        loader.start()
    try:
        while not invocations:  # the load is on before the first probe
            time.sleep(0.05)
        pings = [server.request("GET", "/ping", timeout=60)[0] for _ in range(10)]
    finally:
        stop.set()
        for loader in loaders:
            loader.join()
    assert pings == [200] * 10
    assert set(invocations) == {200}


def test_logs_are_one_json_object_per_line_with_latency(server):
    server.invoke(IRIS_SETOSA)
    time.sleep(0.2)
    records = [json.loads(line) for line in server.log_lines()]
    requests = [r for r in records if r.get("message") == "request"]
    assert requests, "no request was logged"
    assert all(isinstance(r["latency_ms"], float) and r["status"] for r in requests)
    assert any(r.get("message") == "model loaded" for r in records)
