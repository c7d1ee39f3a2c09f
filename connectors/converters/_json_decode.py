"""JSON text to Connect schemas and data, as Kafka's ``JsonConverter.toConnectData`` reads it.

Parsing uses orjson; documents that carry a Decimal schema are parsed with exact decimals
instead (Kafka's deserializer keeps numbers as ``BigDecimal``). Maps come back in the order
Java's ``HashMap`` would iterate them, so writing them again gives Kafka's bytes.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
from collections import OrderedDict
from typing import Any

import orjson

from tidal.connectors._java import to_float32
from tidal.connectors.api import DataError, Schema, SchemaBuilder, Struct, Type
from tidal.connectors.api._logical import Date, Decimal, Time, Timestamp

from ._jackson import java_hashmap_order
from ._json_compiled import Reader, compile_reader

__all__ = ["JsonDecoder", "parse_json"]

_BUILDERS = {
    "boolean": SchemaBuilder.bool,
    "int8": SchemaBuilder.int8,
    "int16": SchemaBuilder.int16,
    "int32": SchemaBuilder.int32,
    "int64": SchemaBuilder.int64,
    "float": SchemaBuilder.float32,
    "double": SchemaBuilder.float64,
    "bytes": SchemaBuilder.bytes,
    "string": SchemaBuilder.string,
}
_DECIMAL_MARKER = Decimal.LOGICAL_NAME.encode()


def parse_json(data: bytes) -> Any:
    """Parse a JSON document; numbers stay exact when a Decimal schema is present."""
    try:
        if _DECIMAL_MARKER in data:
            return json.loads(data, parse_float=decimal.Decimal)
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        try:  # integers beyond 64 bits, which orjson refuses
            return json.loads(data)
        except ValueError as exc:
            raise DataError(
                "Converting byte[] to Kafka Connect data failed due to serialization error: "
                + str(exc)
            ) from exc
    except ValueError as exc:
        raise DataError(
            "Converting byte[] to Kafka Connect data failed due to serialization error: " + str(exc)
        ) from exc


def _node_type(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float | decimal.Decimal):
        return "NUMBER"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, list):
        return "ARRAY"
    return "OBJECT"


def _wrap(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _integral(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        return 0  # Jackson's intValue() of a non-number
    return int(value)


class JsonDecoder:
    """Turns parsed JSON (schema JSON and payload) into Connect schemas and values."""

    __slots__ = ("_cache", "_cache_size", "_readers", "replace_null_with_default")

    def __init__(self, cache_size: int = 1000, *, replace_null_with_default: bool = True) -> None:
        self._cache: OrderedDict[bytes, Schema] = OrderedDict()
        self._cache_size = cache_size
        self.replace_null_with_default = replace_null_with_default
        self._readers: dict[Schema, Reader] = {}

    def reader(self, schema: Schema) -> Reader:
        """The compiled reader of ``schema`` (cached)."""
        found = self._readers.get(schema)
        if found is None:
            if len(self._readers) >= self._cache_size:
                self._readers.clear()
            found = compile_reader(
                schema, self.reader, self.non_null_value, replace=self.replace_null_with_default
            )
            self._readers[schema] = found
        return found

    def schema(self, node: Any) -> Schema | None:
        """The Connect schema described by a schema JSON node (None for ``null``)."""
        if node is None:
            return None
        key = orjson.dumps(node, default=str)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        schema = self._schema(node)
        self._cache[key] = schema
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return schema

    def _schema(self, node: Any) -> Schema:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise DataError("Schema must contain 'type' field")
        kind = node["type"]
        if kind in _BUILDERS:
            builder = _BUILDERS[kind]()
        elif kind == "array":
            items = node.get("items")
            if items is None:
                raise DataError("Array schema did not specify the element type")
            builder = SchemaBuilder.array(self._schema(items))
        elif kind == "map":
            if "keys" not in node:
                raise DataError("Map schema did not specify the key type")
            if "values" not in node:
                raise DataError("Map schema did not specify the value type")
            builder = SchemaBuilder.map(self._schema(node["keys"]), self._schema(node["values"]))
        elif kind == "struct":
            builder = SchemaBuilder.struct()
            fields = node.get("fields")
            if not isinstance(fields, list):
                raise DataError('Struct schema\'s "fields" argument is not an array.')
            for field in fields:
                name = field.get("field") if isinstance(field, dict) else None
                if not isinstance(name, str):
                    raise DataError("Struct schema's field name not specified properly")
                builder.field(name, self._schema(field))
        else:
            raise DataError("Unknown schema type: " + kind)
        if node.get("optional") is True:
            builder.optional()
        if isinstance(node.get("name"), str):
            builder.name(node["name"])
        version = node.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            builder.version(version)
        if isinstance(node.get("doc"), str):
            builder.doc(node["doc"])
        params = node.get("parameters")
        if isinstance(params, dict):
            for key, value in params.items():
                if not isinstance(value, str):
                    raise DataError("Schema parameters must have string values.")
                builder.parameter(key, value)
        if "default" in node:
            builder.default_value(self.value(builder.build(), node["default"]))
        return builder.build()

    def value(self, schema: Schema | None, node: Any) -> Any:
        """The Connect value of a payload node (Kafka's ``convertToConnect``)."""
        if schema is None:
            return self._schemaless(node)
        return self.reader(schema)(node)

    def value_general(self, schema: Schema | None, node: Any) -> Any:
        """``value`` without compiled readers: the reference the compiled ones follow."""
        if schema is None:
            return self._schemaless(node)
        if node is None:
            if schema.default_value is not None and self.replace_null_with_default:
                return schema.default_value
            if schema.is_optional:
                return None
            raise DataError(f"Invalid null value for required {schema.type.name} field")
        return self.non_null_value(schema, node)

    def non_null_value(self, schema: Schema, node: Any) -> Any:
        """The value of a non-null payload node of ``schema``."""
        if schema.name is not None:
            logical = _logical(schema, node)
            if logical is not _NOT_LOGICAL:
                return logical
        kind = schema.type
        if kind is Type.BOOLEAN:
            return node is True
        if kind is Type.INT8:
            return _wrap(_integral(node), 8)
        if kind is Type.INT16:
            return _wrap(_integral(node), 16)
        if kind is Type.INT32:
            return _wrap(_integral(node), 32)
        if kind is Type.INT64:
            return _wrap(_integral(node), 64)
        if kind is Type.FLOAT32:
            return to_float32(_double(node))
        if kind is Type.FLOAT64:
            return _double(node)
        if kind is Type.STRING:
            return node if isinstance(node, str) else None
        if kind is Type.BYTES:
            return _base64(node)
        if kind is Type.ARRAY:
            if not isinstance(node, list):
                return []
            return [self.value_general(schema.value_schema, item) for item in node]
        if kind is Type.MAP:
            return self._map(schema, node)
        if not isinstance(node, dict):
            raise DataError(
                "Structs should be encoded as JSON objects, but found " + _node_type(node)
            )
        result = Struct(schema)
        for field in schema.fields:
            result.put(field, self.value_general(field.schema, node.get(field.name)))
        return result

    def _map(self, schema: Schema | None, node: Any) -> dict[Any, Any]:
        key_schema = schema.key_schema if schema is not None else None
        value_schema = schema.value_schema if schema is not None else None
        result: dict[Any, Any] = {}
        if key_schema is None or key_schema.type is Type.STRING:
            if not isinstance(node, dict):
                raise DataError(
                    "Maps with string fields should be encoded as JSON objects, but found "
                    + _node_type(node)
                )
            for key, item in node.items():
                result[key] = self.value_general(value_schema, item)
        else:
            if not isinstance(node, list):
                raise DataError(
                    "Maps with non-string fields should be encoded as JSON array of tuples, "
                    "but found " + _node_type(node)
                )
            for entry in node:
                if not isinstance(entry, list):
                    raise DataError(
                        "Found invalid map entry instead of array tuple: " + _node_type(entry)
                    )
                if len(entry) != 2:
                    raise DataError(
                        f"Found invalid map entry, expected length 2 but found :{len(entry)}"
                    )
                result[self.value_general(key_schema, entry[0])] = self.value_general(
                    value_schema, entry[1]
                )
        order = java_hashmap_order(result)
        return result if order is None else {k: result[k] for k in order}

    def _schemaless(self, node: Any) -> Any:
        if isinstance(node, dict):
            return self._map(None, node)
        if isinstance(node, list):
            return [self._schemaless(item) for item in node]
        if isinstance(node, float | decimal.Decimal):
            return _double(node)
        if isinstance(node, int) and not isinstance(node, bool):
            return _wrap(node, 64)
        return node


_NOT_LOGICAL = object()


def _double(node: Any) -> float:
    # Kafka reads JSON numbers as BigDecimal, which has no negative zero: -0.0 reads as 0.0.
    if _node_type(node) != "NUMBER":
        return 0.0
    return float(node) + 0.0


def _base64(node: Any) -> bytes:
    if not isinstance(node, str):
        raise DataError("Invalid bytes field")
    try:
        return base64.b64decode(node, validate=True)
    except binascii.Error as exc:
        raise DataError("Invalid bytes field") from exc


def _logical(schema: Schema, node: Any) -> Any:
    name = schema.name
    if name == Decimal.LOGICAL_NAME:
        if isinstance(node, int | float | decimal.Decimal) and not isinstance(node, bool):
            return node if isinstance(node, decimal.Decimal) else decimal.Decimal(str(node))
        if isinstance(node, str):
            return Decimal.to_logical(schema, _base64(node))
        raise DataError(
            "Invalid type for Decimal, underlying representation should be numeric or bytes "
            "but was " + _node_type(node)
        )
    if name in (Date.LOGICAL_NAME, Time.LOGICAL_NAME, Timestamp.LOGICAL_NAME):
        if not isinstance(node, int) or isinstance(node, bool):
            what = "integral" if name == Timestamp.LOGICAL_NAME else "integer"
            raise DataError(
                f"Invalid type for {name.rsplit('.', 1)[1]}, underlying representation should "
                f"be {what} but was {_node_type(node)}"
            )
        if name == Date.LOGICAL_NAME:
            return Date.to_logical(schema, node)
        if name == Time.LOGICAL_NAME:
            return Time.to_logical(schema, node)
        return Timestamp.to_logical(schema, node)
    return _NOT_LOGICAL
