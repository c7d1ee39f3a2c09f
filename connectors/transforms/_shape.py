"""Transforms that reshape a record: ValueToKey, ExtractField, HoistField, SetSchemaMetadata.

Kafka's ``ValueToKey`` (``fields``), ``ExtractField$Key``/``$Value`` (``field``, with
``field.syntax.version=V2`` for dotted paths into nested maps and structs),
``HoistField$Key``/``$Value`` (``field``) and ``SetSchemaMetadata$Key``/``$Value``
(``schema.name``, ``schema.version``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tidal.connectors.api import ConnectRecord, DataError, Field, Schema, SchemaBuilder, Struct
from tidal.connectors.config import (
    NO_DEFAULT,
    CaseInsensitiveValidString,
    ConfigDef,
    ConfigError,
    ConfigType,
    Importance,
)

from ._base import KeyOrValueTransformation, Transformation, key_and_value_variants
from ._util import (
    NON_EMPTY_LIST,
    REPLACE_NULL_WITH_DEFAULT,
    SchemaCache,
    define_replace_null,
    require_map,
    require_schema,
    require_struct,
    struct_field_value,
)

__all__ = ["ExtractField", "HoistField", "SetSchemaMetadata", "ValueToKey"]


def _value_to_key_config() -> ConfigDef:
    return define_replace_null(
        ConfigDef().define(
            "fields", ConfigType.LIST, NO_DEFAULT, NON_EMPTY_LIST, Importance.HIGH,
            "Field names on the record value to extract as the record key.",
        )
    )  # fmt: skip


class ValueToKey(Transformation[ConnectRecord]):
    """Replace the key with a map or struct of fields taken from the value."""

    kafka_name = "org.apache.kafka.connect.transforms.ValueToKey"

    def config(self) -> ConfigDef:
        """ValueToKey's configs."""
        return _value_to_key_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``fields``."""
        parsed = _value_to_key_config().parse(configs)
        self.fields: list[str] = parsed["fields"]
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        self._schemas = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with its new key."""
        if record.value_schema is None:
            value = require_map(record.value, "copying fields from value to key")
            key = {name: value.get(name) for name in self.fields}
            return record.new_record(key_schema=None, key=key)
        struct = require_struct(record.value, "copying fields from value to key")
        key_schema = self._schemas.get(record.value_schema, self._key_schema)
        key_struct = Struct(key_schema)
        for name in self.fields:
            key_struct.put(name, struct_field_value(struct, name, self.replace_null))
        return record.new_record(key_schema=key_schema, key=key_struct)

    def _key_schema(self, value_schema: Schema) -> Schema:
        builder = SchemaBuilder.struct()
        for name in self.fields:
            field = value_schema.field(name)
            if field is None:
                raise DataError("Field does not exist: " + name)
            builder.field(name, field.schema)
        return builder.build()


def _extract_config() -> ConfigDef:
    config = ConfigDef().define(
        "field", ConfigType.STRING, NO_DEFAULT, None, Importance.MEDIUM, "Field name to extract."
    )
    define_replace_null(config)
    return config.define(
        "field.syntax.version",
        ConfigType.STRING,
        "V1",
        CaseInsensitiveValidString.in_("V1", "V2"),
        Importance.HIGH,
        "Defines the version of the syntax to access fields. If set to `V1`, then the field "
        "paths are limited to access the elements at the root level of the struct or map. If "
        "set to `V2`, the syntax will support accessing nested elements. To access nested "
        "elements, dotted notation is used. If dots are already included in the field name, "
        "then backtick pairs can be used to wrap field names containing dots. E.g. to access "
        'the subfield `baz` from a field named "foo.bar" in a struct/map the following format '
        'can be used to access its elements: "`foo.bar`.baz".',
    )


def split_path(path: str) -> list[str]:
    """A V2 field path split on dots, with backtick-quoted parts kept whole."""
    parts: list[str] = []
    current = ""
    quoted = False
    for char in path:
        if char == "`":
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


