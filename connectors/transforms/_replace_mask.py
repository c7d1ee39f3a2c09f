"""ReplaceField (keep, drop and rename fields) and MaskField (blank out fields).

Kafka's ``ReplaceField$Key``/``$Value`` (``exclude``, ``include``, ``renames``) and
``MaskField$Key``/``$Value`` (``fields``, ``replacement``), for maps and structs.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Mapping
from typing import Any, ClassVar

from tidal.connectors._java import java_to_string
from tidal.connectors.api import ConnectRecord, DataError, Schema, SchemaBuilder, Struct, Type
from tidal.connectors.api._logical import Date, Decimal, Time, Timestamp
from tidal.connectors.config import (
    NO_DEFAULT,
    ConfigDef,
    ConfigType,
    Importance,
    NonEmptyString,
)

from ._base import KeyOrValueTransformation, key_and_value_variants
from ._util import (
    NON_EMPTY_LIST,
    REPLACE_NULL_WITH_DEFAULT,
    SchemaCache,
    copy_schema_basics,
    define_replace_null,
    parse_renames,
    require_map,
    require_struct,
    struct_field_value,
)

__all__ = ["MaskField", "ReplaceField"]


def _replace_config() -> ConfigDef:
    config = (
        ConfigDef()
        .define("exclude", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Fields to exclude. This takes precedence over the fields to include.")
        .define("include", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Fields to include. If specified, only these fields will be used.")
        .define("renames", ConfigType.LIST, "", None, Importance.MEDIUM,
                "Field rename mappings.")
    )  # fmt: skip
    return define_replace_null(config)


class ReplaceField(KeyOrValueTransformation[ConnectRecord]):
    """Filter or rename fields."""

    kafka_name = "org.apache.kafka.connect.transforms.ReplaceField"
    Key: ClassVar[type[ReplaceField]]
    Value: ClassVar[type[ReplaceField]]

    def config(self) -> ConfigDef:
        """ReplaceField's configs (plus the deprecated ``blacklist``/``whitelist``)."""
        return _replace_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``exclude``, ``include`` and ``renames``."""
        configs = dict(configs)
        # The names before KIP-629; still accepted by Kafka.
        for old, new in (("blacklist", "exclude"), ("whitelist", "include")):
            if old in configs and new not in configs:
                configs[new] = configs[old]
        parsed = _replace_config().parse(configs)
        self.exclude = set(parsed["exclude"])
        self.include = set(parsed["include"])
        self.renames = parse_renames("renames", parsed["renames"])
        self.reverse_renames = {v: k for k, v in self.renames.items()}
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        self._schemas = SchemaCache()

    def keeps(self, name: str) -> bool:
        """Whether field ``name`` survives (exclude wins over include)."""
        return name not in self.exclude and (not self.include or name in self.include)

    def renamed(self, name: str) -> str:
        """The new name of field ``name``."""
        return self.renames.get(name, name)

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with fields dropped and renamed."""
        value = self.operating_value(record)
        if value is None:
            return record
        schema = self.operating_schema(record)
        if schema is None:
            source = require_map(value, "field replacement")
            updated = {self.renamed(k): v for k, v in source.items() if self.keeps(k)}
            return self.new_record(record, None, updated)
        struct = require_struct(value, "field replacement")
        new_schema = self._schemas.get(schema, self._updated_schema)
        result = Struct(new_schema)
        for field in new_schema.fields:
            original = self.reverse_renames.get(field.name, field.name)
            result.put(field.name, struct_field_value(struct, original, self.replace_null))
        return self.new_record(record, new_schema, result)

    def _updated_schema(self, schema: Schema) -> Schema:
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        for field in schema.fields:
            if self.keeps(field.name):
                builder.field(self.renamed(field.name), field.schema)
        return builder.build()


key_and_value_variants(ReplaceField)


def _mask_config() -> ConfigDef:
    config = (
        ConfigDef()
        .define("fields", ConfigType.LIST, NO_DEFAULT, NON_EMPTY_LIST, Importance.HIGH,
                "Names of fields to mask.")
        .define("replacement", ConfigType.STRING, None, NonEmptyString(), Importance.LOW,
                "Custom value replacement, that will be applied to all 'fields' values "
                "(numeric or non-empty string values only).")
    )  # fmt: skip
    return define_replace_null(config)


