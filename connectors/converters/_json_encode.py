"""Connect data and schemas to JSON text, as Kafka's ``JsonConverter`` writes them.

The schema JSON puts its keys in Kafka's order: ``type``, then ``items`` / ``keys`` +
``values`` / ``fields``, then ``optional``, ``name``, ``version``, ``doc``, ``parameters``,
``default``; a struct field is its schema JSON followed by ``"field": <name>``. Rendered
schemas are cached per converter, like Kafka's ``fromConnectSchemaCache``.
"""

from __future__ import annotations

import base64
import datetime
import decimal
from collections import OrderedDict
from typing import Any

from tidal.connectors._java import java_double, java_float
from tidal.connectors.api import DataError, Schema, Struct, Type
from tidal.connectors.api._logical import Date, Decimal, Time, Timestamp

from ._jackson import escape_string
from ._json_compiled import Writer, compile_writer, write_schemaless

__all__ = ["JSON_TYPE_NAMES", "JsonEncoder"]

JSON_TYPE_NAMES = {
    Type.BOOLEAN: "boolean",
    Type.INT8: "int8",
    Type.INT16: "int16",
    Type.INT32: "int32",
    Type.INT64: "int64",
    Type.FLOAT32: "float",
    Type.FLOAT64: "double",
    Type.BYTES: "bytes",
    Type.STRING: "string",
    Type.ARRAY: "array",
    Type.MAP: "map",
    Type.STRUCT: "struct",
}


