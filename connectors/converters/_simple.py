"""Pass-through converters: String, ByteArray, and the default SimpleHeaderConverter.

``StringConverter`` writes any value as its Java ``toString`` in ``converter.encoding``
(UTF-8 by default) and reads bytes back as an optional string. ``ByteArrayConverter``
passes bytes through untouched. ``SimpleHeaderConverter`` writes header values as strings
and infers a schema when reading: ``true``/``false`` become BOOLEAN, integers the smallest
of INT8..INT64 (a Decimal beyond that), other numbers FLOAT32 (or FLOAT64 when float32
would overflow), anything else STRING. Like Kafka's, its output for these cases is checked
against Kafka's own in the golden tests; Kafka's parsing of embedded arrays, maps and
date/time strings is not implemented (those come back as STRING).
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Mapping
from typing import Any

from tidal.connectors._java import java_float, java_to_string
from tidal.connectors.api import DataError, Headers, Schema, SchemaAndValue, Type
from tidal.connectors.api._logical import Decimal
from tidal.connectors.config import ConfigDef, ConfigType, Importance

from ._base import Converter, HeaderConverter, check_role, converter_type_config

__all__ = ["ByteArrayConverter", "SimpleHeaderConverter", "StringConverter"]


_OPTIONAL_STRING = Schema.OPTIONAL_STRING_SCHEMA
_NULL_STRING = SchemaAndValue(_OPTIONAL_STRING, None)


def _java_charset(name: str) -> str:
    # Java's charset names (UTF-8, ISO-8859-1, US-ASCII, UTF-16BE ...) are all known to Python.
    "".encode(name)
    return name


class StringConverter(Converter, HeaderConverter):
    """Kafka's ``org.apache.kafka.connect.storage.StringConverter``."""

    def __init__(self) -> None:
        self.encoding = "utf-8"

    def config(self) -> ConfigDef:
        """``converter.type`` and ``converter.encoding``."""
        return converter_type_config().define(
            "converter.encoding",
            ConfigType.STRING,
            "UTF-8",
            None,
            Importance.HIGH,
            "The name of the Java character set to use for encoding strings as byte arrays.",
            group="Converter",
            order=1,
            display_name="Character encoding",
        )

    def configure(self, configs: Mapping[str, Any], is_key: bool | None = None) -> None:
        """Read ``converter.encoding``."""
        check_role(configs)
        self.encoding = _java_charset(self.config().parse(configs)["converter.encoding"])

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        """``str(value)`` encoded; None stays None."""
        if type(value) is str:  # the common case: java_to_string would return it as is
            return value.encode(self.encoding)
        if value is None:
            return None
        return java_to_string(value).encode(self.encoding)

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        """The bytes decoded, with an optional STRING schema."""
        if type(value) is bytes:  # no copy through bytes() for the common case
            return SchemaAndValue(_OPTIONAL_STRING, value.decode(self.encoding))
        if value is None:
            return _NULL_STRING
        return SchemaAndValue(_OPTIONAL_STRING, bytes(value).decode(self.encoding))

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        """A header value as a string."""
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        """A header value read as a string."""
        return self.to_connect_data(topic, value)


class ByteArrayConverter(Converter, HeaderConverter):
    """Kafka's ``org.apache.kafka.connect.converters.ByteArrayConverter``."""

    def configure(self, configs: Mapping[str, Any], is_key: bool | None = None) -> None:
        """Nothing to configure but ``converter.type``."""
        check_role(configs)

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        """``value`` itself; the schema must be BYTES (or absent)."""
        if schema is not None and schema.type is not Type.BYTES:
            raise DataError(f"Invalid schema type for ByteArrayConverter: {schema.type.name}")
        if value is not None and not isinstance(value, bytes | bytearray | memoryview):
            raise DataError(
                "ByteArrayConverter is not compatible with objects of type " + type(value).__name__
            )
        return None if value is None else bytes(value)

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        """The bytes, with an optional BYTES schema."""
        return SchemaAndValue(Schema.OPTIONAL_BYTES_SCHEMA, value)

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        """A header value passed through."""
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        """A header value passed through."""
        return self.to_connect_data(topic, value)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT_SCHEMAS = (
    (Type.INT8, 8, Schema.INT8_SCHEMA),
    (Type.INT16, 16, Schema.INT16_SCHEMA),
    (Type.INT32, 32, Schema.INT32_SCHEMA),
    (Type.INT64, 64, Schema.INT64_SCHEMA),
)


def infer_header(text: str) -> SchemaAndValue:
    """A header string with the schema Kafka's ``Values.parseString`` infers (basics)."""
    if text in ("true", "false"):
        return SchemaAndValue(Schema.BOOLEAN_SCHEMA, text == "true")
    if _NUMBER.fullmatch(text):
        number = decimal.Decimal(text)
        if number == number.to_integral_value():
            integral = int(number)
            for _, bits, schema in _INT_SCHEMAS:
                if -(2 ** (bits - 1)) <= integral < 2 ** (bits - 1):
                    return SchemaAndValue(schema, integral)
            exact = decimal.Decimal(integral)
            return SchemaAndValue(Decimal.schema(0), exact)
        as_float = float(number)
        if math.isfinite(as_float) and abs(as_float) <= 3.4028234663852886e38:
            return SchemaAndValue(Schema.FLOAT32_SCHEMA, as_float)
        return SchemaAndValue(Schema.FLOAT64_SCHEMA, as_float)
    return SchemaAndValue(Schema.STRING_SCHEMA, text)


class SimpleHeaderConverter(HeaderConverter):
    """Kafka's default header converter, ``SimpleHeaderConverter``."""

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        """The value's string form, UTF-8 encoded."""
        if value is None:
            return None
        if schema is not None and schema.type is Type.FLOAT32 and isinstance(value, float):
            return java_float(value).encode()
        return java_to_string(value).encode()

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        """The value with an inferred schema."""
        if value is None:
            return SchemaAndValue(None, None)
        return infer_header(bytes(value).decode())
