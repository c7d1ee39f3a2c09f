"""Serdes: round trips, Kafka's byte layouts, tombstones and clear failures."""

from __future__ import annotations

import contextlib
import math
import struct
import tracemalloc
from typing import Any

import orjson
import pytest
from confluent_kafka.serialization import (
    DoubleDeserializer,
    DoubleSerializer,
    IntegerDeserializer,
    IntegerSerializer,
    StringSerializer,
)
from hypothesis import given
from hypothesis import strategies as st

from tidal.streams._contract import StreamsError
from tidal.streams.serdes import (
    BytesSerde,
    DoubleSerde,
    FloatSerde,
    FunctionSerde,
    IntegerSerde,
    JsonSerde,
    LongSerde,
    MsgpackSerde,
    Serde,
    SerializationError,
    StringSerde,
)

INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | INT64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)
MSGPACK_VALUES = st.recursive(
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text() | st.binary() | INT64, inner),
    max_leaves=20,
)
ALL_SERDES: list[Serde[Any]] = [
    BytesSerde(),
    StringSerde(),
    IntegerSerde(),
    LongSerde(),
    FloatSerde(),
    DoubleSerde(),
    JsonSerde(),
    MsgpackSerde(),
    FunctionSerde(
        lambda s: s.encode().hex().encode(), lambda b: bytes.fromhex(b.decode()).decode()
    ),
]


@pytest.mark.parametrize("serde", ALL_SERDES, ids=repr)
def test_none_passes_through_both_ways(serde: Serde[Any]) -> None:
    assert serde.serialize(None) is None
    assert serde.deserialize(None) is None


@pytest.mark.parametrize("serde", ALL_SERDES, ids=repr)
def test_every_serde_is_a_serde(serde: Serde[Any]) -> None:
    assert isinstance(serde, Serde)
    assert not hasattr(serde, "__dict__")  # slotted: no per-instance dict


@pytest.mark.parametrize("serde", ALL_SERDES, ids=repr)
@given(data=st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_serialization_error(
    serde: Serde[Any], data: bytes
) -> None:
    with contextlib.suppress(SerializationError):
        serde.deserialize(data)


# ---- round trips ----------------------------------------------------------------


@given(st.binary())
def test_bytes_round_trip(value: bytes) -> None:
    assert BytesSerde().serialize(value) is value
    assert BytesSerde().deserialize(value) == value


def test_bytes_copies_buffers_and_rejects_text() -> None:
    assert BytesSerde().serialize(bytearray(b"ab")) == b"ab"
    assert type(BytesSerde().serialize(memoryview(b"ab"))) is bytes
    with pytest.raises(SerializationError, match="BytesSerde expects bytes, got str"):
        BytesSerde().serialize("ab")  # type: ignore[arg-type]


@given(st.text())
def test_string_round_trip_is_utf8(value: str) -> None:
    data = StringSerde().serialize(value)
    assert data == value.encode("utf-8")
    assert StringSerde().deserialize(data) == value


@given(INT32)
def test_integer_round_trip(value: int) -> None:
    data = IntegerSerde().serialize(value)
    assert data == struct.pack(">i", value) == IntegerSerializer()(value, None)
    assert IntegerSerde().deserialize(data) == value
    assert IntegerDeserializer()(data, None) == value


@given(INT64)
def test_long_round_trip(value: int) -> None:
    data = LongSerde().serialize(value)
    assert data == struct.pack(">q", value) == value.to_bytes(8, "big", signed=True)
    assert LongSerde().deserialize(data) == value


@given(st.floats(width=32))
def test_float_round_trip(value: float) -> None:
    data = FloatSerde().serialize(value)
    assert data == struct.pack(">f", value)
    back = FloatSerde().deserialize(data)
    assert back == value or (math.isnan(value) and back is not None and math.isnan(back))


@given(st.floats())
def test_double_round_trip(value: float) -> None:
    data = DoubleSerde().serialize(value)
    assert data == struct.pack(">d", value) == DoubleSerializer()(value, None)
    back = DoubleSerde().deserialize(data)
    assert back == value or (math.isnan(value) and back is not None and math.isnan(back))
    assert data is not None
    assert DoubleDeserializer()(data, None) == back or math.isnan(value)


@given(JSON_VALUES)
def test_json_round_trip(value: Any) -> None:
    data = JsonSerde().serialize(value)
    assert data is None if value is None else data == orjson.dumps(value)
    assert JsonSerde().deserialize(data) == value


@given(MSGPACK_VALUES)
def test_msgpack_round_trip(value: Any) -> None:
    assert MsgpackSerde().deserialize(MsgpackSerde().serialize(value)) == value


def test_msgpack_keeps_bytes_and_str_apart() -> None:
    serde = MsgpackSerde()
    assert serde.deserialize(serde.serialize({"a": b"a", b"k": "v", 1: [1.5]})) == {
        "a": b"a",
        b"k": "v",
        1: [1.5],
    }


# ---- Kafka's exact bytes -------------------------------------------------------


def test_kafka_numeric_layouts() -> None:
    assert LongSerde().serialize(1) == b"\0" * 7 + b"\1"
    assert LongSerde().serialize(-1) == b"\xff" * 8
    assert LongSerde().serialize(2**63 - 1) == b"\x7f" + b"\xff" * 7
    assert IntegerSerde().serialize(1) == b"\0\0\0\1"
    assert IntegerSerde().serialize(-(2**31)) == b"\x80\0\0\0"
    assert FloatSerde().serialize(1.0) == b"\x3f\x80\0\0"
    assert DoubleSerde().serialize(1.0) == b"\x3f\xf0" + b"\0" * 6
    assert DoubleSerde().serialize(-2.5) == b"\xc0\x04" + b"\0" * 6


def test_string_matches_confluent_serializer() -> None:
    for text in ["", "abc", "é", "日本", "\U0001f600"]:
        assert StringSerde().serialize(text) == StringSerializer()(text, None)


# ---- failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serde", "data", "message"),
    [
        (LongSerde(), b"abc", "LongSerde expects 8 bytes, got 3"),
        (IntegerSerde(), b"abcdefgh", "IntegerSerde expects 4 bytes, got 8"),
        (FloatSerde(), b"", "FloatSerde expects 4 bytes, got 0"),
        (DoubleSerde(), b"\0", "DoubleSerde expects 8 bytes, got 1"),
        (StringSerde(), b"\xff", "StringSerde expects UTF-8"),
        (JsonSerde(), b"{", "JsonSerde expects JSON"),
        (MsgpackSerde(), b"\xc1", "MsgpackSerde expects MessagePack"),
        (MsgpackSerde(), b"\x01\x02", "MsgpackSerde expects MessagePack"),
    ],
)
def test_bad_bytes_raise_serialization_error(serde: Serde[Any], data: bytes, message: str) -> None:
    with pytest.raises(SerializationError, match=message) as info:
        serde.deserialize(data)
    assert isinstance(info.value, StreamsError)


