"""Flatten: nested structs and maps become top-level fields named ``outer.inner``.

Kafka's ``Flatten$Key``/``$Value`` with ``delimiter`` (default ``.``). With a schema, a
nested struct's fields become fields of the outer struct, optional when any struct on the
way is optional, keeping defaults; arrays are kept whole and maps refused (as in Kafka).
Without a schema, nested maps are flattened and everything else kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tidal.connectors.api import ConnectRecord, DataError, Schema, SchemaBuilder, Struct, Type
from tidal.connectors.config import ConfigDef, ConfigType, Importance

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

__all__ = ["Flatten"]

_PURPOSE = "flattening"


def _config() -> ConfigDef:
    return define_replace_null(
        ConfigDef().define(
            "delimiter", ConfigType.STRING, ".", None, Importance.MEDIUM,
            "Delimiter to insert between field names from the input record when generating "
            "field names for the output record",
        )
    )  # fmt: skip


def _copy_basics(schema: Schema) -> SchemaBuilder:
    if schema.type is Type.ARRAY:
        assert schema.value_schema is not None
        builder = SchemaBuilder.array(schema.value_schema)
    else:
        builder = SchemaBuilder(schema.type)
    return copy_schema_basics(schema, builder)


class Flatten(KeyOrValueTransformation[ConnectRecord]):
    """Flatten nested structs (or maps) into one level."""

    kafka_name = "org.apache.kafka.connect.transforms.Flatten"
    Key: ClassVar[type[Flatten]]
    Value: ClassVar[type[Flatten]]

    def config(self) -> ConfigDef:
        """Flatten's configs."""
        return _config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``delimiter``."""
        parsed = _config().parse(configs)
        self.delimiter: str = parsed["delimiter"]
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        self._schemas = SchemaCache()

    def _name(self, prefix: str, name: str) -> str:
        return name if not prefix else prefix + self.delimiter + name

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with its key or value flattened."""
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            if value is None:
                return self.new_record(record, None, None)
            flat: dict[str, Any] = {}
            self._flatten_map(require_map(value, _PURPOSE), "", flat)
            return self.new_record(record, None, flat)
        struct = require_struct(value, _PURPOSE) if value is not None else None
        new_schema = self._schemas.get(schema, self._flat_schema)
        if struct is None:
            return self.new_record(record, new_schema, None)
        result = Struct(new_schema)
        self._flatten_struct(struct, "", result)
        return self.new_record(record, new_schema, result)

    def _flatten_map(self, source: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
        for key, item in source.items():
            name = self._name(prefix, key)
            if isinstance(item, dict):
                self._flatten_map(item, name, out)
            elif item is None or isinstance(
                item, bool | int | float | str | bytes | bytearray | list | tuple
            ):
                out[name] = item
            else:
                raise DataError(
                    f"Flatten transformation does not support {type(item).__name__} for record "
                    f"without schemas (for field {name})."
                )

    def _flat_schema(self, schema: Schema) -> Schema:
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        default = schema.default_value if isinstance(schema.default_value, Struct) else None
        self._add_fields(schema, "", builder, schema.is_optional, default)
        return builder.build()

    def _add_fields(
        self,
        schema: Schema,
        prefix: str,
        builder: SchemaBuilder,
        optional: bool,
        parent: Struct | None,
    ) -> None:
        for field in schema.fields:
            name = self._name(prefix, field.name)
            field_optional = optional or field.schema.is_optional
            default = field.schema.default_value
            if default is None and parent is not None:
                default = parent.get(field)
            if field.schema.type is Type.STRUCT:
                nested = default if isinstance(default, Struct) else None
                self._add_fields(field.schema, name, builder, field_optional, nested)
                continue
            if field.schema.type is Type.MAP:
                raise DataError(
                    "Flatten transformation does not support MAP for record with schemas "
                    f"(for field {name})."
                )
            converted = _copy_basics(field.schema)
            if field_optional:
                converted.optional()
            if default is not None:
                converted.default_value(default)
            builder.field(name, converted.build())

    def _flatten_struct(self, struct: Struct | None, prefix: str, out: Struct) -> None:
        if struct is None:
            return
        for field in struct.schema.fields:
            name = self._name(prefix, field.name)
            if field.schema.type is Type.STRUCT:
                self._flatten_struct(struct.get(field), name, out)
            else:
                out.put(name, struct_field_value(struct, field.name, self.replace_null))


key_and_value_variants(Flatten)
