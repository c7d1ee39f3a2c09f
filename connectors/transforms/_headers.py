"""Header transforms: InsertHeader, DropHeaders, and HeaderFrom (fields to headers).

Kafka's ``InsertHeader`` (``header``, ``value.literal``, whose schema is inferred the way
``Values.parseString`` does), ``DropHeaders`` (``headers``) and ``HeaderFrom$Key``/``$Value``
(``fields``, ``headers``, ``operation`` = ``copy`` or ``move``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tidal.connectors.api import ConnectRecord, DataError, Headers, Schema, SchemaBuilder, Struct
from tidal.connectors.config import (
    NO_DEFAULT,
    ConfigDef,
    ConfigError,
    ConfigType,
    Importance,
    ValidString,
)
from tidal.connectors.converters._simple import infer_header

from ._base import KeyOrValueTransformation, Transformation, key_and_value_variants
from ._util import (
    NON_EMPTY_LIST,
    REPLACE_NULL_WITH_DEFAULT,
    SchemaCache,
    copy_schema_basics,
    define_replace_null,
    require_map,
    require_struct,
    struct_field_value,
)

__all__ = ["DropHeaders", "HeaderFrom", "InsertHeader"]


class _NonNull:
    def ensure_valid(self, name: str, value: Any) -> None:
        if value is None:
            raise ConfigError(name, None, "Value must be non-null")

    def __str__(self) -> str:
        return "non-null string"


def _insert_config() -> ConfigDef:
    return (
        ConfigDef()
        .define("header", ConfigType.STRING, NO_DEFAULT, _NonNull(), Importance.HIGH,
                "The name of the header.")
        .define("value.literal", ConfigType.STRING, NO_DEFAULT, _NonNull(), Importance.HIGH,
                "The literal value that is to be set as the header value on all records.")
    )  # fmt: skip


class InsertHeader(Transformation[ConnectRecord]):
    """Add a header with a fixed value to every record."""

    kafka_name = "org.apache.kafka.connect.transforms.InsertHeader"

    def config(self) -> ConfigDef:
        """InsertHeader's configs."""
        return _insert_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``header`` and ``value.literal``."""
        parsed = _insert_config().parse(configs)
        self.header: str = parsed["header"]
        self.schema, self.value = infer_header(parsed["value.literal"])

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with the header appended."""
        headers = record.headers.duplicate().add(self.header, self.value, self.schema)
        return record.new_record(headers=headers)


def _drop_config() -> ConfigDef:
    return ConfigDef().define(
        "headers", ConfigType.LIST, NO_DEFAULT, NON_EMPTY_LIST, Importance.HIGH,
        "The name of the headers to be removed.",
    )  # fmt: skip


class DropHeaders(Transformation[ConnectRecord]):
    """Remove every header with one of the configured names."""

    kafka_name = "org.apache.kafka.connect.transforms.DropHeaders"

    def config(self) -> ConfigDef:
        """DropHeaders' configs."""
        return _drop_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``headers``."""
        self.names = set(_drop_config().parse(configs)["headers"])

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record without those headers."""
        kept = Headers(h for h in record.headers if h.key not in self.names)
        return record.new_record(headers=kept)


def _from_config() -> ConfigDef:
    config = (
        ConfigDef()
        .define("fields", ConfigType.LIST, NO_DEFAULT, NON_EMPTY_LIST, Importance.HIGH,
                "Field names in the record whose values are to be copied or moved to headers.")
        .define("headers", ConfigType.LIST, NO_DEFAULT, NON_EMPTY_LIST, Importance.HIGH,
                "Header names, in the same order as the field names listed in the fields "
                "configuration property.")
        .define("operation", ConfigType.STRING, NO_DEFAULT, ValidString.in_("move", "copy"),
                Importance.HIGH,
                "Either <code>move</code> if the fields are to be moved to the headers (removed "
                "from the key/value), or <code>copy</code> if the fields are to be copied to the "
                "headers (retained in the key/value).")
    )  # fmt: skip
    return define_replace_null(config)


class HeaderFrom(KeyOrValueTransformation[ConnectRecord]):
    """Copy or move fields of the key or value into headers."""

    kafka_name = "org.apache.kafka.connect.transforms.HeaderFrom"
    Key: ClassVar[type[HeaderFrom]]
    Value: ClassVar[type[HeaderFrom]]

    def config(self) -> ConfigDef:
        """HeaderFrom's configs."""
        return _from_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``fields``, ``headers`` and ``operation``."""
        parsed = _from_config().parse(configs)
        self.fields: list[str] = parsed["fields"]
        self.headers: list[str] = parsed["headers"]
        if len(self.fields) != len(self.headers):
            raise ConfigError(
                "headers", self.headers,
                "'fields' config must have the same number of elements as 'headers' config.",
            )  # fmt: skip
        self.move = parsed["operation"] == "move"
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        self._schemas = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with the new headers (and, for ``move``, without the fields)."""
        value = self.operating_value(record)
        schema = self.operating_schema(record)
        headers = record.headers.duplicate()
        if value is None:
            return record
        if schema is None:
            source = require_map(value, "header " + ("move" if self.move else "copy"))
            for field, header in zip(self.fields, self.headers, strict=True):
                headers.add(header, source.get(field))
            if self.move:
                source = {k: v for k, v in source.items() if k not in self.fields}
            return self.new_record(record, None, source).new_record(headers=headers)
        struct = require_struct(value, "header " + ("move" if self.move else "copy"))
        for field, header in zip(self.fields, self.headers, strict=True):
            found = schema.field(field)
            if found is None:
                raise DataError(f"Field does not exist: {field}")
            headers.add(header, struct_field_value(struct, field, self.replace_null), found.schema)
        if not self.move:
            return record.new_record(headers=headers)
        new_schema = self._schemas.get(schema, self._moved_schema)
        moved = Struct(new_schema)
        for kept in new_schema.fields:
            moved.put(kept.name, struct_field_value(struct, kept.name, self.replace_null))
        return self.new_record(record, new_schema, moved).new_record(headers=headers)

    def _moved_schema(self, schema: Schema) -> Schema:
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        for field in schema.fields:
            if field.name not in self.fields:
                builder.field(field.name, field.schema)
        return builder.build()


key_and_value_variants(HeaderFrom)
