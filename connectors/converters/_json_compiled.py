"""Per-schema JSON writers and readers, compiled once and cached by the converter.

A record's schema rarely changes, so the converter turns each schema into a closure that
writes (or reads) exactly that shape: struct field names are pre-escaped, defaults
pre-rendered, type checks reduced to one class test on the fast path. The behaviour is that
of the general functions in ``_json_encode``/``_json_decode`` (the golden and property
tests run through these closures).
"""

from __future__ import annotations

import base64
import datetime
import decimal
from collections.abc import Callable
from typing import Any

from tidal.connectors._java import java_double, java_float, to_float32
from tidal.connectors.api import DataError, Schema, Struct, Type
from tidal.connectors.api._logical import Date, Decimal, Time, Timestamp

from ._jackson import escape_string, java_hashmap_order

__all__ = ["Reader", "Writer", "compile_reader", "compile_writer", "write_schemaless"]

Writer = Callable[[Any, list[str]], None]
Reader = Callable[[Any], Any]

_INT_RANGES = {Type.INT8: 8, Type.INT16: 16, Type.INT32: 32, Type.INT64: 64}


def _wrong(kind: str, value: Any) -> DataError:
    return DataError(f"Invalid type for {kind}: {type(value).__name__}")


def compile_writer(
    schema: Schema, writer_of: Callable[[Schema], Writer], *, decimal_numeric: bool, replace: bool
) -> Writer:
    """A function appending the JSON of a value of ``schema`` (null and default included)."""
    inner = _non_null_writer(schema, writer_of, decimal_numeric)
    if schema.default_value is not None and replace:
        rendered: list[str] = []
        inner(schema.default_value, rendered)
        default_text = "".join(rendered)

        def write_or_default(value: Any, out: list[str]) -> None:
            if value is None:
                out.append(default_text)
            else:
                inner(value, out)

        return write_or_default
    if schema.is_optional:

        def write_or_null(value: Any, out: list[str]) -> None:
            if value is None:
                out.append("null")
            else:
                inner(value, out)

        return write_or_null

    def write_required(value: Any, out: list[str]) -> None:
        if value is None:
            raise DataError(
                "Conversion error: null value for field that is required and has no default value"
            )
        inner(value, out)

    return write_required


def _non_null_writer(
    schema: Schema, writer_of: Callable[[Schema], Writer], decimal_numeric: bool
) -> Writer:
    name, kind = schema.name, schema.type
    if name == Decimal.LOGICAL_NAME:

        def write_decimal(value: Any, out: list[str]) -> None:
            if not isinstance(value, decimal.Decimal):
                raise DataError(
                    f"Invalid type for Decimal, expected Decimal but was {type(value).__name__}"
                )
            if decimal_numeric:
                out.append(str(value))
            else:
                out.append(
                    '"' + base64.b64encode(Decimal.from_logical(schema, value)).decode() + '"'
                )

        return write_decimal
    for logical, python_type in (
        (Date, datetime.date),
        (Time, datetime.time),
        (Timestamp, datetime.datetime),
    ):
        if name == logical.LOGICAL_NAME:
            to_int = logical.from_logical

            def write_instant(
                value: Any, out: list[str], _to: Any = to_int, _t: type = python_type
            ) -> None:
                if not isinstance(value, _t):
                    raise DataError(f"Invalid type for {_t.__name__}: {type(value).__name__}")
                out.append(str(_to(schema, value)))

            return write_instant
    if kind in _INT_RANGES:

        def write_int(value: Any, out: list[str]) -> None:
            if value.__class__ is not int and (
                not isinstance(value, int) or isinstance(value, bool)
            ):
                raise _wrong(kind.name, value)
            out.append(str(int(value)))

        return write_int
    if kind in (Type.FLOAT32, Type.FLOAT64):
        to_text = java_float if kind is Type.FLOAT32 else java_double

        def write_float(value: Any, out: list[str]) -> None:
            if not isinstance(value, float):
                raise _wrong(kind.name, value)
            out.append(to_text(value))

        return write_float
    if kind is Type.BOOLEAN:

        def write_bool(value: Any, out: list[str]) -> None:
            if value is True:
                out.append("true")
            elif value is False:
                out.append("false")
            else:
                raise _wrong("BOOLEAN", value)

        return write_bool
    if kind is Type.STRING:

        def write_string(value: Any, out: list[str]) -> None:
            if not isinstance(value, str):
                raise _wrong("STRING", value)
            out.append(escape_string(value))

        return write_string
    if kind is Type.BYTES:

        def write_bytes(value: Any, out: list[str]) -> None:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise _wrong("BYTES", value)
            out.append('"' + base64.b64encode(value).decode("ascii") + '"')

        return write_bytes
    if kind is Type.ARRAY:
        assert schema.value_schema is not None
        item = writer_of(schema.value_schema)

        def write_array(value: Any, out: list[str]) -> None:
            if not isinstance(value, list | tuple):
                raise _wrong("ARRAY", value)
            out.append("[")
            for i, element in enumerate(value):
                if i:
                    out.append(",")
                item(element, out)
            out.append("]")

        return write_array
    if kind is Type.MAP:
        return _map_writer(schema, writer_of)
    return _struct_writer(schema, writer_of)


