"""Helpers shared by the transforms: operand checks, schema copies, common configs."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from tidal.connectors.api import ConnectRecord, DataError, Schema, SchemaBuilder, SinkRecord, Struct
from tidal.connectors.config import ConfigDef, ConfigError, ConfigType, Importance

__all__ = [
    "NON_EMPTY_LIST",
    "REGEX_VALIDATOR",
    "REPLACE_NULL_WITH_DEFAULT",
    "SchemaCache",
    "copy_schema_basics",
    "define_replace_null",
    "parse_renames",
    "require_map",
    "require_schema",
    "require_sink_record",
    "require_struct",
    "struct_field_value",
]

REPLACE_NULL_WITH_DEFAULT = "replace.null.with.default"


def define_replace_null(config: ConfigDef) -> ConfigDef:
    """Add Kafka's ``replace.null.with.default`` (KIP-1040) to ``config``."""
    return config.define(
        REPLACE_NULL_WITH_DEFAULT,
        ConfigType.BOOLEAN,
        True,
        None,
        Importance.MEDIUM,
        "Whether to replace fields that have a default value and that are null to the default "
        "value. When set to true, the default value is used, otherwise null is used.",
    )


def _class_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def require_map(value: Any, purpose: str) -> dict[str, Any]:
    """``value`` as a dict, or DataError in Kafka's words."""
    if not isinstance(value, dict):
        raise DataError(
            f"Only Map objects supported in absence of schema for [{purpose}], "
            f"found: {_class_name(value)}"
        )
    return value


def require_struct(value: Any, purpose: str) -> Struct:
    """``value`` as a Struct, or DataError in Kafka's words."""
    if not isinstance(value, Struct):
        raise DataError(
            f"Only Struct objects supported for [{purpose}], found: {_class_name(value)}"
        )
    return value


def require_schema(schema: Schema | None, purpose: str) -> Schema:
    """``schema``, or DataError when the record is schemaless."""
    if schema is None:
        raise DataError(f"Schema required for [{purpose}]")
    return schema


def require_sink_record(record: ConnectRecord, purpose: str) -> SinkRecord:
    """``record`` as a SinkRecord, or DataError."""
    if not isinstance(record, SinkRecord):
        raise DataError(
            f"Only SinkRecord supported for [{purpose}], found: {type(record).__name__}"
        )
    return record


def copy_schema_basics(schema: Schema, builder: SchemaBuilder) -> SchemaBuilder:
    """Copy name, version, doc and parameters (Kafka's ``SchemaUtil.copySchemaBasics``).

    Optionality is not copied: Kafka's transforms build a required struct even from an
    optional one.
    """
    if schema.name is not None:
        builder.name(schema.name)
    if schema.version is not None:
        builder.version(schema.version)
    if schema.doc is not None:
        builder.doc(schema.doc)
    if schema.parameters:
        builder.parameters(schema.parameters)
    return builder


def struct_field_value(struct: Struct, name: str, replace_null_with_default: bool) -> Any:
    """A struct field's value, with or without falling back to the field default."""
    return struct.get(name) if replace_null_with_default else struct.get_without_default(name)


class SchemaCache:
    """A small LRU map from input schema to derived schema (Kafka's ``SynchronizedCache``)."""

    __slots__ = ("_items", "_size")

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[Schema, Schema] = OrderedDict()
        self._size = size

    def get(self, schema: Schema, build: Callable[[Schema], Schema]) -> Schema:
        """The cached derivation of ``schema``, building it on a miss."""
        found = self._items.get(schema)
        if found is None:
            found = build(schema)
            self._items[schema] = found
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return found


def parse_renames(name: str, mappings: list[str]) -> dict[str, str]:
    """``old:new`` pairs as a dict; ConfigError naming the bad pair."""
    renames: dict[str, str] = {}
    for mapping in mappings:
        parts = mapping.split(":")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise ConfigError(name, mappings, "Invalid rename mapping: " + mapping)
        renames[parts[0]] = parts[1]
    return renames


class _NonEmptyList:
    def ensure_valid(self, name: str, value: Any) -> None:
        if not value:
            raise ConfigError(name, value, "Empty list")

    def __str__(self) -> str:
        return "non-empty list"


class _Regex:
    def ensure_valid(self, name: str, value: Any) -> None:
        try:
            re.compile(value)
        except (re.error, TypeError) as exc:
            raise ConfigError(name, value, f"Invalid regex: {exc}") from None

    def __str__(self) -> str:
        return "valid regex"


NON_EMPTY_LIST = _NonEmptyList()
"""Kafka's "non-empty list" validator."""

REGEX_VALIDATOR = _Regex()
"""Kafka's "valid regex" validator."""