@pytest.mark.parametrize(
    ("serde", "value", "message"),
    [
        (IntegerSerde(), 2**31, r"IntegerSerde expects an int in \[-2\*\*31"),
        (LongSerde(), -(2**63) - 1, "LongSerde expects an int"),
        (LongSerde(), "1", "LongSerde expects an int"),
        (FloatSerde(), 1e300, "FloatSerde expects a float within binary32 range"),
        (DoubleSerde(), "x", "DoubleSerde expects a float"),
        (StringSerde(), 1, "StringSerde expects str, got int"),
        (StringSerde(), "\ud800", "StringSerde cannot encode"),
        (JsonSerde(), {1j}, "JsonSerde cannot serialize"),
        (MsgpackSerde(), object(), "MsgpackSerde cannot serialize"),
        (MsgpackSerde(), 2**64, "MsgpackSerde cannot serialize"),
    ],
)
def test_bad_values_raise_serialization_error(serde: Serde[Any], value: Any, message: str) -> None:
    with pytest.raises(SerializationError, match=message):
        serde.serialize(value)


def test_json_option_is_applied() -> None:
    assert JsonSerde(option=orjson.OPT_SORT_KEYS).serialize({"b": 1, "a": 2}) == b'{"a":2,"b":1}'


# ---- function serdes -----------------------------------------------------------


def test_function_serde_wraps_functions_and_their_errors() -> None:
    upper = FunctionSerde(lambda s: s.upper().encode(), bytes.decode, name="upper")
    assert upper.serialize("abc") == b"ABC"
    assert upper.deserialize(b"ABC") == "ABC"
    with pytest.raises(SerializationError, match="upper cannot serialize 1: AttributeError"):
        upper.serialize(1)  # type: ignore[arg-type]
    with pytest.raises(SerializationError, match=r"upper cannot deserialize b'\\xff'"):
        upper.deserialize(b"\xff")


def test_function_serde_requires_bytes_from_serialize() -> None:
    bad: FunctionSerde[str] = FunctionSerde(str, str.encode, name="bad")  # type: ignore[arg-type]
    with pytest.raises(SerializationError, match="bad's serialize function returned str"):
        bad.serialize("x")
    copied = FunctionSerde(bytearray, bytes).serialize(b"x")  # type: ignore[arg-type]
    assert copied == b"x"
    assert type(copied) is bytes


def test_json_values_are_not_over_allocated() -> None:
    """orjson answers bytes with kilobytes of spare capacity; JsonSerde's
    values are sized to their length, since state buffers and pending
    outputs keep many of them at once."""
    serde = JsonSerde()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        values = [serde.serialize({"count": i, "sum": 2 * i}) for i in range(1_000)]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert values[7] == b'{"count":7,"sum":14}'
    assert held < 200_000, f"1000 small JSON values hold {held} bytes"