# The "null" of each type (Kafka's MaskField.PRIMITIVE_VALUE_MAPPING).
_MASKS: dict[Type, Any] = {
    Type.BOOLEAN: False,
    Type.INT8: 0,
    Type.INT16: 0,
    Type.INT32: 0,
    Type.INT64: 0,
    Type.FLOAT32: 0.0,
    Type.FLOAT64: 0.0,
    Type.STRING: "",
    Type.BYTES: b"",
}
_LOGICAL_MASKS: dict[str, Any] = {
    Decimal.LOGICAL_NAME: decimal.Decimal(0),
    Date.LOGICAL_NAME: datetime.date(1970, 1, 1),
    Time.LOGICAL_NAME: datetime.time(0),
    Timestamp.LOGICAL_NAME: datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC),
}


def _mask_schemaless(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, str):
        return ""
    if isinstance(value, bytes | bytearray):
        return b""
    if isinstance(value, decimal.Decimal):
        return decimal.Decimal(0)
    if isinstance(value, datetime.datetime):
        return _LOGICAL_MASKS[Timestamp.LOGICAL_NAME]
    if isinstance(value, datetime.date):
        return _LOGICAL_MASKS[Date.LOGICAL_NAME]
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    raise DataError(f"Cannot mask value of type: {type(value).__name__}")


def _replace_with(value: Any, replacement: str) -> Any:
    try:
        if isinstance(value, bool):
            raise DataError(
                f"Cannot mask value of type {type(value).__name__} with custom replacement."
            )
        if isinstance(value, int):
            return int(replacement)
        if isinstance(value, float):
            return float(replacement)
        if isinstance(value, str):
            return replacement
        if isinstance(value, decimal.Decimal):
            return decimal.Decimal(replacement)
    except (ValueError, decimal.InvalidOperation) as exc:
        raise DataError(
            f"Cannot mask value of type {type(value).__name__} with replacement "
            f"{java_to_string(replacement)}: not a number"
        ) from exc
    raise DataError(f"Cannot mask value of type {type(value).__name__} with custom replacement.")


class MaskField(KeyOrValueTransformation[ConnectRecord]):
    """Replace fields with their type's empty value (or a ``replacement``)."""

    kafka_name = "org.apache.kafka.connect.transforms.MaskField"
    Key: ClassVar[type[MaskField]]
    Value: ClassVar[type[MaskField]]

    def config(self) -> ConfigDef:
        """MaskField's configs."""
        return _mask_config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read ``fields`` and ``replacement``."""
        parsed = _mask_config().parse(configs)
        self.fields = set(parsed["fields"])
        self.replacement: str | None = parsed["replacement"]
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]

    def _masked(self, value: Any, schema: Schema | None) -> Any:
        if value is None:
            return None
        if self.replacement is not None:
            return _replace_with(value, self.replacement)
        if schema is None:
            return _mask_schemaless(value)
        if schema.name in _LOGICAL_MASKS:
            return _LOGICAL_MASKS[schema.name]
        if schema.type in _MASKS:
            return _MASKS[schema.type]
        return [] if schema.type is Type.ARRAY else {}

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with the configured fields masked."""
        value = self.operating_value(record)
        if value is None:
            return record
        schema = self.operating_schema(record)
        if schema is None:
            source = require_map(value, "masking fields")
            updated = {
                k: self._masked(v, None) if k in self.fields else v for k, v in source.items()
            }
            return self.new_record(record, None, updated)
        struct = require_struct(value, "masking fields")
        result = Struct(schema)
        for field in schema.fields:
            original = struct_field_value(struct, field.name, self.replace_null)
            if field.name in self.fields:
                if field.schema.type is Type.STRUCT:
                    raise DataError(f"Cannot mask value of type: {field.schema.type.name}")
                original = self._masked(original, field.schema)
            result.put(field, original)
        return self.new_record(record, schema, result)


key_and_value_variants(MaskField)
