"""Plain decimal CSV parsed straight from the request's bytes into a float64 matrix.

``np.loadtxt`` costs ~45 ns per value (it decodes text, splits and calls a float parser per
field); for the payloads batch transform sends (10,000 rows to 6 MB) that was ~85 % of a
request's time. Numbers as CSV writers emit them, ``-12.5`` or ``0.0001`` or ``7``, are a
sign, digits and one dot; this module reads exactly that shape with a handful of vectorised
passes over the bytes and over the fields, and answers ``None`` for anything else (exponents,
``nan``, spaces, quotes, blank lines, a bad value, a ragged row), so the caller falls back to
``np.loadtxt``, which parses the general case and explains errors. Nothing is ever guessed:
lines are either fully in the fast shape and checked to be, or not parsed here at all.

Exactness: the value of a field is ``mantissa / 10**fraction_digits`` with the mantissa built
from at most 15 digits (so below 2**53: every step of the build is an exact float64) and
``10**k`` exact for ``k <= 22``; IEEE division of two exact operands is correctly rounded, so
the result is the float64 nearest the decimal, the same double ``float()`` and ``loadtxt``
give (Clinger's fast path, "How to read floating point numbers accurately", PLDI 1990).

How the fields are read: the separators' positions give each field's start and length; then
one pass per byte column (the longest field's width, a few columns for typical data) gathers
that column's byte of every field and extends each field's mantissa (Horner's rule) where the
byte is a digit inside the field. Bodies are read in slices of whole lines of about
``SLICE_BYTES`` (:func:`line_slices`), so every intermediate array stays in the CPU's cache
whatever the body's size; the server predicts each slice as it is parsed, for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# Digits per field at most: any 15-digit integer is exact in float64 (2**53 ~ 9.007e15).
MAX_DIGITS = 15
# Longest field read here: a sign, 15 digits and a dot.
MAX_FIELD_BYTES = MAX_DIGITS + 2
# Whole lines of about this many bytes per slice: ~10,000 short rows, small enough that the
# per-field arrays of one slice stay in L2 cache.
SLICE_BYTES = 192 * 1024

_COMMA, _NEWLINE, _DOT, _MINUS, _PLUS, _ZERO = (ord(c) for c in ",\n.-+0")
_POWERS_OF_TEN = 10.0 ** np.arange(MAX_DIGITS + 1)  # exact: 10**k for k <= 22


def normalized(body: bytes) -> bytes:
    """LF line ends (CRLF becomes LF; a lone CR stays, to be refused), the last line's too."""
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n")
    return body if body.endswith(b"\n") else body + b"\n"


def line_slices(body: bytes) -> Iterator[tuple[int, memoryview]]:
    """``(offset, lines)``: a normalized body cut into whole lines of about SLICE_BYTES."""
    view = memoryview(body)
    start = 0
    while start < len(body):
        end = body.find(b"\n", start + SLICE_BYTES - 1) + 1 or len(body)
        yield start, view[start:end]
        start = end


def parse_decimal_lines(lines: bytes | memoryview, n_columns: int) -> np.ndarray | None:
    """Whole LF-ended lines as a (rows, n_columns) float64 matrix, or None if not plain decimal.

    Plain decimal: each line ``n_columns`` comma-separated fields, each ``[+-]?digits[.digits]``
    (digits on either side of the dot may be missing, not both), at most ``MAX_DIGITS`` digits.
    """
    raw = np.frombuffer(lines, np.uint8)
    is_newline = raw == _NEWLINE
    is_separator = raw == _COMMA
    is_separator |= is_newline
    separators = np.flatnonzero(is_separator)
    fields = separators.size
    rows = int(np.count_nonzero(is_newline))
    # Every line has n_columns fields: as many separators as rows x columns, and every
    # n_columns-th separator is a line end (so all the others are commas).
    if fields != rows * n_columns or not is_newline[separators[n_columns - 1 :: n_columns]].all():
        return None
    # Only digits, separators, dots and signs (counted here, placed below).
    digits = raw - np.uint8(_ZERO)
    n_digits = int(np.count_nonzero(digits < 10))
    n_dots = int(np.count_nonzero(raw == _DOT))
    n_signs = int(np.count_nonzero(raw == _MINUS)) + int(np.count_nonzero(raw == _PLUS))
    if n_digits + n_dots + n_signs + fields != raw.size:
        return None

    starts = np.empty_like(separators)
    starts[0] = 0
    np.add(separators[:-1], 1, out=starts[1:])
    lengths = separators - starts
    width = int(lengths.max())
    if width > MAX_FIELD_BYTES or int(lengths.min()) == 0:
        return None
    lengths = lengths.astype(np.uint8)

    mantissa = np.zeros(fields, np.float64)
    dots_seen = np.zeros(fields, np.uint8)
    fraction_digits = np.zeros(fields, np.uint8)
    digit_count = np.zeros(fields, np.uint8)
    # Reading past a field's end stays inside the slice: its last byte is a line end, and
    # the padding covers the widest field's overhang.
    padded = np.concatenate((raw, np.full(width, _NEWLINE, np.uint8)))
    negative = None
    for column in range(width):
        byte = padded[column:].take(starts)
        if column == 0:
            # A sign may open a field; one anywhere else makes the counts differ.
            negative = byte == _MINUS
            if int(np.count_nonzero(negative | (byte == _PLUS))) != n_signs:
                return None
        digit = byte - np.uint8(_ZERO)
        is_digit = digit < 10
        inside = lengths > column
        is_digit &= inside
        # Horner's rule where the byte is a digit of the field; dots and signs leave it as is.
        np.multiply(mantissa, 10.0, out=mantissa, where=is_digit)
        np.add(mantissa, digit, out=mantissa, where=is_digit)
        digit_count += is_digit
        fraction_digits += is_digit & (dots_seen > 0)
        dots_seen += (byte == _DOT) & inside
    if int(dots_seen.max()) > 1 or int(digit_count.min()) == 0:
        return None
    if int(digit_count.max()) > MAX_DIGITS:
        return None
    values = mantissa / _POWERS_OF_TEN.take(fraction_digits)
    np.negative(values, out=values, where=negative)
    return values.reshape(rows, n_columns)
