"""Kafka Connect's schema model: builder, equality, validation, logical types."""

import datetime
import decimal

import pytest

from tidal.connectors.api import (
    DataError,
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    SchemaBuilderError,
    Struct,
    Time,
    Timestamp,
    Type,
)


def _user_schema() -> Schema:
    return (
        SchemaBuilder.struct()
        .name("com.example.User")
        .version(2)
        .doc("a user")
        .field("id", Schema.INT64_SCHEMA)
        .field("email", Schema.OPTIONAL_STRING_SCHEMA)
        .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
        .build()
    )


def test_builder_makes_equal_schemas_and_keeps_field_order() -> None:
    a, b = _user_schema(), _user_schema()
    assert a == b
    assert hash(a) == hash(b)
    assert [f.name for f in a.fields] == ["id", "email", "tags"]
    assert [f.index for f in a.fields] == [0, 1, 2]
    assert a.field("email") is not None
    assert a.field("email").schema == Schema.OPTIONAL_STRING_SCHEMA  # type: ignore[union-attr]
    assert a.field("missing") is None
    assert (a.name, a.version, a.doc, a.type) == ("com.example.User", 2, "a user", Type.STRUCT)


def test_schemas_differ_by_any_property() -> None:
    base = SchemaBuilder.int32().name("n").build()
    assert base != SchemaBuilder.int32().name("m").build()
    assert base != SchemaBuilder.int32().name("n").optional().build()
    assert base != SchemaBuilder.int32().name("n").default_value(3).build()
    assert Schema.INT32_SCHEMA != Schema.INT64_SCHEMA


def test_builder_rejects_misuse() -> None:
    with pytest.raises(SchemaBuilderError, match="name has already been set"):
        SchemaBuilder.string().name("a").name("b")
    with pytest.raises(SchemaBuilderError, match="duplication"):
        SchemaBuilder.struct().field("a", Schema.INT8_SCHEMA).field("a", Schema.INT8_SCHEMA)
    with pytest.raises(SchemaBuilderError, match="Cannot create fields"):
        SchemaBuilder.int8().field("a", Schema.INT8_SCHEMA)
    with pytest.raises(DataError):
        SchemaBuilder.int8().default_value(1000)
    with pytest.raises(DataError):
        Schema.STRING_SCHEMA.fields  # noqa: B018


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        (Schema.INT8_SCHEMA, 127, 128),
        (Schema.INT16_SCHEMA, -32768, -32769),
        (Schema.INT32_SCHEMA, 2**31 - 1, 2**31),
        (Schema.INT64_SCHEMA, -(2**63), True),
        (Schema.FLOAT64_SCHEMA, 1.5, 1),
        (Schema.BOOLEAN_SCHEMA, False, 0),
        (Schema.STRING_SCHEMA, "x", b"x"),
        (Schema.BYTES_SCHEMA, b"x", "x"),
        (SchemaBuilder.array(Schema.INT8_SCHEMA).build(), [1, 2], [1, 300]),
        (SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(), {"a": 1}, {1: 1}),
    ],
)
def test_validate_value_by_type(schema: Schema, good: object, bad: object) -> None:
    schema.validate_value(good)
    with pytest.raises(DataError):
        schema.validate_value(bad)


def test_null_only_for_optional() -> None:
    Schema.OPTIONAL_INT32_SCHEMA.validate_value(None)
    with pytest.raises(DataError, match="null used for required field"):
        Schema.INT32_SCHEMA.validate_value(None)


def test_struct_put_get_default_and_validate() -> None:
    schema = (
        SchemaBuilder.struct()
        .field("a", Schema.INT32_SCHEMA)
        .field("b", SchemaBuilder.string().default_value("dflt").build())
        .build()
    )
    struct = Struct(schema).put("a", 1)
    assert struct.get("b") == "dflt"
    assert struct.get_without_default("b") is None
    struct.validate()
    assert struct.to_dict() == {"a": 1, "b": "dflt"}
    assert repr(struct) == "Struct{a=1,b=None}"
    with pytest.raises(DataError):
        struct.put("a", "not an int")
    with pytest.raises(DataError, match="not a valid field name"):
        struct.put("zz", 1)
    with pytest.raises(DataError, match='required field: "a"'):
        Struct(schema).validate()
    assert Struct(schema).put("a", 1) == struct


def test_nested_struct_must_have_the_field_schema() -> None:
    inner = SchemaBuilder.struct().field("x", Schema.INT8_SCHEMA).build()
    other = SchemaBuilder.struct().field("y", Schema.INT8_SCHEMA).build()
    outer = SchemaBuilder.struct().field("inner", inner).build()
    Struct(outer).put("inner", Struct(inner).put("x", 1))
    with pytest.raises(DataError, match="do not match"):
        Struct(outer).put("inner", Struct(other).put("y", 1))


@pytest.mark.parametrize(
    ("value", "scale", "encoded"),
    [
        ("0", 0, "00"),
        ("1.27", 2, "7f"),
        ("1.28", 2, "0080"),
        ("-1.28", 2, "80"),
        ("-1.29", 2, "ff7f"),
        ("12345678901234567890.123", 3, "029d42b64e76714244cb"),
    ],
)
def test_decimal_is_java_bigdecimal_unscaled_bytes(value: str, scale: int, encoded: str) -> None:
    schema = Decimal.schema(scale)
    assert schema.parameters == {"scale": str(scale)}
    assert schema.name == "org.apache.kafka.connect.data.Decimal"
    raw = Decimal.from_logical(schema, decimal.Decimal(value))
    assert raw.hex() == encoded
    assert Decimal.to_logical(schema, raw) == decimal.Decimal(value)
    assert str(Decimal.to_logical(schema, raw)) == value


def test_decimal_scale_must_match() -> None:
    with pytest.raises(DataError, match="mismatching scale"):
        Decimal.from_logical(Decimal.schema(2), decimal.Decimal("1.5"))


def test_date_time_timestamp_round_trip() -> None:
    day = datetime.date(2024, 2, 29)
    assert Date.from_logical(Date.SCHEMA, day) == 19782
    assert Date.to_logical(Date.SCHEMA, 19782) == day
    noon = datetime.time(12, 0, 1, 500_000)
    assert Time.from_logical(Time.SCHEMA, noon) == 43_201_500
    assert Time.to_logical(Time.SCHEMA, 43_201_500) == noon
    instant = datetime.datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=datetime.UTC)
    assert Timestamp.from_logical(Timestamp.SCHEMA, instant) == 1704164645678
    assert Timestamp.from_logical(Timestamp.SCHEMA, instant.replace(tzinfo=None)) == 1704164645678
    assert Timestamp.to_logical(Timestamp.SCHEMA, 1704164645678) == instant
    assert Timestamp.SCHEMA.version == 1
    assert Timestamp.SCHEMA.type is Type.INT64


def test_logical_values_are_checked_by_python_type() -> None:
    Date.SCHEMA.validate_value(datetime.date(2020, 1, 1))
    with pytest.raises(DataError):
        Date.SCHEMA.validate_value(datetime.datetime(2020, 1, 1))
    with pytest.raises(DataError):
        Timestamp.SCHEMA.validate_value(0)
    Decimal.schema(1).validate_value(decimal.Decimal("1.0"))
