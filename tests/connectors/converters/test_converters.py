"""Converters on values built in Python: JSON (against Kafka's bytes), String, ByteArray,
MessagePack."""

import datetime
import decimal
import json
from pathlib import Path

import pytest

from tidal.connectors.api import (
    DataError,
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
)
from tidal.connectors.converters import (
    ByteArrayConverter,
    JsonConverter,
    MsgpackConverter,
    StringConverter,
)

KAFKA = json.loads(
    (Path(__file__).resolve().parents[1] / "golden" / "json_converter_golden.json").read_text()
)


def _json(**config: str) -> JsonConverter:
    converter = JsonConverter()
    converter.configure(config, is_key=False)
    return converter


def _user_schema() -> Schema:
    address = SchemaBuilder.struct().optional().field("city", Schema.STRING_SCHEMA).build()
    return (
        SchemaBuilder.struct()
        .name("com.example.User")
        .version(3)
        .doc("A user")
        .parameter("p", "q")
        .field("id", Schema.INT64_SCHEMA)
        .field("email", Schema.OPTIONAL_STRING_SCHEMA)
        .field("score", SchemaBuilder.float64().optional().default_value(1.5).build())
        .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
        .field("addr", address)
        .build()
    )


def test_python_struct_serializes_to_kafkas_bytes() -> None:
    schema = _user_schema()
    address = schema.field("addr")
    assert address is not None
    user = (
        Struct(schema)
        .put("id", 7)
        .put("email", "a@b.c")
        .put("score", 2.25)
        .put("tags", ["x"])
        .put("addr", Struct(address.schema).put("city", "Oslo"))
    )
    out = _json().from_connect_data("users", schema, user)
    assert out is not None
    assert out.decode() == KAFKA["struct_full"]["output"]
    unset = Struct(schema).put("id", 7).put("tags", [])
    assert (
        _json().from_connect_data("users", schema, unset)
        == KAFKA["struct_nulls_and_default"]["output"].encode()
    )


def test_logical_python_values_serialize_to_kafkas_bytes() -> None:
    cases = [
        (Decimal.schema(2), decimal.Decimal("1.28"), "decimal_base64"),
        (Decimal.schema(2), decimal.Decimal("-1.29"), "decimal_base64_negative"),
        (Date.SCHEMA, datetime.date(2024, 2, 29), "date"),
        (Time.SCHEMA, datetime.time(12, 0, 1, 500_000), "time"),
        (
            Timestamp.SCHEMA,
            datetime.datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=datetime.UTC),
            "timestamp",
        ),
    ]
    for schema, value, name in cases:
        assert _json().from_connect_data("t", schema, value) == KAFKA[name]["output"].encode()
    numeric = _json(**{"decimal.format": "numeric"})
    out = numeric.from_connect_data("t", Decimal.schema(2), decimal.Decimal("1.28"))
    assert out == KAFKA["decimal_numeric_out"]["output"].encode()


def test_reading_gives_python_values() -> None:
    converter = _json()
    schema, value = converter.to_connect_data("t", KAFKA["timestamp"]["output"].encode())
    assert schema == Timestamp.SCHEMA
    assert value == datetime.datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=datetime.UTC)
    schema, value = converter.to_connect_data("t", KAFKA["struct_full"]["output"].encode())
    assert schema == _user_schema()
    assert value.get("addr").get("city") == "Oslo"
    _, amount = converter.to_connect_data("t", KAFKA["decimal_base64"]["output"].encode())
    assert amount == decimal.Decimal("1.28")


def test_schemaless_json() -> None:
    converter = _json(**{"schemas.enable": "false"})
    assert converter.from_connect_data("t", None, {"a": [1, 2.5, "x", None]}) == (
        b'{"a":[1,2.5,"x",null]}'
    )
    assert converter.to_connect_data("t", b'{"a":1}') == (None, {"a": 1})
    assert converter.from_connect_data("t", None, None) is None
    assert converter.to_connect_data("t", None) == (None, None)


def test_envelope_errors_name_the_fix() -> None:
    with pytest.raises(DataError, match=r"set schemas\.enable=false"):
        _json().to_connect_data("t", b'{"id": 1}')
    with pytest.raises(DataError, match="serialization error"):
        _json().to_connect_data("t", b"{nope")
    with pytest.raises(DataError, match="null value for field that is required"):
        _json().from_connect_data("t", Schema.STRING_SCHEMA, None)
    with pytest.raises(DataError, match="Invalid type for INT32"):
        _json().from_connect_data("t", Schema.INT32_SCHEMA, "1")


def test_string_converter() -> None:
    converter = StringConverter()
    converter.configure({}, is_key=True)
    assert converter.from_connect_data("t", Schema.STRING_SCHEMA, "héllo") == "héllo".encode()
    assert converter.from_connect_data("t", None, 5) == b"5"
    assert converter.from_connect_data("t", None, True) == b"true"
    assert converter.from_connect_data("t", None, 0.5) == b"0.5"
    assert converter.from_connect_data("t", None, None) is None
    schema = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).build()
    assert converter.from_connect_data("t", schema, Struct(schema).put("a", 1)) == b"Struct{a=1}"
    assert converter.to_connect_data("t", b"x") == (Schema.OPTIONAL_STRING_SCHEMA, "x")
    latin = StringConverter()
    latin.configure({"converter.encoding": "ISO-8859-1"})
    assert latin.from_connect_data("t", None, "é") == b"\xe9"


def test_byte_array_converter() -> None:
    converter = ByteArrayConverter()
    assert converter.from_connect_data("t", Schema.BYTES_SCHEMA, b"\x00\x01") == b"\x00\x01"
    assert converter.to_connect_data("t", b"\x02") == (Schema.OPTIONAL_BYTES_SCHEMA, b"\x02")
    with pytest.raises(DataError, match="Invalid schema type for ByteArrayConverter: STRING"):
        converter.from_connect_data("t", Schema.STRING_SCHEMA, b"x")
    with pytest.raises(DataError, match="not compatible"):
        converter.from_connect_data("t", None, "text")


def test_msgpack_converter_round_trips_structs_and_datetimes() -> None:
    converter = MsgpackConverter()
    converter.configure({}, is_key=False)
    schema = (
        SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).field("d", Decimal.schema(1)).build()
    )
    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    raw = converter.from_connect_data(
        "t", None, {"s": Struct(schema).put("a", 1).put("d", decimal.Decimal("2.5")), "at": when}
    )
    assert raw is not None
    schema_out, value = converter.to_connect_data("t", raw)
    assert schema_out is None
    assert value == {"s": {"a": 1, "d": "2.5"}, "at": when}
    with pytest.raises(DataError):
        converter.to_connect_data("t", b"\xc1")


def test_converter_type_is_checked() -> None:
    with pytest.raises(ValueError, match=r"converter\.type"):
        _json(**{"converter.type": "sideways"})


def test_dates_beyond_python_range_are_data_errors() -> None:
    # Java's Date reaches far beyond year 9999; Python's datetime does not.
    date = f'{{"schema":{{"type":"int32","name":"{Date.LOGICAL_NAME}"}},"payload":2147483647}}'
    with pytest.raises(DataError, match="Date value out of range"):
        _json().to_connect_data("t", date.encode())
    big = 2**63 - 1
    stamp = f'{{"schema":{{"type":"int64","name":"{Timestamp.LOGICAL_NAME}"}},"payload":{big}}}'
    with pytest.raises(DataError, match="Timestamp value out of range"):
        _json().to_connect_data("t", stamp.encode())
