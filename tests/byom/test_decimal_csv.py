"""The byte-level CSV reader: the same doubles as float()/loadtxt, or no answer at all."""

from __future__ import annotations

import io

import numpy as np
import pytest
from byom.decimal_csv import (
    MAX_DIGITS,
    SLICE_BYTES,
    line_slices,
    normalized,
    parse_decimal_lines,
)
from byom.payloads import CSV, PayloadError, feature_batches, parse_features
from hypothesis import given, settings
from hypothesis import strategies as st


def _reference(text: str) -> np.ndarray:
    return np.array([[float(value) for value in line.split(",")] for line in text.splitlines()])


# Decimals as CSV writers print them: any sign, any number of digits around the dot (the
# reader's limit is 15 digits, longer ones must be refused, not misread).
DECIMAL = st.builds(
    lambda sign, whole, dot, fraction: sign + whole + (dot + fraction if dot else ""),
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", min_size=0, max_size=9),
    st.sampled_from(["", "."]),
    st.text("0123456789", min_size=0, max_size=9),
).filter(lambda text: any(c.isdigit() for c in text))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(DECIMAL, min_size=3, max_size=3), min_size=1, max_size=40))
def test_plain_decimals_read_as_float_reads_them(rows):
    text = "".join(",".join(row) + "\n" for row in rows)
    parsed = parse_decimal_lines(text.encode(), 3)
    digits = max(sum(c.isdigit() for c in value) for row in rows for value in row)
    if digits > MAX_DIGITS:
        assert parsed is None
        return
    expected = _reference(text)
    assert parsed is not None
    assert parsed.dtype == np.float64
    assert np.array_equal(parsed, expected)
    assert np.array_equal(np.signbit(parsed), np.signbit(expected))  # -0 stays -0


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), decimals=st.integers(0, 10))
def test_printed_floats_round_trip_to_the_same_doubles(seed, decimals):
    rng = np.random.default_rng(seed)
    values = rng.normal(scale=10.0 ** rng.integers(-5, 8), size=(50, 4))
    text = "".join(",".join(f"{v:.{decimals}f}" for v in row) + "\n" for row in values)
    parsed = parse_decimal_lines(text.encode(), 4)
    expected = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
    assert parsed is None or np.array_equal(parsed, expected)
    if decimals <= 6 and np.abs(values).max() < 1e8:
        assert parsed is not None  # short decimals are the shape this reader is for


@pytest.mark.parametrize(
    "lines",
    [
        b"1,2,3\n",  # too few fields
        b"1,2\n3,4,5,6\n",  # ragged, same total
        b"1,,2,3\n",  # empty field
        b"1e5,2,3,4\n",  # exponent
        b" 1,2,3,4\n",  # space
        b"1,2,3,4\n\n",  # blank line
        b"1.2.3,2,3,4\n",  # two dots
        b"1-2,2,3,4\n",  # sign inside
        b"+-1,2,3,4\n",  # two signs
        b"-,2,3,4\n",  # sign alone
        b".,1,2,3\n",  # dot alone
        b"nan,1,2,3\n",
        b"1,2,3,4\r5,6,7,8\n",  # lone CR
        b'"1",2,3,4\n',  # quoted
        b"1234567890123456,2,3,4\n",  # 16 digits: not exact in the fast path
    ],
)
def test_anything_else_is_left_to_the_general_reader(lines):
    assert parse_decimal_lines(lines, 4) is None


def test_signs_dots_and_leading_zeros_as_float_reads_them():
    parsed = parse_decimal_lines(normalized(b"+.5,5.,-0,007\r\n-1.25,2,3,4"), 4)
    assert np.array_equal(parsed, [[0.5, 5.0, -0.0, 7.0], [-1.25, 2, 3, 4]])


def test_slices_are_whole_lines_covering_the_body():
    body = normalized(b"".join(b"%d.5,%d,1,2\n" % (i, i) for i in range(60_000)))
    slices = list(line_slices(body))
    assert len(slices) > 2
    assert b"".join(bytes(lines) for _, lines in slices) == body
    assert all(bytes(lines).endswith(b"\n") for _, lines in slices)
    assert all(len(lines) <= SLICE_BYTES + 64 for _, lines in slices)


def test_a_large_body_reads_the_same_in_batches():
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(size=(40_000, 4)), 3)
    body = "".join(",".join(map(str, row)) + "\n" for row in values).encode()
    batches = list(feature_batches(body, CSV, 4))
    assert len(batches) > 1
    assert np.array_equal(np.concatenate(batches), values)


def test_an_error_in_a_later_slice_names_its_row_in_the_whole_body():
    rows = ["5.1,3.5,1.4,0.2"] * 30_000
    rows[25_000] = "5.1,abc,1.4,0.2"
    with pytest.raises(PayloadError) as raised:
        parse_features("\n".join(rows).encode(), CSV, 4)
    assert raised.value.status == 400
    assert raised.value.message == "non-numeric value 'abc' at row 25001, column 2"


def test_general_shapes_still_parse_in_a_large_body():
    # Exponents are valid CSV numbers: the general reader takes over and reads them.
    rows = ["5.1,3.5,1.4,0.2"] * 20_000 + ["5.1e0,3.5,1.4,2e-1"] * 10
    features = parse_features("\n".join(rows).encode(), CSV, 4)
    assert features.shape == (20_010, 4)
    assert np.array_equal(features[-1], [5.1, 3.5, 1.4, 0.2])
