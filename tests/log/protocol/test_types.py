"""Wire primitives: known byte layouts, bounds, and the single decode error."""

from __future__ import annotations

import uuid

import pytest

from tidal.log.protocol import DecodeLimits, ProtocolDecodeError, ProtocolEncodeError
from tidal.log.protocol.types import (
    BOOLEAN,
    BYTES,
    COMPACT_BYTES,
    COMPACT_NULLABLE_STRING,
    COMPACT_STRING,
    FLOAT64,
    INT8,
    INT16,
    INT32,
    INT64,
    NULLABLE_BYTES,
    NULLABLE_STRING,
    STRING,
    TAGGED_FIELDS,
    UINT16,
    UNSIGNED_VARINT,
    UUID,
    VARINT,
    VARLONG,
    Array,
    CompactArray,
    Primitive,
)


def _enc(prim: Primitive, value: object) -> bytes:  # type: ignore[type-arg]
    out = bytearray()
    prim.encode(value, out)
    return bytes(out)


@pytest.mark.parametrize(
    ("prim", "value", "wire"),
    [
        (INT8, -2, b"\xfe"),
        (INT16, 258, b"\x01\x02"),
        (INT32, -1, b"\xff\xff\xff\xff"),
        (INT64, 1, b"\x00" * 7 + b"\x01"),
        (UINT16, 65535, b"\xff\xff"),
        (FLOAT64, 1.5, b"\x3f\xf8" + b"\x00" * 6),
        (BOOLEAN, True, b"\x01"),
        (VARINT, -1, b"\x01"),
        (VARINT, 150, b"\xac\x02"),
        (VARLONG, -(2**63), b"\xff" * 9 + b"\x01"),
        (UNSIGNED_VARINT, 300, b"\xac\x02"),
        (STRING, "hé", b"\x00\x03h\xc3\xa9"),
        (NULLABLE_STRING, None, b"\xff\xff"),
        (COMPACT_STRING, "ab", b"\x03ab"),
        (COMPACT_NULLABLE_STRING, None, b"\x00"),
        (BYTES, b"xy", b"\x00\x00\x00\x02xy"),
        (NULLABLE_BYTES, None, b"\xff\xff\xff\xff"),
        (COMPACT_BYTES, b"", b"\x01"),
        (UUID, uuid.UUID(int=1), b"\x00" * 15 + b"\x01"),
        (Array(INT16), [1, 2], b"\x00\x00\x00\x02\x00\x01\x00\x02"),
        (Array(INT16, nullable=True), None, b"\xff\xff\xff\xff"),
        (CompactArray(COMPACT_STRING), ["a"], b"\x02\x02a"),
        (CompactArray(INT8, nullable=True), None, b"\x00"),
        (TAGGED_FIELDS, {2: b"x", 0: b""}, b"\x02\x00\x00\x02\x01x"),
    ],
)
def test_layout_and_round_trip(prim: Primitive, value: object, wire: bytes) -> None:  # type: ignore[type-arg]
    assert _enc(prim, value) == wire
    assert prim.decode(wire, 0) == (value, len(wire))


@pytest.mark.parametrize(
    ("prim", "wire"),
    [
        (INT32, b"\x00\x00"),
        (STRING, b"\x00\x05abc"),
        (STRING, b"\xff\xff"),  # null in a non-nullable string
        (STRING, b"\x00\x02\xff\xfe"),  # not UTF-8
        (NULLABLE_STRING, b"\xff\xfe"),  # -2 is not null
        (COMPACT_STRING, b"\x80"),  # varint cut short
        (BYTES, b"\x7f\xff\xff\xff"),  # 2 GiB claimed, nothing there
        (UNSIGNED_VARINT, b"\xff\xff\xff\xff\xff\x01"),  # longer than 5 bytes
        (VARINT, b"\xff\xff\xff\xff\xff\xff"),
        (UUID, b"\x00" * 15),
        (Array(INT64), b"\x00\x00\x10\x00"),  # 4096 items claimed, no bytes
        (CompactArray(INT8), b"\x00"),  # null in a non-nullable array
        (TAGGED_FIELDS, b"\x01\x00\x05ab"),
    ],
)
def test_bad_input_raises_protocol_decode_error(prim: Primitive, wire: bytes) -> None:  # type: ignore[type-arg]
    with pytest.raises(ProtocolDecodeError):
        prim.decode(wire, 0)


def test_limits_bound_lengths_before_allocating() -> None:
    limits = DecodeLimits(max_bytes=4, max_array_length=2)
    with pytest.raises(ProtocolDecodeError):
        BYTES.decode(b"\x00\x00\x00\x05hello", 0, limits)
    with pytest.raises(ProtocolDecodeError):
        Array(INT8).decode(b"\x00\x00\x00\x03abc", 0, limits)
    assert BYTES.decode(b"\x00\x00\x00\x04abcd", 0, limits) == (b"abcd", 8)


@pytest.mark.parametrize(
    ("prim", "value"),
    [(INT8, 128), (INT16, -40000), (VARINT, 2**31), (UNSIGNED_VARINT, -1), (STRING, None)],
)
def test_unencodable_values_raise_protocol_encode_error(prim: Primitive, value: object) -> None:  # type: ignore[type-arg]
    with pytest.raises(ProtocolEncodeError):
        _enc(prim, value)


def test_long_string_is_refused() -> None:
    with pytest.raises(ProtocolEncodeError):
        _enc(STRING, "x" * 32768)
