"""Property tests: every Connect value survives JsonConverter and msgpack round trips, and
reading arbitrary bytes fails only with DataError."""

import contextlib
import datetime
import decimal
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tidal.connectors._java import to_float32
from tidal.connectors.api import (
    DataError,
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    Struct,
    Timestamp,
    Type,
)
from tidal.connectors.converters import JsonConverter, MsgpackConverter

_INT_BITS = {Type.INT8: 8, Type.INT16: 16, Type.INT32: 32, Type.INT64: 64}
_PRIMITIVES = [
    Type.INT8, Type.INT16, Type.INT32, Type.INT64, Type.FLOAT32, Type.FLOAT64,
    Type.BOOLEAN, Type.STRING, Type.BYTES,
]  # fmt: skip
# Kafka reads -0.0 as 0.0 (its JSON numbers are BigDecimals), so -0.0 is left out here;
# the golden tests pin that case.
_FINITE = st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f + 0.0)


def _optional(builder: SchemaBuilder, optional: bool) -> Schema:
    return (builder.optional() if optional else builder).build()


@st.composite
def _schemas(draw: st.DrawFn, depth: int = 2) -> Schema:
    optional = draw(st.booleans())
    choice = draw(st.integers(0, 4 if depth > 0 else 1))
    if choice == 0:
        return _optional(SchemaBuilder(draw(st.sampled_from(_PRIMITIVES))), optional)
    if choice == 1:
        logical = draw(st.sampled_from([Decimal.builder(2), Date.builder(), Timestamp.builder()]))
        return _optional(logical, optional)
    if choice == 2:
        return _optional(SchemaBuilder.array(draw(_schemas(depth - 1))), optional)
    if choice == 3:
        key = draw(st.sampled_from([Schema.STRING_SCHEMA, Schema.INT32_SCHEMA]))
        return _optional(SchemaBuilder.map(key, draw(_schemas(depth - 1))), optional)
    builder = SchemaBuilder.struct().name(draw(st.sampled_from(["a.B", "c.D"])))
    names = draw(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4, unique=True))
    for name in names:
        builder.field(name, draw(_schemas(depth - 1)))
    return _optional(builder, optional)


@st.composite
def _values(draw: st.DrawFn, schema: Schema) -> Any:
    if schema.is_optional and draw(st.integers(0, 4)) == 0:
        return None
    if schema.name == Decimal.LOGICAL_NAME:
        return decimal.Decimal(draw(st.integers(-(10**20), 10**20))).scaleb(-2)
    if schema.name == Date.LOGICAL_NAME:
        return draw(st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)))
    if schema.name == Timestamp.LOGICAL_NAME:
        millis = draw(st.integers(-(10**13), 10**13))
        return Timestamp.to_logical(Timestamp.SCHEMA, millis)
    kind = schema.type
    if kind in _INT_BITS:
        bits = _INT_BITS[kind]
        return draw(st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    if kind is Type.FLOAT32:
        return to_float32(draw(st.floats(width=32, allow_nan=False, allow_infinity=False))) + 0.0
    if kind is Type.FLOAT64:
        return draw(_FINITE)
    if kind is Type.BOOLEAN:
        return draw(st.booleans())
    if kind is Type.STRING:
        return draw(st.text(max_size=20))
    if kind is Type.BYTES:
        return draw(st.binary(max_size=20))
    if kind is Type.ARRAY:
        assert schema.value_schema is not None
        return draw(st.lists(_values(schema.value_schema), max_size=3))
    if kind is Type.MAP:
        assert schema.key_schema is not None
        assert schema.value_schema is not None
        return draw(
            st.dictionaries(_values(schema.key_schema), _values(schema.value_schema), max_size=3)
        )
    struct = Struct(schema)
    for field in schema.fields:
        struct.put(field, draw(_values(field.schema)))
    return struct


@st.composite
def _schema_and_value(draw: st.DrawFn) -> tuple[Schema, Any]:
    schema = draw(_schemas())
    return schema, draw(_values(schema))


def _json(schemas: bool) -> JsonConverter:
    converter = JsonConverter()
    converter.configure({"schemas.enable": str(schemas).lower()}, is_key=False)
    return converter


@settings(max_examples=300)
@given(_schema_and_value())
def test_json_round_trip_with_schemas(case: tuple[Schema, Any]) -> None:
    schema, value = case
    converter = _json(True)
    raw = converter.from_connect_data("t", schema, value)
    assert raw is not None
    assert converter.to_connect_data("t", raw) == (schema, value)
    # Reading puts maps in Java HashMap order (as Kafka does); from then on, writing what
    # was read gives the same bytes again.
    read = converter.to_connect_data("t", raw)
    canonical = converter.from_connect_data("t", read.schema, read.value)
    assert canonical is not None
    again = converter.to_connect_data("t", canonical)
    assert converter.from_connect_data("t", again.schema, again.value) == canonical


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _FINITE | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(_JSONISH)
def test_schemaless_json_round_trip(value: Any) -> None:
    converter = _json(False)
    raw = converter.from_connect_data("t", None, value)
    if value is None:
        assert raw is None
        return
    assert raw is not None
    assert converter.to_connect_data("t", raw) == (None, value)


@given(_JSONISH)
def test_msgpack_round_trip(value: Any) -> None:
    converter = MsgpackConverter()
    raw = converter.from_connect_data("t", None, value)
    assert converter.to_connect_data("t", raw) == (None, value)


@given(st.binary(max_size=64), st.booleans())
def test_arbitrary_bytes_fail_only_with_data_error(raw: bytes, schemas: bool) -> None:
    for converter in (_json(schemas), MsgpackConverter()):
        with contextlib.suppress(DataError):
            converter.to_connect_data("t", raw)


@given(st.text(max_size=30).map(lambda s: ('{"schema":' + s + ',"payload":1}').encode()))
def test_arbitrary_schema_text_fails_only_with_data_error(raw: bytes) -> None:
    with contextlib.suppress(DataError):
        _json(True).to_connect_data("t", raw)


@settings(max_examples=200)
@given(_schema_and_value())
def test_compiled_writers_and_readers_match_the_general_ones(case: tuple[Schema, Any]) -> None:
    schema, value = case
    converter = _json(True)
    compiled: list[str] = []
    general: list[str] = []
    converter._encoder.write(schema, value, compiled)
    converter._encoder.write_general(schema, value, general)
    assert "".join(compiled) == "".join(general)
    node = json.loads("".join(compiled))
    assert converter._decoder.value(schema, node) == converter._decoder.value_general(schema, node)


@given(_JSONISH | st.dictionaries(st.integers(), _JSONISH, max_size=3))
def test_schemaless_fast_writer_matches_the_general_one(value: Any) -> None:
    converter = _json(False)
    fast: list[str] = []
    general: list[str] = []
    converter._encoder.write(None, value, fast)
    converter._encoder.write_general(None, value, general)
    assert "".join(fast) == "".join(general)
