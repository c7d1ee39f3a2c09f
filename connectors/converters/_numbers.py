"""Kafka's numeric and boolean converters: fixed-width big-endian values.

``org.apache.kafka.connect.converters.ShortConverter``, ``IntegerConverter``,
``LongConverter``, ``FloatConverter``, ``DoubleConverter`` and ``BooleanConverter`` write a
value the way Kafka's ``ShortSerializer`` ... ``BooleanSerializer`` do (2, 4 or 8 bytes,
big-endian; one byte ``0x01``/``0x00`` for booleans) and read it back with an optional
schema of the matching type. Often used for record keys::

    key.converter=org.apache.kafka.connect.converters.LongConverter
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, ClassVar

from tidal.connectors.api import DataError, Headers, Schema, SchemaAndValue
from tidal.connectors.api._schema import validate_value

from ._base import Converter, HeaderConverter, check_role

__all__ = [
    "BooleanConverter",
    "DoubleConverter",
    "FloatConverter",
    "IntegerConverter",
    "LongConverter",
    "NumberConverter",
    "ShortConverter",
]


class NumberConverter(Converter, HeaderConverter):
    """A fixed-width value converter; subclasses set the format and the schema."""

    FORMAT: ClassVar[str]
    SCHEMA: ClassVar[Schema]
    KIND: ClassVar[str]

    def configure(self, configs: Mapping[str, Any], is_key: bool | None = None) -> None:
        """Nothing to configure but ``converter.type``."""
        check_role(configs)

    def _accepts(self, value: Any) -> bool:
        try:
            validate_value(self.SCHEMA, value)
        except DataError:
            return False
        return True

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        """The value's big-endian bytes; None stays None."""
        if value is None:
            return None
        if not self._accepts(value):
            raise DataError(f"Failed to serialize to a {self.KIND} (was {type(value).__name__})")
        return struct.pack(self.FORMAT, value)

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        """The value of big-endian bytes, with an optional schema of the converter's type."""
        if value is None:
            return SchemaAndValue(self.SCHEMA, None)
        size = struct.calcsize(self.FORMAT)
        if len(value) != size:
            raise DataError(
                f"Failed to deserialize {self.KIND}: size of data received is not {size}"
            )
        return SchemaAndValue(self.SCHEMA, struct.unpack(self.FORMAT, value)[0])

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        """A header value's bytes."""
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        """A header value from its bytes."""
        return self.to_connect_data(topic, value)


class ShortConverter(NumberConverter):
    """INT16 as 2 big-endian bytes."""

    FORMAT, SCHEMA, KIND = ">h", Schema.OPTIONAL_INT16_SCHEMA, "short"


class IntegerConverter(NumberConverter):
    """INT32 as 4 big-endian bytes."""

    FORMAT, SCHEMA, KIND = ">i", Schema.OPTIONAL_INT32_SCHEMA, "integer"


class LongConverter(NumberConverter):
    """INT64 as 8 big-endian bytes."""

    FORMAT, SCHEMA, KIND = ">q", Schema.OPTIONAL_INT64_SCHEMA, "long"


class FloatConverter(NumberConverter):
    """FLOAT32 as 4 big-endian IEEE 754 bytes."""

    FORMAT, SCHEMA, KIND = ">f", Schema.OPTIONAL_FLOAT32_SCHEMA, "float"


class DoubleConverter(NumberConverter):
    """FLOAT64 as 8 big-endian IEEE 754 bytes."""

    FORMAT, SCHEMA, KIND = ">d", Schema.OPTIONAL_FLOAT64_SCHEMA, "double"


class BooleanConverter(NumberConverter):
    """BOOLEAN as one byte, 0x01 or 0x00."""

    FORMAT, SCHEMA, KIND = ">?", Schema.OPTIONAL_BOOLEAN_SCHEMA, "boolean"

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        """True for 0x01, False for 0x00."""
        if value is not None and (len(value) != 1 or value[0] > 1):
            raise DataError("Failed to deserialize boolean: expected one byte, 0x00 or 0x01")
        return super().to_connect_data(topic, value, headers)