def _map_writer(schema: Schema, writer_of: Callable[[Schema], Writer]) -> Writer:
    assert schema.key_schema is not None
    assert schema.value_schema is not None
    key_writer, value_writer = writer_of(schema.key_schema), writer_of(schema.value_schema)
    if schema.key_schema.type is Type.STRING:

        def write_object(value: Any, out: list[str]) -> None:
            if not isinstance(value, dict):
                raise _wrong("MAP", value)
            out.append("{")
            for i, (key, item) in enumerate(value.items()):
                if not isinstance(key, str):
                    raise _wrong("STRING", key)
                out.append(("," if i else "") + escape_string(key) + ":")
                value_writer(item, out)
            out.append("}")

        return write_object

    def write_pairs(value: Any, out: list[str]) -> None:
        if not isinstance(value, dict):
            raise _wrong("MAP", value)
        out.append("[")
        for i, (key, item) in enumerate(value.items()):
            out.append(",[" if i else "[")
            key_writer(key, out)
            out.append(",")
            value_writer(item, out)
            out.append("]")
        out.append("]")

    return write_pairs


def _struct_writer(schema: Schema, writer_of: Callable[[Schema], Writer]) -> Writer:
    parts = [
        (("," if i else "{") + escape_string(f.name) + ":", writer_of(f.schema), f.index)
        for i, f in enumerate(schema.fields)
    ]
    closing = "}" if parts else "{}"

    def write_struct(value: Any, out: list[str]) -> None:
        if not isinstance(value, Struct):
            raise _wrong("STRUCT", value)
        if value.schema is not schema and value.schema != schema:
            raise DataError("Mismatching schema.")
        values = value.values
        for prefix, write, index in parts:
            out.append(prefix)
            write(values[index], out)
        out.append(closing)

    return write_struct


def compile_reader(
    schema: Schema,
    reader_of: Callable[[Schema], Reader],
    non_null: Callable[[Schema, Any], Any],
    *,
    replace: bool,
) -> Reader:
    """A function turning a parsed JSON node into a value of ``schema``."""
    inner = _non_null_reader(schema, reader_of, non_null)
    default = schema.default_value
    if default is not None and replace:
        return lambda node: default if node is None else inner(node)
    if schema.is_optional:
        return lambda node: None if node is None else inner(node)
    message = f"Invalid null value for required {schema.type.name} field"

    def read_required(node: Any) -> Any:
        if node is None:
            raise DataError(message)
        return inner(node)

    return read_required


