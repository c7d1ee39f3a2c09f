"""Kafka Connect's logical types: Decimal, Date, Time and Timestamp.

A logical type is a primitive schema carrying a well-known ``name`` (and version 1). The
Python value is the natural one, the stored value is Kafka's:

=========  ==========================================  ===================  ==============
class      name                                        Python value         stored as
=========  ==========================================  ===================  ==============
Decimal    ``org.apache.kafka.connect.data.Decimal``    ``decimal.Decimal``  BYTES: unscaled
                                                                            two's complement
Date       ``org.apache.kafka.connect.data.Date``       ``datetime.date``    INT32 days
Time       ``org.apache.kafka.connect.data.Time``       ``datetime.time``    INT32 ms of day
Timestamp  ``org.apache.kafka.connect.data.Timestamp``  ``datetime.datetime``  INT64 epoch ms
=========  ==========================================  ===================  ==============

Naive datetimes are read as UTC; :meth:`Timestamp.to_logical` returns aware UTC datetimes.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any, ClassVar

from ._builder import SchemaBuilder
from ._errors import DataError
from ._schema import Schema, Type

__all__ = ["LOGICAL_TYPES", "Date", "Decimal", "Time", "Timestamp"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_EPOCH_DATE = datetime.date(1970, 1, 1)
_MS_PER_DAY = 86_400_000


class _LogicalType:
    LOGICAL_NAME: ClassVar[str]
    python_type: ClassVar[type]
    base_type: ClassVar[Type]

    @classmethod
    def _check(cls, schema: Schema) -> None:
        if schema.name != cls.LOGICAL_NAME:
            raise DataError(
                f"Requested conversion of {cls.__name__} object but the schema does not match."
            )


class _TemporalType(_LogicalType):
    """A logical type with no parameters, so one shared schema (``SCHEMA``)."""

    SCHEMA: ClassVar[Schema]

    @classmethod
    def builder(cls) -> SchemaBuilder:
        """A builder of this type's schema."""
        return SchemaBuilder(cls.base_type).name(cls.LOGICAL_NAME).version(1)


class Decimal(_LogicalType):
    """Arbitrary-precision decimal with a fixed ``scale`` parameter."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Decimal"
    SCALE_FIELD = "scale"
    python_type = decimal.Decimal
    base_type = Type.BYTES

    @classmethod
    def builder(cls, scale: int) -> SchemaBuilder:
        """A builder of a Decimal schema with ``scale`` digits after the point."""
        return (
            SchemaBuilder.bytes()
            .name(cls.LOGICAL_NAME)
            .parameter(cls.SCALE_FIELD, str(scale))
            .version(1)
        )

    @classmethod
    def schema(cls, scale: int) -> Schema:
        """A required Decimal schema with ``scale`` digits after the point."""
        return cls.builder(scale).build()

    @classmethod
    def scale(cls, schema: Schema) -> int:
        """The scale parameter of a Decimal schema."""
        raw = (schema.parameters or {}).get(cls.SCALE_FIELD)
        if raw is None:
            raise DataError("Invalid Decimal schema: scale parameter not found.")
        return int(raw)

    @classmethod
    def from_logical(cls, schema: Schema, value: decimal.Decimal) -> bytes:
        """The unscaled value as big-endian two's complement bytes (Java's ``BigInteger``)."""
        cls._check(schema)
        scale = cls.scale(schema)
        sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int) or -exponent != scale:
            raise DataError("Decimal value has mismatching scale for given Decimal schema")
        unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        length = (unscaled if unscaled >= 0 else ~unscaled).bit_length() // 8 + 1
        return unscaled.to_bytes(length, "big", signed=True)

    @classmethod
    def to_logical(cls, schema: Schema, value: bytes) -> decimal.Decimal:
        """The decimal whose unscaled two's complement bytes are ``value``."""
        cls._check(schema)
        unscaled = int.from_bytes(value, "big", signed=True)
        digits = tuple(int(c) for c in str(abs(unscaled)))
        return decimal.Decimal((1 if unscaled < 0 else 0, digits, -cls.scale(schema)))


class Date(_TemporalType):
    """A calendar date, stored as days since 1970-01-01."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Date"
    python_type = datetime.date
    base_type = Type.INT32

    @classmethod
    def from_logical(cls, schema: Schema, value: datetime.date) -> int:
        """Days since the epoch."""
        cls._check(schema)
        if isinstance(value, datetime.datetime):
            raise DataError(
                "Kafka Connect Date type should not have any time fields set to non-zero values."
            )
        return (value - _EPOCH_DATE).days

    @classmethod
    def to_logical(cls, schema: Schema, value: int) -> datetime.date:
        """The date ``value`` days after the epoch."""
        cls._check(schema)
        try:
            return _EPOCH_DATE + datetime.timedelta(days=value)
        except OverflowError:
            raise DataError(f"Date value out of range: {value}") from None


class Time(_TemporalType):
    """A time of day, stored as milliseconds since midnight."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Time"
    python_type = datetime.time
    base_type = Type.INT32

    @classmethod
    def from_logical(cls, schema: Schema, value: datetime.time) -> int:
        """Milliseconds since midnight."""
        cls._check(schema)
        seconds = (value.hour * 60 + value.minute) * 60 + value.second
        return seconds * 1000 + value.microsecond // 1000

    @classmethod
    def to_logical(cls, schema: Schema, value: int) -> datetime.time:
        """The time of day ``value`` milliseconds after midnight."""
        cls._check(schema)
        if not 0 <= value < _MS_PER_DAY:
            raise DataError(
                "Time values must use number of milliseconds greater than 0 and less than 86400000"
            )
        seconds, ms = divmod(value, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return datetime.time(hour, minute, second, ms * 1000)


class Timestamp(_TemporalType):
    """An instant, stored as milliseconds since the epoch (UTC)."""

    LOGICAL_NAME = "org.apache.kafka.connect.data.Timestamp"
    python_type = datetime.datetime
    base_type = Type.INT64

    @classmethod
    def from_logical(cls, schema: Schema, value: datetime.datetime) -> int:
        """Milliseconds since the epoch; a naive datetime is taken as UTC."""
        cls._check(schema)
        return datetime_to_millis(value)

    @classmethod
    def to_logical(cls, schema: Schema, value: int) -> datetime.datetime:
        """The UTC datetime ``value`` milliseconds after the epoch."""
        cls._check(schema)
        try:
            return _EPOCH + datetime.timedelta(milliseconds=value)
        except OverflowError:
            raise DataError(f"Timestamp value out of range: {value}") from None


def datetime_to_millis(value: datetime.datetime) -> int:
    """Milliseconds since the epoch, floor-rounded; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


Date.SCHEMA = Date.builder().build()
Time.SCHEMA = Time.builder().build()
Timestamp.SCHEMA = Timestamp.builder().build()

LOGICAL_TYPES: dict[str, Any] = {t.LOGICAL_NAME: t for t in (Decimal, Date, Time, Timestamp)}
