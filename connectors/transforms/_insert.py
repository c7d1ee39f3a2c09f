"""InsertField: add record metadata or a static value as fields of the key or value.

Kafka's ``org.apache.kafka.connect.transforms.InsertField$Key`` / ``$Value``, with the same
configs. A field name ending in ``!`` is required in the new schema, ``?`` (the default)
optional::

    transforms=InsertSource
    transforms.InsertSource.type=org.apache.kafka.connect.transforms.InsertField$Value
    transforms.InsertSource.static.field=data_source
    transforms.InsertSource.static.value=test-file-source
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tidal.connectors.api import ConnectRecord, Schema, SchemaBuilder, Struct, Timestamp
from tidal.connectors.config import ConfigDef, ConfigError, ConfigType, Importance

from ._base import KeyOrValueTransformation, key_and_value_variants
from ._util import (
    REPLACE_NULL_WITH_DEFAULT,
    SchemaCache,
    copy_schema_basics,
    define_replace_null,
    require_map,
    require_sink_record,
    require_struct,
    struct_field_value,
)

__all__ = ["InsertField"]

_PURPOSE = "field insertion"
_SUFFIX_DOC = (
    "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it "
    "optional (the default)."
)


@dataclass(frozen=True, slots=True)
class _InsertionSpec:
    name: str
    optional: bool

    @classmethod
    def parse(cls, spec: str | None) -> _InsertionSpec | None:
        if not spec:
            return None
        if spec.endswith("?"):
            return cls(spec[:-1], True)
        if spec.endswith("!"):
            return cls(spec[:-1], False)
        return cls(spec, True)


def _config() -> ConfigDef:
    config = ConfigDef()
    for name, doc in (
        ("topic.field", "Field name for Kafka topic. " + _SUFFIX_DOC),
        ("partition.field", "Field name for Kafka partition. " + _SUFFIX_DOC),
        (
            "offset.field",
            "Field name for Kafka offset - only applicable to sink connectors.<br/>" + _SUFFIX_DOC,
        ),
        ("timestamp.field", "Field name for record timestamp. " + _SUFFIX_DOC),
        ("static.field", "Field name for static data field. " + _SUFFIX_DOC),
        ("static.value", "Static field value, if field name configured."),
    ):
        config.define(name, ConfigType.STRING, None, None, Importance.MEDIUM, doc)
    return define_replace_null(config)


class InsertField(KeyOrValueTransformation[ConnectRecord]):
    """Insert topic, partition, offset, timestamp and/or a static field."""

    kafka_name = "org.apache.kafka.connect.transforms.InsertField"
    Key: ClassVar[type[InsertField]]
    Value: ClassVar[type[InsertField]]

    def config(self) -> ConfigDef:
        """InsertField's configs."""
        return _config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read the field names and the static value."""
        parsed = _config().parse(configs)
        self.topic = _InsertionSpec.parse(parsed["topic.field"])
        self.partition = _InsertionSpec.parse(parsed["partition.field"])
        self.offset = _InsertionSpec.parse(parsed["offset.field"])
        self.timestamp = _InsertionSpec.parse(parsed["timestamp.field"])
        self.static = _InsertionSpec.parse(parsed["static.field"])
        self.static_value = parsed["static.value"]
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        if not any((self.topic, self.partition, self.offset, self.timestamp, self.static)):
            raise ConfigError("No field insertion configured")
        if self.static is not None and self.static_value is None:
            raise ConfigError(
                "static.value", None, "No value specified for static field: " + self.static.name
            )
        self._schemas = SchemaCache()

    def _inserts(self, record: ConnectRecord) -> list[tuple[_InsertionSpec, Schema, Any]]:
        out: list[tuple[_InsertionSpec, Schema, Any]] = []
        if self.topic:
            out.append((self.topic, Schema.STRING_SCHEMA, record.topic))
        if self.partition:
            out.append((self.partition, Schema.INT32_SCHEMA, record.kafka_partition))
        if self.offset:
            out.append(
                (
                    self.offset,
                    Schema.INT64_SCHEMA,
                    require_sink_record(record, _PURPOSE).kafka_offset,
                )
            )
        if self.timestamp:
            out.append((self.timestamp, Timestamp.SCHEMA, record.timestamp))
        if self.static:
            out.append((self.static, Schema.STRING_SCHEMA, self.static_value))
        return out

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with the configured fields added."""
        value = self.operating_value(record)
        if value is None:
            return record  # a tombstone stays a tombstone
        schema = self.operating_schema(record)
        if schema is None:
            updated = dict(require_map(value, _PURPOSE))
            for spec, _, inserted in self._inserts(record):
                updated[spec.name] = inserted
            return self.new_record(record, None, updated)
        struct = require_struct(value, _PURPOSE)
        inserts = self._inserts(record)
        new_schema = self._schemas.get(schema, lambda s: self._updated_schema(s, inserts))
        result = Struct(new_schema)
        for field in schema.fields:
            result.put(field.name, struct_field_value(struct, field.name, self.replace_null))
        for spec, field_schema, inserted in inserts:
            as_logical = field_schema is Timestamp.SCHEMA and inserted is not None
            result.put(
                spec.name, Timestamp.to_logical(field_schema, inserted) if as_logical else inserted
            )
        return self.new_record(record, new_schema, result)

    @staticmethod
    def _updated_schema(
        schema: Schema, inserts: list[tuple[_InsertionSpec, Schema, Any]]
    ) -> Schema:
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        for field in schema.fields:
            builder.field(field.name, field.schema)
        for spec, field_schema, _ in inserts:
            optional = spec.optional and not field_schema.is_optional
            builder.field(
                spec.name,
                SchemaBuilder.of(field_schema).optional().build() if optional else field_schema,
            )
        return builder.build()


key_and_value_variants(InsertField)
