"""TimestampConverter: between strings, Unix times and the Date/Time/Timestamp types.

Kafka's ``TimestampConverter$Key``/``$Value`` with ``target.type`` (``string``, ``unix``,
``Date``, ``Time``, ``Timestamp``), ``field`` (empty: the whole key or value), ``format``
(a ``SimpleDateFormat`` pattern, required for strings, always UTC) and ``unix.precision``
(``seconds``, ``milliseconds`` (default), ``microseconds``, ``nanoseconds``). The input type
comes from the schema (Timestamp, Date, Time, INT64 = unix, STRING) or, without one, from
the Python value (datetime, date, time, int, str)::

    transforms=ts
    transforms.ts.type=org.apache.kafka.connect.transforms.TimestampConverter$Value
    transforms.ts.field=created_at
    transforms.ts.target.type=Timestamp
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

from tidal.connectors.api import ConnectRecord, DataError, Schema, SchemaBuilder, Struct, Type
from tidal.connectors.api._logical import Date, Time, Timestamp, datetime_to_millis
from tidal.connectors.config import ConfigDef, ConfigError, ConfigType, Importance, ValidString

from ._base import KeyOrValueTransformation, key_and_value_variants
from ._dates import check_pattern, java_date_format, java_date_parse
from ._util import (
    REPLACE_NULL_WITH_DEFAULT,
    SchemaCache,
    copy_schema_basics,
    define_replace_null,
    require_map,
    require_struct,
    struct_field_value,
)

__all__ = ["TimestampConverter"]

_TARGETS = ("string", "unix", "Date", "Time", "Timestamp")
_PRECISIONS = {"seconds": 1000, "milliseconds": 1, "microseconds": -1000, "nanoseconds": -1_000_000}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_PURPOSE = "converting timestamp formats"


def _config() -> ConfigDef:
    config = (
        ConfigDef()
        .define("field", ConfigType.STRING, "", None, Importance.HIGH,
                "The field containing the timestamp, or empty if the entire value is a timestamp")
        .define("target.type", ConfigType.STRING, ConfigDef.NO_DEFAULT_VALUE,
                ValidString.in_(*_TARGETS), Importance.HIGH,
                "The desired timestamp representation: string, unix, Date, Time, or Timestamp")
        .define("format", ConfigType.STRING, "", None, Importance.MEDIUM,
                "A SimpleDateFormat-compatible format for the timestamp. Used to generate the "
                "output when type=string or used to parse the input if the input is a string.")
        .define("unix.precision", ConfigType.STRING, "milliseconds",
                ValidString.in_("nanoseconds", "microseconds", "milliseconds", "seconds"),
                Importance.LOW,
                "The desired Unix precision for the timestamp: seconds, milliseconds, "
                "microseconds, or nanoseconds. Used to generate the output when type=unix or used "
                "to parse the input if the input is a Long.Note: This SMT will cause precision "
                "loss during conversions from, and to, values with sub-millisecond components.")
    )  # fmt: skip
    return define_replace_null(config)


def _java_div(value: int, divisor: int) -> int:
    """Integer division truncating toward zero, as Java's (and TimeUnit's) is."""
    quotient = abs(value) // divisor
    return quotient if value >= 0 else -quotient


def _target_schema(target: str, optional: bool) -> Schema:
    builder = {
        "string": SchemaBuilder.string,
        "unix": SchemaBuilder.int64,
        "Date": Date.builder,
        "Time": Time.builder,
        "Timestamp": Timestamp.builder,
    }[target]()
    return (builder.optional() if optional else builder).build()


class TimestampConverter(KeyOrValueTransformation[ConnectRecord]):
    """Convert timestamps between representations."""

    kafka_name = "org.apache.kafka.connect.transforms.TimestampConverter"
    Key: ClassVar[type[TimestampConverter]]
    Value: ClassVar[type[TimestampConverter]]

    def config(self) -> ConfigDef:
        """TimestampConverter's configs."""
        return _config()

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read the target type, field, format and precision."""
        parsed = _config().parse(configs)
        self.field: str = parsed["field"]
        self.target: str = parsed["target.type"]
        self.format: str = parsed["format"]
        self.unit = _PRECISIONS[parsed["unix.precision"]]
        self.replace_null = parsed[REPLACE_NULL_WITH_DEFAULT]
        if self.target == "string" and not self.format:
            raise ConfigError(
                "TimestampConverter requires format option to be specified when using string "
                "timestamps"
            )
        if self.format:
            try:
                check_pattern(self.format)
            except ConfigError as exc:
                raise ConfigError(
                    "format", self.format,
                    "TimestampConverter requires a SimpleDateFormat-compatible pattern for string "
                    f"timestamps: {exc}",
                ) from None  # fmt: skip
        self._schemas = SchemaCache()

    # --- conversions through epoch milliseconds, like Kafka's java.util.Date ---
    def _to_millis(self, value: Any, kind: str) -> int:
        if kind == "string":
            return datetime_to_millis(java_date_parse(self.format, value))
        if kind == "unix":
            number: int = value
            return number * self.unit if self.unit > 0 else _java_div(number, -self.unit)
        if kind == "Date":
            day: datetime.date = value
            return (day - _EPOCH.date()).days * 86_400_000
        if kind == "Time":
            return Time.from_logical(Time.SCHEMA, value)
        return datetime_to_millis(value)

    def _from_millis(self, millis: int) -> Any:
        moment = _EPOCH + datetime.timedelta(milliseconds=millis)
        if self.target == "string":
            return java_date_format(self.format, moment)
        if self.target == "unix":
            return _java_div(millis, self.unit) if self.unit > 0 else millis * -self.unit
        if self.target == "Date":
            return moment.date()
        if self.target == "Time":
            return moment.time()
        return moment

    def _convert(self, value: Any, kind: str | None) -> Any:
        if value is None:
            return None
        return self._from_millis(self._to_millis(value, kind or _kind_of(value)))

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        """The record with the timestamp converted."""
        schema = self.operating_schema(record)
        value = self.operating_value(record)
        if schema is None:
            if not self.field:
                return self.new_record(record, None, self._convert(value, None))
            if value is None:
                return record
            updated = dict(require_map(value, _PURPOSE))
            updated[self.field] = self._convert(updated.get(self.field), None)
            return self.new_record(record, None, updated)
        if not self.field:
            new_schema = _target_schema(self.target, schema.is_optional)
            return self.new_record(
                record, new_schema, self._convert(value, _kind_of_schema(schema))
            )
        new_schema = self._schemas.get(schema, self._struct_schema)
        if value is None:
            return self.new_record(record, new_schema, None)
        struct = require_struct(value, _PURPOSE)
        result = Struct(new_schema)
        for field in schema.fields:
            item = struct_field_value(struct, field.name, self.replace_null)
            if field.name == self.field:
                item = self._convert(item, _kind_of_schema(field.schema))
            result.put(field.name, item)
        return self.new_record(record, new_schema, result)

    def _struct_schema(self, schema: Schema) -> Schema:
        builder = copy_schema_basics(schema, SchemaBuilder.struct())
        for field in schema.fields:
            if field.name == self.field:
                builder.field(field.name, _target_schema(self.target, field.schema.is_optional))
            else:
                builder.field(field.name, field.schema)
        if schema.is_optional:
            builder.optional()
        return builder.build()


def _kind_of_schema(schema: Schema) -> str:
    if schema.name in (Timestamp.LOGICAL_NAME, Date.LOGICAL_NAME, Time.LOGICAL_NAME):
        return schema.name.rsplit(".", 1)[1]
    if schema.type is Type.INT64:
        return "unix"
    if schema.type is Type.STRING:
        return "string"
    raise DataError(f"Schema {schema!r} does not correspond to a known timestamp type format")


def _kind_of(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return "Timestamp"
    if isinstance(value, datetime.date):
        return "Date"
    if isinstance(value, datetime.time):
        return "Time"
    if isinstance(value, int) and not isinstance(value, bool):
        return "unix"
    if isinstance(value, str):
        return "string"
    raise DataError(
        f"TimestampConverter does not support {type(value).__name__} objects as timestamps"
    )


key_and_value_variants(TimestampConverter)