def _non_null_reader(
    schema: Schema, reader_of: Callable[[Schema], Reader], non_null: Callable[[Schema, Any], Any]
) -> Reader:
    kind = schema.type
    if schema.name is None and kind in _INT_RANGES:
        bits = _INT_RANGES[kind]
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

        def read_int(node: Any) -> Any:
            if node.__class__ is int and low <= node <= high:
                return node
            return non_null(schema, node)

        return read_int
    if schema.name is None and kind is Type.STRING:
        return lambda node: node if node.__class__ is str else None
    if schema.name is None and kind is Type.FLOAT64:
        return lambda node: node + 0.0 if node.__class__ is float else non_null(schema, node)
    if schema.name is None and kind is Type.FLOAT32:
        return lambda node: (
            to_float32(node) + 0.0 if node.__class__ is float else non_null(schema, node)
        )
    if kind is Type.ARRAY:
        assert schema.value_schema is not None
        item = reader_of(schema.value_schema)
        return lambda node: [item(x) for x in node] if isinstance(node, list) else []
    if kind is Type.MAP and schema.key_schema is not None and schema.key_schema.type is Type.STRING:
        assert schema.value_schema is not None
        value_reader = reader_of(schema.value_schema)

        def read_object(node: Any) -> Any:
            if not isinstance(node, dict):
                return non_null(schema, node)  # the general path raises Kafka's error
            order = java_hashmap_order(node)
            keys = node if order is None else order
            return {k: value_reader(node[k]) for k in keys}

        return read_object
    if kind is Type.STRUCT:
        return _struct_reader(schema, reader_of, non_null)
    return lambda node: non_null(schema, node)


def _struct_reader(
    schema: Schema, reader_of: Callable[[Schema], Reader], non_null: Callable[[Schema, Any], Any]
) -> Reader:
    fields = [(f.name, reader_of(f.schema)) for f in schema.fields]
    required = [
        (f.index, f.name, f.schema.type.name)
        for f in schema.fields
        if not f.schema.is_optional and f.schema.default_value is None
    ]

    def read_struct(node: Any) -> Any:
        if not isinstance(node, dict):
            return non_null(schema, node)  # the general path raises Kafka's error
        get = node.get
        values = [read(get(name)) for name, read in fields]
        for index, name, type_name in required:
            if values[index] is None:
                raise DataError(
                    f'Invalid value: null used for required field: "{name}", '
                    f"schema type: {type_name}"
                )
        return Struct.from_values(schema, values)

    return read_struct


def write_schemaless(value: Any, out: list[str]) -> None:
    """Append the JSON of a schemaless value (``convertToJson`` with no schema)."""
    cls = value.__class__
    if cls is str:
        out.append(escape_string(value))
    elif cls is int:
        out.append(str(value))
    elif value is None:
        out.append("null")
    elif cls is dict:
        if all(k.__class__ is str for k in value):
            first = True
            for key, item in value.items():
                out.append(("{" if first else ",") + escape_string(key) + ":")
                first = False
                write_schemaless(item, out)
            out.append("}" if not first else "{}")
        else:
            out.append("[")
            for i, (key, item) in enumerate(value.items()):
                out.append(",[" if i else "[")
                write_schemaless(key, out)
                out.append(",")
                write_schemaless(item, out)
                out.append("]")
            out.append("]")
    elif cls is list or cls is tuple:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            write_schemaless(item, out)
        out.append("]")
    elif cls is float:
        out.append(java_double(value))
    elif value is True or value is False:
        out.append("true" if value else "false")
    else:
        _write_schemaless_other(value, out)


def _write_schemaless_other(value: Any, out: list[str]) -> None:
    if isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(java_double(value))
    elif isinstance(value, str):
        out.append(escape_string(str(value)))
    elif isinstance(value, bytes | bytearray | memoryview):
        out.append('"' + base64.b64encode(value).decode("ascii") + '"')
    elif isinstance(value, dict):
        write_schemaless(dict(value), out)
    elif isinstance(value, list | tuple):
        write_schemaless(list(value), out)
    elif isinstance(value, Struct):
        raise DataError("Mismatching schema.")
    else:
        raise DataError(
            f"Python class {type(value).__name__} does not have corresponding schema type."
        )