class ExtractField(KeyOrValueTransformation[ConnectRecord]):
    """Replace the key or value with one of its fields."""

    kafka_name = "org.apache.kafka.connect.transforms.ExtractField"
    Key: ClassVar[type[ExtractField]]
    Value: ClassVar[type[ExtractField]]

    def config(self) -> ConfigDef:
        """ExtractField's configs."""
        return _extract_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``field`` and ``field.syntax.version``."""
        parsed = _extract_config().parse(configs)
        self.field_name: str = parsed["field"]
        v2 = parsed["field.syntax.version"].upper() == "V2"
        self.path = split_path(self.field_name) if v2 else [self.field_name]
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record whose key or value is the extracted field."""
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            for part in self.path:
                if value is None:
                    break
                value = require_map(value, "field extraction").get(part)
            return self.new_record(record, None, value)
        if value is not None:
            require_struct(value, "field extraction")
        field: Field | None = None
        for part in self.path:
            field = (
                schema.field(part) if schema is not None and schema.type.name == "STRUCT" else None
            )
            if field is None:
                raise DataError("Unknown field: " + self.field_name)
            if value is not None:
                value = struct_field_value(value, part, self.replace_null)
            schema = field.schema
        assert field is not None
        return self.new_record(record, field.schema, value)


key_and_value_variants(ExtractField)


def _hoist_config() -> ConfigDef:
    return ConfigDef().define(
        "field", ConfigType.STRING, NO_DEFAULT, None, Importance.MEDIUM,
        "Field name for the single field that will be created in the resulting Struct or Map.",
    )  # fmt: skip


class HoistField(KeyOrValueTransformation[ConnectRecord]):
    """Wrap the key or value in a struct (or map) with a single field."""

    kafka_name = "org.apache.kafka.connect.transforms.HoistField"
    Key: ClassVar[type[HoistField]]
    Value: ClassVar[type[HoistField]]

    def config(self) -> ConfigDef:
        """HoistField's configs."""
        return _hoist_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``field``."""
        self.field_name: str = _hoist_config().parse(configs)["field"]
        self._schemas = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with its key or value wrapped."""
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            return self.new_record(record, None, {self.field_name: value})
        wrapped = self._schemas.get(
            schema, lambda s: SchemaBuilder.struct().field(self.field_name, s).build()
        )
        return self.new_record(record, wrapped, Struct(wrapped).put(self.field_name, value))


key_and_value_variants(HoistField)


def _metadata_config() -> ConfigDef:
    config = (
        ConfigDef()
        .define("schema.name", ConfigType.STRING, None, None, Importance.HIGH,
                "Schema name to set.")
        .define("schema.version", ConfigType.INT, None, None, Importance.HIGH,
                "Schema version to set.")
    )  # fmt: skip
    return define_replace_null(config)


class SetSchemaMetadata(KeyOrValueTransformation[ConnectRecord]):
    """Set the name and/or version of the key or value schema."""

    kafka_name = "org.apache.kafka.connect.transforms.SetSchemaMetadata"
    Key: ClassVar[type[SetSchemaMetadata]]
    Value: ClassVar[type[SetSchemaMetadata]]

    def config(self) -> ConfigDef:
        """SetSchemaMetadata's configs."""
        return _metadata_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``schema.name`` and ``schema.version``."""
        parsed = _metadata_config().parse(configs)
        self.schema_name: str | None = parsed["schema.name"]
        self.schema_version: int | None = parsed["schema.version"]
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        if self.schema_name is None and self.schema_version is None:
            raise ConfigError("Neither schema name nor version configured")

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with the renamed schema (and its struct rebuilt on it)."""
        schema = require_schema(self.operating_schema(record), "updating schema metadata")
        builder = SchemaBuilder(schema.type)
        if schema.type.name == "STRUCT":
            for field in schema.fields:
                builder.field(field.name, field.schema)
        elif schema.key_schema is not None and schema.value_schema is not None:
            builder = SchemaBuilder.map(schema.key_schema, schema.value_schema)
        elif schema.value_schema is not None:
            builder = SchemaBuilder.array(schema.value_schema)
        name = self.schema_name if self.schema_name is not None else schema.name
        if name is not None:
            builder.name(name)
        version = self.schema_version if self.schema_version is not None else schema.version
        if version is not None:
            builder.version(version)
        if schema.doc is not None:
            builder.doc(schema.doc)
        if schema.parameters:
            builder.parameters(schema.parameters)
        if schema.is_optional:
            builder.optional()
        if schema.default_value is not None and not isinstance(schema.default_value, Struct):
            builder.default_value(schema.default_value)
        updated = builder.build()
        value = self.operating_value(record)
        if isinstance(value, Struct):
            rebuilt = Struct(updated)
            for field in updated.fields:
                rebuilt.put(field.name, struct_field_value(value, field.name, self.replace_null))
            value = rebuilt
        return self.new_record(record, updated, value)


key_and_value_variants(SetSchemaMetadata)
