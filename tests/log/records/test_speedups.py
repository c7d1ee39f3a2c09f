"""The compiled record walker and decoder (``_speedups.c``) against the Python ones.

``_walk_records_py`` and ``_decode_records_py`` in ``_batch.py`` are the
reference: on valid batches (every codec, keys, headers, offset gaps) and on
mutated, truncated and random records sections, the compiled functions must
return the same records or raise the same exception class with the same
message. Every walk runs twice, with and without the compacted topic's rule
that refuses null keys. The producer's murmur2 key hash is held to
``_partitioner._murmur2_py`` and Kafka's known vectors the same way.
"""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidal.log.client.producer import _partitioner as producer_partitioner
from tidal.log.client.producer._partitioner import _murmur2_py
from tidal.log.records import (
    BatchHeader,
    Compression,
    CorruptRecordError,
    Header,
    InvalidRecordError,
    Record,
    RecordsError,
    _batch,
    crc32c,
    decode_batch,
    decode_batch_into,
    encode_batch_from,
    read_batch_header,
    validate_batch,
    write_varint,
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

needs_speedups = pytest.mark.skipif(
    _speedups is None,
    reason=f"the C accelerator tidal.log.records._speedups is not built ({IMPORT_ERROR}); "
    "`pip install -e .` with a C compiler and the Python headers builds it",
)

# The tests that go through _batch's dispatch need _batch to use the module.
dispatches_to_speedups = pytest.mark.skipif(
    not _batch.SPEEDUPS,
    reason="_batch does not use tidal.log.records._speedups (not built, or TIDAL_NO_SPEEDUPS)",
)

INT64_MAX = 2**63 - 1
LOG_APPEND = 0x08


def _header(
    count: int,
    last_offset_delta: int,
    *,
    base_offset: int = 0,
    base_timestamp: int = 0,
    max_timestamp: int = 0,
    attributes: int = 0,
) -> BatchHeader:
    return BatchHeader(
        base_offset, 0, -1, 2, 0, attributes, last_offset_delta, base_timestamp,
        max_timestamp, -1, -1, -1, count,
    )  # fmt: skip


def c_walk(data: Any, header: BatchHeader, reject_null_keys: bool = False) -> None:
    if reject_null_keys:
        _speedups.walk_records(data, header.records_count, header.last_offset_delta, True)
    else:
        _speedups.walk_records(data, header.records_count, header.last_offset_delta)


def py_walk(data: Any, header: BatchHeader, reject_null_keys: bool = False) -> None:
    _batch._walk_records_py(data, 0, len(data), header, reject_null_keys)


def c_decode(data: Any, header: BatchHeader) -> list[Record]:
    log_append_time = header.max_timestamp if header.attributes & LOG_APPEND else None
    result: list[Record] = _speedups.decode_records(
        data, header.records_count, header.base_offset, header.base_timestamp, log_append_time
    )
    return result


def py_decode(data: Any, header: BatchHeader) -> list[Record]:
    return _batch._decode_records_py(bytes(data), header)


def outcome(function: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """What a call returned, or which of our errors it raised and why.

    Anything but a ``RecordsError`` escapes and fails the test.
    """
    try:
        return ("returned", function(*args))
    except RecordsError as exc:
        return ("raised", type(exc), str(exc))


def assert_same(data: bytes, header: BatchHeader) -> tuple[Any, ...]:
    """Both walkers (with and without the null key rule) and both decoders
    agree on ``data``; returns the decode outcome."""
    expected_walk = outcome(py_walk, data, header)
    expected_keyed_walk = outcome(py_walk, data, header, True)
    expected_decode = outcome(py_decode, data, header)
    # Every buffer type the batch code hands over.
    for view in (data, bytearray(data), memoryview(data)):
        assert outcome(c_walk, view, header) == expected_walk
        assert outcome(c_walk, view, header, True) == expected_keyed_walk
        assert outcome(c_decode, view, header) == expected_decode
    return expected_decode


# --------------------------------------------------------------- strategies

optional_bytes = st.none() | st.binary(max_size=40)
headers = st.lists(st.builds(Header, st.text(max_size=6), optional_bytes), max_size=3)
timestamps = st.integers(min_value=-(2**40), max_value=2**45)


@dataclass(frozen=True)
class Batch:
    raw: bytes
    header: BatchHeader
    section: bytes
    records: list[Record]


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    """A batch as the cleaner writes it: any codec, offsets with gaps."""
    count = draw(st.integers(min_value=0, max_value=12))
    last_offset_delta = draw(st.integers(min_value=max(count - 1, 0), max_value=count + 30))
    deltas = sorted(
        draw(
            st.sets(
                st.integers(min_value=0, max_value=last_offset_delta),
                min_size=count,
                max_size=count,
            )
        )
    )
    base_offset = draw(
        st.integers(min_value=0, max_value=2**40) | st.just(INT64_MAX - last_offset_delta)
    )
    records = [
        Record(
            base_offset + delta,
            draw(timestamps),
            draw(optional_bytes),
            draw(optional_bytes),
            tuple(draw(headers)),
        )
        for delta in deltas
    ]
    codec = draw(st.sampled_from(list(Compression)))
    attributes = int(codec)
    if draw(st.booleans()):
        attributes |= LOG_APPEND
    template = _header(
        count,
        last_offset_delta,
        base_offset=base_offset,
        base_timestamp=draw(timestamps),
        max_timestamp=draw(timestamps),
        attributes=attributes,
    )
    horizon = draw(st.none() | timestamps)
    raw = encode_batch_from(template, records, delete_horizon_ms=horizon)
    header = read_batch_header(raw)
    section = bytes(_batch._records_section(raw, 0, header, header.compression))
    return Batch(raw, header, section, records)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes changed, inserted or removed, maybe cut short."""
    out = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        position = draw(st.integers(min_value=0, max_value=len(out)))
        if kind == "set" and position < len(out):
            out[position] = draw(
                st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]) | st.integers(0, 255)
            )
        elif kind == "insert":
            out[position:position] = draw(st.binary(min_size=1, max_size=11))
        elif kind == "delete":
            del out[position : position + draw(st.integers(min_value=1, max_value=4))]
        else:
            del out[position:]
    return bytes(out)


def _shifted_header(header: BatchHeader, draw: st.DrawFn) -> BatchHeader:
    """The same header with the count and last offset delta perhaps off."""
    nudge = st.integers(min_value=-2, max_value=2) | st.integers(
        min_value=-(2**31), max_value=2**31 - 1
    )
    return _header(
        header.records_count + draw(nudge) if draw(st.booleans()) else header.records_count,
        header.last_offset_delta + draw(nudge) if draw(st.booleans()) else header.last_offset_delta,
        base_offset=header.base_offset,
        base_timestamp=header.base_timestamp,
        max_timestamp=header.max_timestamp,
        attributes=header.attributes,
    )


# ------------------------------------------------------------ differential


@needs_speedups
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_valid_batches_decode_the_same(batch: Batch) -> None:
    result = assert_same(batch.section, batch.header)
    assert result[0] == "returned"
    if not batch.header.attributes & LOG_APPEND:
        assert result[1] == batch.records
    c_walk(batch.section, batch.header)
    keyless = [i for i, r in enumerate(batch.records) if r.key is None]
    if keyless:
        refused = ("raised", InvalidRecordError, f"record {keyless[0]} has a null key")
        for walk in (c_walk, py_walk):
            assert outcome(walk, batch.section, batch.header, True) == refused
    else:
        c_walk(batch.section, batch.header, True)


@needs_speedups
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_mutated_sections_fail_the_same(batch: Batch, data: st.DataObject) -> None:
    section = data.draw(mutated(batch.section))
    header = _shifted_header(batch.header, data.draw) if data.draw(st.booleans()) else batch.header
    assert_same(section, header)


@needs_speedups
@settings(max_examples=500, deadline=None)
@given(
    st.binary(max_size=200),
    st.integers(min_value=-3, max_value=40) | st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.integers(min_value=-3, max_value=60) | st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.integers(min_value=-(2**63), max_value=INT64_MAX),
    st.integers(min_value=-(2**63), max_value=INT64_MAX),
    st.booleans(),
)
def test_random_sections_fail_the_same(
    data: bytes, count: int, last_delta: int, base_offset: int, base_ts: int, log_append: bool
) -> None:
    header = _header(
        count,
        last_delta,
        base_offset=base_offset,
        base_timestamp=base_ts,
        attributes=LOG_APPEND if log_append else 0,
    )
    assert_same(data, header)


@dispatches_to_speedups
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_validate_and_decode_batch_agree_through_the_dispatch(
    batch: Batch, data: st.DataObject
) -> None:
    raw = bytearray(data.draw(mutated(batch.raw)))
    if len(raw) >= 61 and data.draw(st.booleans()):
        # A fresh CRC, so that the mutation reaches the record walk.
        raw[17:21] = crc32c(memoryview(raw)[21:]).to_bytes(4, "big")
    results = []
    for use_speedups in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_batch, "_use_speedups", use_speedups)
            results.append(
                (
                    outcome(lambda: validate_batch(raw).records_count),
                    outcome(lambda: validate_batch(raw, require_keys=True).records_count),
                    outcome(lambda: decode_batch(bytes(raw), verify_crc=False).records),
                )
            )
    assert results[0] == results[1]


# ------------------------------------------------------------- edge cases


def varint(value: int, width: int = 0) -> bytes:
    """``value`` zigzag-encoded, padded with redundant groups to ``width`` bytes."""
    out = bytearray()
    write_varint(value, out)
    while len(out) < width:
        out[-1] |= 0x80
        out.append(0)
    return bytes(out)


def field(value: bytes) -> bytes:
    """A length-prefixed field."""
    return varint(len(value)) + value


def sized(body: bytes) -> bytes:
    """A record: ``body`` after its length."""
    return varint(len(body)) + body


def record(
    offset_delta: int = 0,
    timestamp_delta: int = 0,
    key: bytes = b"\x01",  # null
    value: bytes = b"\x01",
    tail: bytes = b"\x00",  # no headers
    length: int | None = None,
) -> bytes:
    body = b"\x00" + varint(timestamp_delta) + varint(offset_delta) + key + value + tail
    return sized(body) if length is None else varint(length) + body


EDGE_CASES: dict[str, tuple[bytes, int, int]] = {
    "empty section": (b"", 0, 0),
    "one record": (record(), 1, 0),
    "bytes after the records": (record() + b"\x00", 1, 0),
    "count above the records": (record(), 2, 1),
    "length varint of ten bytes": (varint(6, 10) + record()[1:], 1, 0),
    "overlong length varint": (b"\x80" * 10 + b"\x00" + record()[1:], 1, 0),
    "length with bits past 64": (b"\xff" * 9 + b"\x7f" + record()[1:], 1, 0),
    "even length with bits past 64": (b"\xfe" + b"\xff" * 8 + b"\x7f" + record()[1:], 1, 0),
    "length valid in its low 64 bits": (b"\x8c" + b"\x80" * 8 + b"\x02" + record()[1:], 1, 0),
    "negative length": (varint(-5) + record()[1:], 1, 0),
    "zero length": (b"\x00" * 8, 1, 0),
    "length past the end": (varint(200) + record()[1:], 1, 0),
    "timestamp running to the end": (varint(6) + b"\x00" + b"\xff" * 5, 1, 0),
    "timestamp running into the next record": (
        varint(6) + b"\x00" + b"\xff" * 5 + record(offset_delta=1),
        2,
        1,
    ),
    "offset delta cut": (varint(6) + b"\x00\x00" + b"\x80" * 4, 1, 0),
    # The walk stops an offset delta at ten bytes; the decoder refuses it.
    "offset delta of ten zero groups": (
        sized(b"\x00\x00" + b"\x80" * 10 + b"\x00\x01\x01\x00"),
        1,
        0,
    ),
    "offset delta with bits past 64": (
        sized(b"\x00\x00" + b"\xff" * 9 + b"\x7f\x01\x01\x00"),
        1,
        0,
    ),
    "offset delta valid in its low 64 bits": (
        sized(b"\x00\x00" + b"\x80" * 9 + b"\x02\x01\x01\x00"),
        1,
        0,
    ),
    "offset delta past last": (record(offset_delta=3), 1, 2),
    "offset deltas not increasing": (record(offset_delta=1) + record(offset_delta=1), 2, 5),
    "negative offset delta": (record(offset_delta=-1), 1, 0),
    "huge offset delta": (record(offset_delta=INT64_MAX), 1, 0),
    "most negative offset delta": (record(offset_delta=-(2**63)), 1, 0),
    "null key and value": (record(), 1, 0),
    "negative key length": (record(key=varint(-2)), 1, 0),
    "key past the record": (record(key=varint(30)), 1, 0),
    "header count too large": (record(tail=varint(50)), 1, 0),
    "negative header count": (record(tail=varint(-1)), 1, 0),
    "null header key": (record(tail=varint(1) + varint(-1) + varint(-1)), 1, 0),
    "header key not UTF-8": (record(tail=varint(1) + varint(2) + b"\xc3\x28" + varint(-1)), 1, 0),
    "header key a surrogate": (
        record(tail=varint(1) + varint(3) + b"\xed\xa0\x80" + varint(-1)),
        1,
        0,
    ),
    "bad header value after a bad key": (
        record(tail=varint(1) + varint(1) + b"\xff" + varint(40)),
        1,
        0,
    ),
    "good headers": (
        record(tail=varint(2) + field("é".encode()) + field(b"x") + field(b"k") + varint(-1)),
        1,
        0,
    ),
    "fields short of the length": (record(length=12) + b"\x00" * 4, 1, 0),
    "varint of eleven bytes in a field": (record(key=b"\x80" * 10 + b"\x00"), 1, 0),
    "varint cut at the record end": (varint(2) + b"\x00\x80", 1, 0),
    # The null key rule: the key length right after the offset delta.
    "keyed record": (record(key=field(b"k")), 1, 0),
    "empty key": (record(key=field(b"")), 1, 0),
    "null key spelled in two bytes": (record(key=b"\x81\x00"), 1, 0),
    "key length of ten bytes": (record(key=varint(-1, 10)), 1, 0),
    "key length with bits past 64": (record(key=b"\x81" + b"\x80" * 8 + b"\x7f"), 1, 0),
    "key length of eleven bytes": (record(key=b"\x81" + b"\x80" * 9 + b"\x00"), 1, 0),
    "key length cut at the record end": (sized(b"\x00\x80\x80\x80\x00\x00"), 1, 0),
    "key length cut inside its varint": (sized(b"\x00\x80\x80\x00\x00\x80"), 1, 0),
    "null keys after a keyed record": (
        record(key=field(b"k")) + record(offset_delta=1) + record(offset_delta=2),
        3,
        2,
    ),
    "null key before a bad offset delta": (record() + record(offset_delta=0), 2, 1),
    "null key before bytes after the records": (record() + b"\x00", 1, 0),
    "null key before a cut key length": (
        record() + sized(b"\x00\x80\x80\x80\x00\x02"),
        2,
        1,
    ),
    "negative count": (record(), -1, 0),
    "count that cannot fit": (record(), 10, 20),
}


@needs_speedups
@pytest.mark.parametrize("case", sorted(EDGE_CASES))
@pytest.mark.parametrize("log_append", [False, True])
@pytest.mark.parametrize(
    ("base_offset", "base_timestamp"),
    [(0, 0), (INT64_MAX, INT64_MAX), (-(2**63), -(2**63))],
    ids=["zero", "max", "min"],
)
def test_edge_cases_agree(
    case: str, log_append: bool, base_offset: int, base_timestamp: int
) -> None:
    data, count, last_delta = EDGE_CASES[case]
    header = _header(
        count,
        last_delta,
        base_offset=base_offset,
        base_timestamp=base_timestamp,
        max_timestamp=123,
        attributes=LOG_APPEND if log_append else 0,
    )
    assert_same(data, header)


@needs_speedups
def test_offsets_and_timestamps_past_64_bits_are_exact() -> None:
    header = _header(1, INT64_MAX, base_offset=INT64_MAX, base_timestamp=INT64_MAX)
    data = record(offset_delta=5, timestamp_delta=7)
    [decoded] = c_decode(data, header)
    assert decoded.offset == INT64_MAX + 5
    assert decoded.timestamp == INT64_MAX + 7
    assert [decoded] == py_decode(data, header)


@needs_speedups
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("keyed record", None),
        ("empty key", None),
        ("null key and value", (InvalidRecordError, "record 0 has a null key")),
        ("null key spelled in two bytes", (InvalidRecordError, "record 0 has a null key")),
        ("key length of ten bytes", (InvalidRecordError, "record 0 has a null key")),
        ("key length with bits past 64", None),
        ("key length cut at the record end", (CorruptRecordError, "record 0 is cut inside")),
        ("key length cut inside its varint", (CorruptRecordError, "record 0 is cut inside")),
        ("null keys after a keyed record", (InvalidRecordError, "record 1 has a null key")),
        ("null key before a bad offset delta", (InvalidRecordError, "record 1 has offset delta")),
        ("null key before bytes after the records", (CorruptRecordError, "1 bytes after")),
        ("null key before a cut key length", (CorruptRecordError, "record 1 is cut inside")),
    ],
)
def test_null_keys_are_refused_after_the_walk(
    case: str, expected: tuple[type[Exception], str] | None
) -> None:
    """A null key fails the batch only when nothing else does; the walk
    without the rule does not read keys at all."""
    data, count, last_delta = EDGE_CASES[case]
    header = _header(count, last_delta)
    for walk in (c_walk, py_walk):
        if expected is None:
            walk(data, header, True)
        else:
            with pytest.raises(expected[0], match=expected[1]):
                walk(data, header, True)
    if case.startswith(("null key and", "null keys after")):
        c_walk(data, header)


@needs_speedups
def test_messages_name_wide_values_exactly() -> None:
    data, count, last_delta = EDGE_CASES["length with bits past 64"]
    with pytest.raises(CorruptRecordError, match=r"invalid length -590295810358705651712$"):
        c_walk(data, _header(count, last_delta))


@needs_speedups
def test_decoded_records_are_ordinary_instances() -> None:
    data = record(tail=varint(1) + varint(1) + b"h" + varint(1) + b"v")
    [decoded] = c_decode(data, _header(1, 0))
    assert type(decoded) is Record
    assert type(decoded.headers[0]) is Header
    assert decoded == Record(0, 0, None, None, (Header("h", b"v"),))
    assert hash(decoded) == hash(Record(0, 0, None, None, (Header("h", b"v"),)))
    with pytest.raises(AttributeError):
        decoded.offset = 1  # type: ignore[misc]
    # Nothing in it can hold a reference cycle, so the collector may skip it...
    assert not gc.is_tracked(decoded)
    assert not gc.is_tracked(decoded.headers)
    # ...unless a field is itself a tracked object.
    [holder] = _speedups.decode_records(data, 1, 0, 0, [])
    assert gc.is_tracked(holder)


@dispatches_to_speedups
@pytest.mark.parametrize("use_speedups", [True, False])
def test_walk_of_a_slice(use_speedups: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_batch, "_use_speedups", use_speedups)
    data = b"\xff" * 3 + record() + record(offset_delta=1) + b"\xff" * 2
    _batch._walk_records(data, 3, len(data) - 2, _header(2, 1))
    with pytest.raises(CorruptRecordError, match="1 bytes after"):
        _batch._walk_records(data, 3, len(data) - 1, _header(2, 1))


@needs_speedups
def test_other_classes_are_built_by_calling_them() -> None:
    """Classes that are not plain slots dataclasses get their ``__init__`` run."""

    @dataclass(frozen=True)
    class PlainHeader:
        key: str
        value: bytes | None

    @dataclass(frozen=True)
    class CheckedRecord:
        offset: int
        timestamp: int
        key: bytes | None
        value: bytes | None
        headers: tuple[PlainHeader, ...] = ()

        def __post_init__(self) -> None:
            if self.value == b"boom":
                raise ValueError("boom")

    data = record(value=varint(1) + b"v", tail=varint(1) + varint(1) + b"h" + varint(-1))
    try:
        _speedups.configure(CorruptRecordError, InvalidRecordError, CheckedRecord, PlainHeader)
        [decoded] = c_decode(data, _header(1, 0, base_offset=9))
        assert decoded == CheckedRecord(9, 0, None, b"v", (PlainHeader("h", None),))
        with pytest.raises(ValueError, match="boom"):
            c_decode(record(value=varint(4) + b"boom"), _header(1, 0))
    finally:
        _speedups.configure(CorruptRecordError, InvalidRecordError, Record, Header)


@needs_speedups
def test_configure_refuses_classes_with_other_fields() -> None:
    @dataclass(frozen=True, slots=True)
    class Other:
        offset: int

    @dataclass(frozen=True)
    class PlainRecord:
        offset: int
        timestamp: int
        key: bytes | None
        value: bytes | None
        headers: tuple[Header, ...]

    with pytest.raises(TypeError, match="expected fields"):
        _speedups.configure(CorruptRecordError, InvalidRecordError, Other, Header)
    with pytest.raises(TypeError, match="expected fields"):
        _speedups.configure(CorruptRecordError, InvalidRecordError, PlainRecord, Other)
    with pytest.raises(TypeError):
        _speedups.configure(ValueError, 3, Record, Header)
    # Nothing changed.
    [decoded] = c_decode(record(), _header(1, 0))
    assert type(decoded) is Record
    assert decoded == Record(0, 0, None, None, ())


@needs_speedups
def test_non_buffers_are_refused() -> None:
    with pytest.raises(TypeError):
        _speedups.walk_records("text", 0, 0)
    with pytest.raises(TypeError):
        _speedups.walk_records(b"", 0, 0, False, 1)
    with pytest.raises(TypeError):
        _speedups.decode_records(None, 0, 0, 0, None)


# ------------------------------------------------------ consumer records


class Consumed:
    """A consumer record class as the client's: eight fields in slots."""

    __slots__ = (
        "headers", "key", "offset", "partition", "timestamp", "timestamp_type", "topic", "value",
    )  # fmt: skip

    def __init__(self, *fields: Any) -> None:
        (self.topic, self.partition, self.offset, self.timestamp, self.timestamp_type,
         self.key, self.value, self.headers) = fields  # fmt: skip

    def fields(self) -> tuple[Any, ...]:
        return (self.topic, self.partition, self.offset, self.timestamp, self.timestamp_type,
                self.key, self.value, self.headers)  # fmt: skip


def decode_into_outcome(
    use_speedups: bool, raw: bytes, header: BatchHeader, min_offset: int, untrack: bool = True
) -> tuple[Any, ...]:
    """What ``decode_batch_into`` appended after two sentinel items, or what it raised
    (with the list, which must be left as it was)."""
    out: list[Any] = ["before", "before"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_batch, "_use_speedups", use_speedups)
        try:
            decode_batch_into(
                out, Consumed, raw, header, topic="t", partition=3, min_offset=min_offset,
                verify_crc=False, untrack=untrack,
            )  # fmt: skip
        except RecordsError as exc:
            return ("raised", type(exc), str(exc), out)
    assert out[:2] == ["before", "before"]
    return ("returned", [r.fields() for r in out[2:]])


@needs_speedups
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_decode_into_matches_decode_batch(batch: Batch, data: st.DataObject) -> None:
    offsets = [r.offset for r in batch.records] or [batch.header.base_offset]
    min_offset = data.draw(st.sampled_from([0, *offsets, min(offsets[-1] + 1, INT64_MAX)]))
    expected = decode_into_outcome(False, batch.raw, batch.header, min_offset)
    assert decode_into_outcome(True, batch.raw, batch.header, min_offset) == expected
    assert decode_into_outcome(True, batch.raw, batch.header, min_offset, False) == expected
    log_append = bool(batch.header.attributes & LOG_APPEND)
    ts_type = "LOG_APPEND_TIME" if log_append else "CREATE_TIME"
    want = [
        ("t", 3, r.offset, batch.header.max_timestamp if log_append else r.timestamp,
         ts_type, r.key, r.value, tuple((h.key, h.value) for h in r.headers))
        for r in batch.records
        if r.offset >= min_offset
    ]  # fmt: skip
    got = [(*f[:4], f[4].name, *f[5:]) for f in expected[1]]
    assert got == want


@needs_speedups
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_decode_into_fails_the_same_and_leaves_the_list(batch: Batch, data: st.DataObject) -> None:
    section = data.draw(mutated(batch.section))
    header = _shifted_header(batch.header, data.draw) if data.draw(st.booleans()) else batch.header
    raw = header_bytes(header, len(section)) + section
    header = read_batch_header(raw)
    min_offset = data.draw(st.integers(min_value=0, max_value=2**40))
    expected = decode_into_outcome(False, raw, header, min_offset)
    assert decode_into_outcome(True, raw, header, min_offset) == expected


def header_bytes(header: BatchHeader, section_size: int) -> bytes:
    """A 61-byte uncompressed batch header for a records section of ``section_size``
    (a count or delta nudged past 32 bits wraps, as on the wire)."""

    def int32(value: int) -> int:
        return (value + 2**31) % 2**32 - 2**31

    return _batch._HEADER.pack(
        header.base_offset, section_size + 49, -1, 2, 0, header.attributes & LOG_APPEND,
        int32(header.last_offset_delta), header.base_timestamp, header.max_timestamp, -1, -1,
        -1, int32(header.records_count),
    )  # fmt: skip


@needs_speedups
def test_decode_into_untracks_only_plain_records() -> None:
    raw = encode_batch_from(
        _header(2, 1), [Record(0, 5, b"k", b"v", (Header("h", b"1"),)), Record(1, 5, None, None)]
    )
    header = read_batch_header(raw)
    for untrack in (True, False):
        out: list[Consumed] = []
        decode_batch_into(out, Consumed, raw, header, topic="t", partition=0,
                                 untrack=untrack)  # fmt: skip
        assert [gc.is_tracked(r) for r in out] == [not untrack, not untrack]
        assert out[0].headers == (("h", b"1"),)


@needs_speedups
def test_decode_into_refuses_classes_it_cannot_fill() -> None:
    raw = encode_batch_from(_header(1, 0), [Record(0, 5, b"k", b"v")])

    class NoSlots:
        def __init__(self, *fields: Any) -> None:
            self.fields = fields

    with pytest.raises(TypeError, match="slots"):
        _speedups.decode_records_into(NoSlots, raw[61:], 1, 0, 0, None, 0, "t", 0, 0, True, [])


# ---------------------------------------------------------------- switches


def _speedups_in(env: dict[str, str]) -> str:
    code = "import tidal.log.records as r; print(r.SPEEDUPS)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return result.stdout.strip()


def test_tidal_no_speedups_forces_python() -> None:
    assert _speedups_in({"TIDAL_NO_SPEEDUPS": "1"}) == "False"


@needs_speedups
def test_speedups_are_used_by_default() -> None:
    assert _speedups_in({"TIDAL_NO_SPEEDUPS": ""}) == "True"


def test_extension_is_built_when_required() -> None:
    """CI sets TIDAL_REQUIRE_SPEEDUPS=1 so that a failed compile cannot go unseen."""
    if os.environ.get("TIDAL_REQUIRE_SPEEDUPS") != "1":
        pytest.skip("TIDAL_REQUIRE_SPEEDUPS is not set")
    assert _speedups is not None, f"tidal.log.records._speedups is not built: {IMPORT_ERROR}"
    with contextlib.suppress(KeyError):
        if os.environ["TIDAL_NO_SPEEDUPS"] not in ("", "0"):
            return
    assert _batch.SPEEDUPS


@needs_speedups
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_decode_into_reads_a_view_of_a_larger_frame(batch: Batch, data: st.DataObject) -> None:
    """A consumer decodes from a read-only view into its Fetch response's frame
    (``Connection(records_views=True)``): both decoders read it in place, and
    the records own their bytes, which outlive the frame."""
    before = data.draw(st.binary(max_size=9))
    frame = bytearray(before + batch.raw + b"\xee" * 3)
    view = memoryview(frame).toreadonly()[len(before) : len(before) + len(batch.raw)]
    header = read_batch_header(view)
    offsets = [r.offset for r in batch.records] or [batch.header.base_offset]
    min_offset = data.draw(st.sampled_from([0, *offsets]))
    expected = decode_into_outcome(False, batch.raw, batch.header, min_offset)
    outcomes = [
        decode_into_outcome(use_speedups, view, header, min_offset)  # type: ignore[arg-type]
        for use_speedups in (True, False)
    ]
    assert outcomes == [expected, expected]
    view.release()
    frame[:] = b"\x00" * len(frame)  # nothing decoded points into the frame
    assert outcomes == [expected, expected]
    if expected[0] == "returned":
        assert all(isinstance(f[5], bytes | None) for got in outcomes for f in got[1])


@needs_speedups
def test_compact_bytes_copies_exactly() -> None:
    for data in (b"", b"x", bytes(range(256)) * 40):
        out = _speedups.compact_bytes(data)
        assert out == data
        assert type(out) is bytes
    with pytest.raises(TypeError, match="compact_bytes expects bytes, got bytearray"):
        _speedups.compact_bytes(bytearray(b"x"))


# Kafka's UtilsTest / librdkafka rdmurmur2.c unit test vectors.
MURMUR2_VECTORS = {
    b"kafka": 0xD067CF64,
    b"giberish123456789": 0x8F552B0C,
    b"1234": 0x9FC97B14,
    b"234": 0xE7C009CA,
    b"": 0x106E08D9,
}


@needs_speedups
@pytest.mark.parametrize(("key", "expected"), MURMUR2_VECTORS.items())
def test_murmur2_known_vectors(key: bytes, expected: int) -> None:
    assert _speedups.murmur2(key) == expected
    assert _murmur2_py(key) == expected


@needs_speedups
@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_murmur2_equals_the_python_one(key: bytes) -> None:
    expected = _murmur2_py(key)
    assert _speedups.murmur2(key) == expected
    assert _speedups.murmur2(bytearray(key)) == expected
    assert _speedups.murmur2(memoryview(b"~" + key)[1:]) == expected


@needs_speedups
def test_murmur2_refuses_non_buffers() -> None:
    with pytest.raises(TypeError, match="murmur2 expects bytes, got str"):
        _speedups.murmur2("kafka")  # type: ignore[arg-type]


@dispatches_to_speedups
def test_partitioner_hashes_with_the_compiled_murmur2() -> None:
    assert producer_partitioner.murmur2 is _speedups.murmur2
