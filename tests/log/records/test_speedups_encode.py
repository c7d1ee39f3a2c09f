"""The compiled record encoder (``_speedups.encode_records``) against the Python one.

``_encode_records_py`` in ``_batch.py`` is the reference: for random records
(null and empty keys and values, values past 2 MiB, many headers, timestamp
and offset deltas of any size, past 64 bits included) the compiled encoder
must return the same bytes, and for fields of the wrong type raise the same
exception class with the same message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidal.log.records import (
    CorruptRecordError,
    Header,
    InvalidRecordError,
    Record,
    SimpleRecord,
    _batch,
    decode_batch,
    encode_batch,
    encode_batch_columns,
)

try:
    from tidal.log.records import _speedups
except ImportError as exc:
    _speedups: Any = None
    IMPORT_ERROR = str(exc)
else:
    IMPORT_ERROR = ""
    # A no-op when _batch configured it; needed when TIDAL_NO_SPEEDUPS kept
    # _batch from importing it.
    _speedups.configure(CorruptRecordError, InvalidRecordError, Record, Header)

pytestmark = pytest.mark.skipif(
    _speedups is None,
    reason=f"the C accelerator tidal.log.records._speedups is not built ({IMPORT_ERROR}); "
    "`pip install -e .` with a C compiler and the Python headers builds it",
)

MIB = 1024 * 1024

Columns = tuple[Any, Any, Any, Any, Any, Any]


def outcome(function: Callable[..., bytes], columns: Columns) -> tuple[Any, ...]:
    """The bytes returned, or the exception class and message raised."""
    try:
        return ("returned", function(*columns))
    except Exception as exc:  # noqa: BLE001 - the point is to compare any error
        return ("raised", type(exc), str(exc))


def assert_same(columns: Columns) -> tuple[Any, ...]:
    expected = outcome(_batch._encode_records_py, columns)
    assert outcome(_speedups.encode_records, columns) == expected
    return expected


# --------------------------------------------------------------- strategies

optional_bytes = st.none() | st.binary(max_size=60)
header_keys = st.text(max_size=8)  # any code point but surrogates: UTF-8 of 1 to 4 bytes
headers = st.lists(st.builds(Header, header_keys, optional_bytes), max_size=4).map(tuple)
# deltas of every varint width, and past 64 bits where write_varint wraps
wide_ints = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, -1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64, 2**64 - 1])
)


@st.composite
def columns(draw: st.DrawFn) -> Columns:
    count = draw(st.integers(min_value=0, max_value=20))
    keys = draw(st.lists(optional_bytes, min_size=count, max_size=count))
    values = draw(st.lists(optional_bytes, min_size=count, max_size=count))
    timestamps = draw(st.lists(wide_ints, min_size=count, max_size=count))
    header_column = draw(st.none() | st.lists(headers, min_size=count, max_size=count))
    base_timestamp = draw(wide_ints)
    deltas = draw(st.none() | st.lists(wide_ints, min_size=count, max_size=count))
    return (keys, values, timestamps, header_column, base_timestamp, deltas)


# -------------------------------------------------------------------- tests


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns())
def test_random_records_encode_to_the_same_bytes(cols: Columns) -> None:
    result = assert_same(cols)
    assert result[0] == "returned"


@settings(max_examples=200, deadline=None)
@given(columns())
def test_tuples_and_other_sequences_are_taken_as_lists(cols: Columns) -> None:
    keys, values, timestamps, header_column, base, deltas = cols
    as_tuples = (tuple(keys), tuple(values), tuple(timestamps), header_column, base, deltas)
    expected = assert_same(cols)
    assert outcome(_speedups.encode_records, as_tuples) == expected
    as_iterators = (iter(keys), iter(values), iter(timestamps), header_column, base, deltas)
    assert outcome(_speedups.encode_records, as_iterators) == expected


def test_large_values() -> None:
    big = bytes(range(256)) * (9 * 1024)  # 2.25 MiB
    assert len(big) > 2 * MIB
    cols: Columns = (
        [None, b"k" * 70_000, b""],
        [big, b"", big[:300_000]],
        [1, 2, 3],
        [(Header("h", big[:5000]),), (), ()],
        1,
        None,
    )
    result = assert_same(cols)
    assert result[0] == "returned"
    assert len(result[1]) > len(big) + 300_000


def test_many_headers() -> None:
    many = tuple(
        Header(f"header-{i}-\u00e9\u4e2d\U0001f600", bytes([i % 256]) * i) for i in range(300)
    )
    assert_same(([b"k", None], [b"v", None], [0, 0], [many, many[:7]], 0, None))


def test_buffer_values_and_header_sequences() -> None:
    # built afresh for each encoder: an iterator of headers is used up
    def fresh() -> Columns:
        return (
            [bytearray(b"key"), memoryview(b"abc")[1:], None],
            [memoryview(bytearray(b"value")), bytearray(), b"v"],
            [True, 5, -7],
            [[Header("a", b"1")], iter([Header("b", bytearray(b"2"))]), (h for h in ())],
            False,
            None,
        )

    expected = outcome(_batch._encode_records_py, fresh())
    assert expected[0] == "returned"
    assert outcome(_speedups.encode_records, fresh()) == expected


class StrKey(str):
    pass


class Weird:
    def encode(self, encoding: str) -> bytes:
        return f"weird-{encoding}".encode()


BAD_COLUMNS: list[Columns] = [
    ([b"k"], [b"v"], [1], [(Header(b"bytes", None),)], 0, None),  # type: ignore[arg-type]
    ([b"k"], [b"v"], [1], [(Header(7, None),)], 0, None),  # type: ignore[arg-type]
    ([b"k"], [b"v"], [1], [(Header(None, None),)], 0, None),  # type: ignore[arg-type]
    ([b"k"], [b"v"], [1], [(("a", b"b"),)], 0, None),
    ([b"k"], [b"v"], [1], [(Header("\ud800", None),)], 0, None),
    ([b"k"], [b"v"], [1], [(Header("a", "text"),)], 0, None),  # type: ignore[arg-type]
    ([b"k"], [b"v"], [1], [(Header("a", 5),)], 0, None),  # type: ignore[arg-type]
    ([b"k"], [b"v"], [1], [5], 0, None),
    ([b"k"], [b"v"], [1], [None], 0, None),
    ([5], [b"v"], [1], None, 0, None),
    (["text"], [b"v"], [1], None, 0, None),
    ([b"k"], [object()], [1], None, 0, None),
    ([b"k"], [b"v"], [1.5], None, 0, None),
    ([b"k"], [b"v"], [None], None, 0, None),
    ([b"k"], [b"v"], [1], None, 0.5, None),
    ([b"k"], [b"v"], [1], None, None, None),
    ([b"k"], [b"v"], [1], None, 0, [1.0]),
    ([b"k"], [b"v"], [1], None, 0, ["1"]),
    ([b"k"], [b"v", b"w"], [1], None, 0, None),
    ([b"k"], [b"v"], [1, 2], None, 0, None),
    ([b"k"], [b"v"], [1], [(), ()], 0, None),
    ([b"k"], [b"v"], [1], None, 0, [0, 1]),
    (5, [b"v"], [1], None, 0, None),
    ([b"k"], None, [1], None, 0, None),
    ([b"k"], [b"v"], [1], 3, 0, None),
    # a bad field after good records: nothing half-written escapes
    ([b"a", b"b", 3], [b"v"] * 3, [1, 2, 3], None, 0, None),
]


@pytest.mark.parametrize("cols", BAD_COLUMNS, ids=range(len(BAD_COLUMNS)))
def test_errors_are_the_same(cols: Columns) -> None:
    result = assert_same(cols)
    assert result[0] == "raised"


def test_str_subclass_and_objects_with_encode_as_header_keys() -> None:
    cols: Columns = (
        [b"k", b"k"],
        [b"v", b"v"],
        [1, 1],
        [(Header(StrKey("sub\u00e9"), b"x"),), (Header(Weird(), None),)],  # type: ignore[arg-type]
        0,
        None,
    )
    result = assert_same(cols)
    assert result[0] == "returned"
    assert b"weird-utf-8" in result[1]


@pytest.mark.parametrize("compiled", [True, False])
def test_encode_batch_columns_round_trips(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if compiled and not _batch.SPEEDUPS:
        pytest.skip("_batch does not use tidal.log.records._speedups (TIDAL_NO_SPEEDUPS)")
    monkeypatch.setattr(_batch, "_use_speedups", compiled)
    hdrs = (Header("trace", b"1"), Header("empty", None))
    raw = encode_batch_columns(
        [b"k", None, b""], [b"v", None, b"x" * 1000], [10, 5, 20], [(), hdrs, ()], base_offset=40
    )
    records = decode_batch(raw).records
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in records] == [
        (40, 10, b"k", b"v", ()),
        (41, 5, None, None, hdrs),
        (42, 20, b"", b"x" * 1000, ()),
    ]
    assert decode_batch(raw).header.max_timestamp == 20
    simple = [
        SimpleRecord(r.value, r.key, r.timestamp, r.headers)
        for r in records  # same records, as SimpleRecord
    ]
    assert encode_batch(simple, base_offset=40) == raw
    assert encode_batch_columns([b"k"], [b"v"], [1]) == encode_batch_columns(
        [b"k"], [b"v"], [1], [()]
    )
    with pytest.raises(ValueError, match="at least one record"):
        encode_batch_columns([], [], [])


def _as_records(seq: Sequence[Record]) -> list[tuple[Any, ...]]:
    return [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in seq]


@settings(max_examples=100, deadline=None)
@given(columns())
def test_compiled_encoding_decodes_to_the_records(cols: Columns) -> None:
    keys, values, timestamps, header_column, _base, _deltas = cols
    if not keys or any(not -(2**40) <= t <= 2**40 for t in timestamps):
        return
    raw = encode_batch_columns(keys, values, timestamps, header_column, base_offset=3)
    expected = [
        (
            3 + i,
            timestamps[i],
            keys[i],
            values[i],
            () if header_column is None else header_column[i],
        )
        for i in range(len(keys))
    ]
    assert _as_records(decode_batch(raw).records) == expected


def test_no_reference_is_kept_or_lost() -> None:
    key, value, hvalue = b"key-" + bytes(8), bytearray(b"value"), b"header-value" + bytes(4)
    header = Header("h-" + "x" * 8, hvalue)
    headers = (header,)
    wide = 2**80 + 12345  # through the Python-operator path
    good: Columns = ([key, None], [value, value], [wide, 7], [headers, ()], 3, [wide, 1])
    bad: Columns = ([key, key], [value, value], [wide, 1.5], [headers, ()], 3, None)
    watched = [key, value, hvalue, header, headers, wide]
    before = [sys.getrefcount(o) for o in watched]
    for _ in range(200):
        _speedups.encode_records(*good)
        with pytest.raises(TypeError):
            _speedups.encode_records(*bad)
    assert [sys.getrefcount(o) for o in watched] == before