class JsonEncoder:
    """Writes Connect values (with or without a schema) as Kafka-identical JSON text."""

    __slots__ = (
        "_cache",
        "_cache_size",
        "_writers",
        "decimal_numeric",
        "replace_null_with_default",
    )

    def __init__(
        self,
        *,
        decimal_numeric: bool = False,
        replace_null_with_default: bool = True,
        cache_size: int = 1000,
    ) -> None:
        self.decimal_numeric = decimal_numeric
        self.replace_null_with_default = replace_null_with_default
        self._cache: OrderedDict[Schema, str] = OrderedDict()
        self._cache_size = cache_size
        self._writers: dict[Schema, Writer] = {}

    def writer(self, schema: Schema) -> Writer:
        """The compiled writer of ``schema`` (cached)."""
        found = self._writers.get(schema)
        if found is None:
            if len(self._writers) >= self._cache_size:
                self._writers.clear()
            found = compile_writer(
                schema,
                self.writer,
                decimal_numeric=self.decimal_numeric,
                replace=self.replace_null_with_default,
            )
            self._writers[schema] = found
        return found

    def envelope(self, schema: Schema | None, value: Any) -> str:
        """``{"schema":...,"payload":...}``."""
        out = ['{"schema":', self.schema_json(schema), ',"payload":']
        self.write(schema, value, out)
        out.append("}")
        return "".join(out)

    def bare(self, schema: Schema | None, value: Any) -> str:
        """The payload alone (``schemas.enable=false``)."""
        out: list[str] = []
        self.write(schema, value, out)
        return "".join(out)

    def schema_json(self, schema: Schema | None) -> str:
        """The JSON text of ``schema`` (``null`` for None)."""
        if schema is None:
            return "null"
        cached = self._cache.get(schema)
        if cached is not None:
            self._cache.move_to_end(schema)
            return cached
        text = "".join(self._schema_parts(schema))
        self._cache[schema] = text
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return text

    def _schema_parts(self, schema: Schema, field: str | None = None) -> list[str]:
        out = ['{"type":"', JSON_TYPE_NAMES[schema.type], '"']
        if schema.type is Type.ARRAY:
            assert schema.value_schema is not None
            out += [',"items":', self.schema_json(schema.value_schema)]
        elif schema.type is Type.MAP:
            assert schema.key_schema is not None
            assert schema.value_schema is not None
            out += [',"keys":', self.schema_json(schema.key_schema)]
            out += [',"values":', self.schema_json(schema.value_schema)]
        elif schema.type is Type.STRUCT:
            out.append(',"fields":[')
            for i, item in enumerate(schema.fields):
                if i:
                    out.append(",")
                out += self._schema_parts(item.schema, item.name)
            out.append("]")
        out.append(',"optional":true' if schema.is_optional else ',"optional":false')
        if schema.name is not None:
            out += [',"name":', escape_string(schema.name)]
        if schema.version is not None:
            out += [',"version":', str(schema.version)]
        if schema.doc is not None:
            out += [',"doc":', escape_string(schema.doc)]
        if schema.parameters is not None:
            params = ",".join(
                escape_string(k) + ":" + escape_string(v) for k, v in schema.parameters.items()
            )
            out += [',"parameters":{', params, "}"]
        if schema.default_value is not None:
            out.append(',"default":')
            self.write(schema, schema.default_value, out)
        if field is not None:
            out += [',"field":', escape_string(field)]
        out.append("}")
        return out

    def write(self, schema: Schema | None, value: Any, out: list[str]) -> None:
        """Append the JSON text of ``value`` (Kafka's ``convertToJson``) to ``out``."""
        if schema is not None:
            self.writer(schema)(value, out)
        else:
            write_schemaless(value, out)

    def write_general(self, schema: Schema | None, value: Any, out: list[str]) -> None:
        """``write`` without compiled writers: the reference the compiled ones follow."""
        if value is None:
            if schema is None:
                out.append("null")
            elif schema.default_value is not None and self.replace_null_with_default:
                self.write_general(schema, schema.default_value, out)
            elif schema.is_optional:
                out.append("null")
            else:
                raise DataError(
                    "Conversion error: null value for field that is required and has no "
                    "default value"
                )
            return
        if (
            schema is not None
            and schema.name is not None
            and self._write_logical(schema, value, out)
        ):
            return
        kind = schema.type if schema is not None else _infer_type(value)
        if kind in (Type.INT8, Type.INT16, Type.INT32, Type.INT64):
            _check(value, int, kind)
            out.append(str(int(value)))
        elif kind is Type.FLOAT64:
            _check(value, float, kind)
            out.append(java_double(value))
        elif kind is Type.FLOAT32:
            _check(value, float, kind)
            out.append(java_float(value))
        elif kind is Type.BOOLEAN:
            _check(value, bool, kind)
            out.append("true" if value else "false")
        elif kind is Type.STRING:
            _check(value, str, kind)
            out.append(escape_string(value))
        elif kind is Type.BYTES:
            _check(value, (bytes, bytearray, memoryview), kind)
            out += ['"', base64.b64encode(value).decode("ascii"), '"']
        elif kind is Type.ARRAY:
            _check(value, (list, tuple), kind)
            items = schema.value_schema if schema is not None else None
            out.append("[")
            for i, item in enumerate(value):
                if i:
                    out.append(",")
                self.write_general(items, item, out)
            out.append("]")
        elif kind is Type.MAP:
            self._write_map(schema, value, out)
        else:
            self._write_struct(schema, value, out)

    def _write_map(self, schema: Schema | None, value: Any, out: list[str]) -> None:
        _check(value, dict, Type.MAP)
        key_schema = schema.key_schema if schema is not None else None
        value_schema = schema.value_schema if schema is not None else None
        if schema is None:
            object_mode = all(isinstance(k, str) for k in value)
        else:
            assert key_schema is not None
            object_mode = key_schema.type is Type.STRING
        out.append("{" if object_mode else "[")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            if object_mode:
                if not isinstance(key, str):
                    raise DataError(f"Invalid type for STRING: {type(key).__name__}")
                out += [escape_string(key), ":"]
                self.write_general(value_schema, item, out)
            else:
                out.append("[")
                self.write_general(key_schema, key, out)
                out.append(",")
                self.write_general(value_schema, item, out)
                out.append("]")
        out.append("}" if object_mode else "]")

    def _write_struct(self, schema: Schema | None, value: Any, out: list[str]) -> None:
        if not isinstance(value, Struct):
            raise DataError(f"Invalid type for STRUCT: {type(value).__name__}")
        if value.schema != schema:
            raise DataError("Mismatching schema.")
        out.append("{")
        for i, field in enumerate(value.schema.fields):
            if i:
                out.append(",")
            out += [escape_string(field.name), ":"]
            item = (
                value.get(field)
                if self.replace_null_with_default
                else value.get_without_default(field)
            )
            self.write_general(field.schema, item, out)
        out.append("}")

    def _write_logical(self, schema: Schema, value: Any, out: list[str]) -> bool:
        name = schema.name
        if name == Decimal.LOGICAL_NAME:
            if not isinstance(value, decimal.Decimal):
                raise DataError(
                    f"Invalid type for Decimal, expected Decimal but was {type(value).__name__}"
                )
            if self.decimal_numeric:
                out.append(str(value))
            else:
                raw = Decimal.from_logical(schema, value)
                out += ['"', base64.b64encode(raw).decode("ascii"), '"']
            return True
        if name == Date.LOGICAL_NAME:
            out.append(str(Date.from_logical(schema, _expect_type(value, datetime.date, "Date"))))
            return True
        if name == Time.LOGICAL_NAME:
            out.append(str(Time.from_logical(schema, _expect_type(value, datetime.time, "Time"))))
            return True
        if name == Timestamp.LOGICAL_NAME:
            instant = _expect_type(value, datetime.datetime, "Timestamp")
            out.append(str(Timestamp.from_logical(schema, instant)))
            return True
        return False


def _expect_type(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind):
        raise DataError(
            f"Invalid type for {name}, expected {kind.__name__} but was {type(value).__name__}"
        )
    return value


def _check(value: Any, kinds: type | tuple[type, ...], schema_type: Type) -> None:
    if not isinstance(value, kinds) or (kinds is int and isinstance(value, bool)):
        raise DataError(f"Invalid type for {schema_type.name}: {type(value).__name__}")


def _infer_type(value: Any) -> Type:
    """The schema type Kafka infers for a schemaless value (``ConnectSchema.schemaType``)."""
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, int):
        return Type.INT64
    if isinstance(value, float):
        return Type.FLOAT64
    if isinstance(value, str):
        return Type.STRING
    if isinstance(value, bytes | bytearray | memoryview):
        return Type.BYTES
    if isinstance(value, list | tuple):
        return Type.ARRAY
    if isinstance(value, dict):
        return Type.MAP
    if isinstance(value, Struct):
        return Type.STRUCT
    raise DataError(f"Python class {type(value).__name__} does not have corresponding schema type.")
