"""Property: whatever arrives at /invocations, the answer is 2xx or 4xx and the server lives."""

from __future__ import annotations

import http.client

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CONTENT_TYPES = st.one_of(
    st.sampled_from(["text/csv", "application/json", "text/csv; charset=utf-8", "", "*/*"]),
    st.text(min_size=0, max_size=30).filter(lambda s: s.isprintable() and s.isascii()),
)
ACCEPTS = st.one_of(
    st.none(),
    st.sampled_from(["text/csv", "application/json", "*/*", "text/csv;q=0", "a/b, */*;q=0.1"]),
    st.text(max_size=30).filter(lambda s: s.isprintable() and s.isascii()),
)
NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers()).map(str)
CSV_BODIES = st.lists(st.lists(NUMBER, min_size=0, max_size=6), max_size=5).map(
    lambda rows: "\n".join(",".join(row) for row in rows).encode()
)
JSON_BODIES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=9), children, max_size=3)
    ),
    max_leaves=20,
).map(lambda value: __import__("json").dumps(value).encode())
BODIES = st.one_of(st.binary(max_size=300), CSV_BODIES, JSON_BODIES)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES, content_type=CONTENT_TYPES, accept=ACCEPTS)
def test_random_requests_get_2xx_or_4xx(server, body, content_type, accept):
    headers = {"Content-Type": content_type}
    if accept is not None:
        headers["Accept"] = accept
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/invocations", body=body, headers=headers)
        status = connection.getresponse().status
    finally:
        connection.close()
    assert 200 <= status < 300 or 400 <= status < 500, (status, body, headers)


def test_server_is_alive_after_the_fuzzing(server):
    assert server.request("GET", "/ping")[0] == 200
    assert server.process.poll() is None
    assert server.invoke("5.1,3.5,1.4,0.2")[0] == 200
