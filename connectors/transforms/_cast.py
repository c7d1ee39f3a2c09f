"""Cast: change the type of fields, or of the whole key or value.

Kafka's ``Cast$Key``/``$Value`` with ``spec`` either ``field:type,field:type`` or one
``type`` for the whole (primitive) key or value. Types: int8, int16, int32, int64,
float32, float64, boolean, string. Integer casts wrap like Java's narrowing casts, float
to integer truncates, strings parse strictly, booleans become 1/0 and numbers become
``value != 0``; anything cast to string prints as Java would (bytes as base64).
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

from tidal.connectors._java import java_to_string, to_float32
from tidal.connectors.api import ConnectRecord, DataError, Schema, SchemaBuilder, Struct, Type
from tidal.connectors.config import NO_DEFAULT, ConfigDef, ConfigError, ConfigType, Importance

from ._base import KeyOrValueTransformation, key_and_value_variants
from ._util import (
    REPLACE_NULL_WITH_DEFAULT,
    SchemaCache,
    copy_schema_basics,
    define_replace_null,
    require_map,
    require_struct,
    struct_field_value,
)

__all__ = ["Cast"]

_TARGETS = {
    "int8": Type.INT8,
    "int16": Type.INT16,
    "int32": Type.INT32,
    "int64": Type.INT64,
    "float32": Type.FLOAT32,
    "float64": Type.FLOAT64,
    "boolean": Type.BOOLEAN,
    "string": Type.STRING,
}
_SOURCES = {*_TARGETS.values(), Type.BYTES}
_BITS = {Type.INT8: 8, Type.INT16: 16, Type.INT32: 32, Type.INT64: 64}
_WHOLE_VALUE = object()


def _config() -> ConfigDef:
    return define_replace_null(
        ConfigDef().define(
            "spec", ConfigType.LIST, NO_DEFAULT, None, Importance.HIGH,
            "List of fields and the type to cast them to of the form field1:type,field2:type to "
            "cast fields of Maps or Structs. A single type to cast the entire value. Valid types "
            "are int8, int16, int32, int64, float32, float64, boolean, and string. Note that "
            "binary fields can only be cast to string.",
        )
    )  # fmt: skip


def _wrap(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def cast_value(value: Any, target: Type) -> Any:
    """``value`` cast to ``target`` by Kafka's ``Cast.castValueToType`` rules."""
    if value is None:
        return None
    if target is Type.STRING:
        if isinstance(value, bytes | bytearray | memoryview):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        return java_to_string(value)
    if isinstance(value, bytes | bytearray | memoryview | list | dict | Struct):
        raise DataError(f"Unexpected type in Cast transformation: {type(value).__name__}")
    if target is Type.BOOLEAN:
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return value != 0
    if target in _BITS:
        if isinstance(value, bool):
            return 1 if value else 0
        if isinstance(value, str):
            try:
                number = int(value)
            except ValueError as exc:
                raise DataError(f"Value {value!r} is not a valid {target.value}") from exc
            if _wrap(number, _BITS[target]) != number:
                raise DataError(f"Value {value!r} is out of range for {target.value}")
            return number
        return _wrap(int(value), _BITS[target])
    real: float
    if isinstance(value, bool):
        real = 1.0 if value else 0.0
    elif isinstance(value, str):
        try:
            real = float(value)
        except ValueError as exc:
            raise DataError(f"Value {value!r} is not a valid {target.value}") from exc
    else:
        real = float(value)
    return to_float32(real) if target is Type.FLOAT32 else real


class Cast(KeyOrValueTransformation[ConnectRecord]):
    """Cast fields (or the whole key or value) to other primitive types."""

    kafka_name = "org.apache.kafka.connect.transforms.Cast"
    Key: ClassVar[type[Cast]]
    Value: ClassVar[type[Cast]]

    def config(self) -> ConfigDef:
        """Cast's configs."""
        return _config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``spec``."""
        parsed = _config().parse(configs)
        spec: list[str] = parsed["spec"]
        if not spec:
            raise ConfigError("spec", "", "Must specify at least one field to cast.")
        self.casts: dict[Any, Type] = {}
        for item in spec:
            parts = item.split(":")
            if len(parts) == 1 and len(spec) == 1:
                self.casts[_WHOLE_VALUE] = self._target(parts[0], spec)
            elif len(parts) == 2 and parts[0]:
                self.casts[parts[0]] = self._target(parts[1], spec)
            else:
                raise ConfigError(
                    "spec",
                    spec,
                    "Cast transformation must specify a list of field:type pairs "
                    "or a single type to cast the whole value to",
                )
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        self._schemas = SchemaCache()

    @staticmethod
    def _target(name: str, spec: list[str]) -> Type:
        target = _TARGETS.get(name.strip().lower())
        if target is None:
            raise ConfigError("spec", spec, f"Invalid type found in casting spec: {name}")
        return target

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with the configured casts applied."""
        value = self.operating_value(record)
        schema = self.operating_schema(record)
        whole = self.casts.get(_WHOLE_VALUE)
        if whole is not None:
            if schema is not None:
                _check_source(schema)
                schema = _cast_schema(schema, whole, keep_basics=True)
            return self.new_record(record, schema, cast_value(value, whole))
        if value is None:
            return record
        if schema is None:
            source = require_map(value, "cast types")
            updated = {
                k: cast_value(v, self.casts[k]) if k in self.casts else v for k, v in source.items()
            }
            return self.new_record(record, None, updated)
        struct = require_struct(value, "cast types")
        new_schema = self._schemas.get(schema, self._updated_schema)
        result = Struct(new_schema)
        for field in schema.fields:
            original = struct_field_value(struct, field.name, self.replace_null)
            target = self.casts.get(field.name)
            result.put(field.name, original if target is None else cast_value(original, target))
        return self.new_record(record, new_schema, result)

    def _updated_schema(self, schema: Schema) -> Schema:
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        for field in schema.fields:
            target = self.casts.get(field.name)
            if target is None:
                builder.field(field.name, field.schema)
            else:
                _check_source(field.schema)
                builder.field(field.name, _cast_schema(field.schema, target))
        if schema.is_optional:
            builder.optional()
        return builder.build()


def _check_source(schema: Schema) -> None:
    if schema.type not in _SOURCES:
        raise DataError(f"Cast transformation does not support casting from {schema.type.name}")


def _cast_schema(schema: Schema, target: Type, *, keep_basics: bool = False) -> Schema:
    # A whole-value cast keeps the name, version, doc and parameters; a field cast does not.
    if schema.type is Type.BYTES and target is not Type.STRING:
        raise DataError(f"Cast transformation does not support casting from BYTES to {target.name}")
    builder = SchemaBuilder(target)
    if keep_basics:
        copy_schema_basics(schema, builder)
    if schema.is_optional:
        builder.optional()
    if schema.default_value is not None:
        builder.default_value(cast_value(schema.default_value, target))
    return builder.build()


key_and_value_variants(Cast)
