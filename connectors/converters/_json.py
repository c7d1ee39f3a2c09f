"""``org.apache.kafka.connect.json.JsonConverter``, byte for byte.

With ``schemas.enable=true`` (the default) every key or value is an envelope
``{"schema": {...}, "payload": ...}``; with ``false`` only the payload is written and read
values come back schemaless. ``decimal.format`` chooses base64 bytes (default) or a JSON
number for Decimal values; ``replace.null.with.default`` (default true) writes a field's
default in place of null. The bytes match Kafka 4.1's converter; the golden tests in
``tests/connectors/converters`` compare against output captured from Kafka itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidal.connectors.api import DataError, Headers, Schema, SchemaAndValue
from tidal.connectors.config import CaseInsensitiveValidString, ConfigDef, ConfigType, Importance

from ._base import Converter, HeaderConverter, check_role, converter_type_config
from ._json_decode import JsonDecoder, parse_json
from ._json_encode import JsonEncoder

__all__ = ["JsonConverter"]

_ENVELOPE_ERROR = (
    'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not '
    "contain additional fields. If you are trying to deserialize plain JSON data, set "
    "schemas.enable=false in your converter configuration."
)


def json_converter_config() -> ConfigDef:
    """JsonConverter's configs, with Kafka's names, defaults and docs."""
    return (
        converter_type_config()
        .define(
            "schemas.enable",
            ConfigType.BOOLEAN,
            True,
            None,
            Importance.HIGH,
            "Include schemas within each of the serialized values and keys.",
            group="Schemas",
            order=0,
            display_name="Enable Schemas",
        )
        .define(
            "schemas.cache.size",
            ConfigType.INT,
            1000,
            None,
            Importance.HIGH,
            "The maximum number of schemas that can be cached in this converter instance.",
            group="Schemas",
            order=1,
            display_name="Schema Cache Size",
        )
        .define(
            "decimal.format",
            ConfigType.STRING,
            "BASE64",
            CaseInsensitiveValidString.in_("NUMERIC", "BASE64"),
            Importance.LOW,
            "Controls which format this converter will serialize decimals in. This value is "
            "case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
            group="Serialization",
            order=0,
            display_name="Decimal Format",
        )
        .define(
            "replace.null.with.default",
            ConfigType.BOOLEAN,
            True,
            None,
            Importance.LOW,
            "Whether to replace fields that have a default value and that are null to the "
            "default value. When set to true, the default value is used, otherwise null is used.",
            group="Serialization",
            order=1,
            display_name="Replace null with default",
        )
    )


class JsonConverter(Converter, HeaderConverter):
    """Kafka's JsonConverter; also usable as a header converter."""

    def __init__(self) -> None:
        self.schemas_enabled = True
        self._encoder = JsonEncoder()
        self._decoder = JsonDecoder()

    def config(self) -> ConfigDef:
        """JsonConverter's configs."""
        return json_converter_config()

    def configure(self, configs: Mapping[str, Any], is_key: bool | None = None) -> None:
        """Read ``schemas.enable``, ``schemas.cache.size``, ``decimal.format``, ...."""
        check_role(configs)
        parsed = json_converter_config().parse(configs)
        self.schemas_enabled = parsed["schemas.enable"]
        cache_size = parsed["schemas.cache.size"]
        self._encoder = JsonEncoder(
            decimal_numeric=parsed["decimal.format"].upper() == "NUMERIC",
            replace_null_with_default=parsed["replace.null.with.default"],
            cache_size=cache_size,
        )
        self._decoder = JsonDecoder(
            cache_size, replace_null_with_default=parsed["replace.null.with.default"]
        )

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        """JSON bytes of ``value``; None when both schema and value are None."""
        if schema is None and value is None:
            return None
        if self.schemas_enabled:
            return self._encoder.envelope(schema, value).encode()
        return self._encoder.bare(schema, value).encode()

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        """Schema and value of JSON bytes; a tombstone (None) gives ``(None, None)``."""
        if value is None:
            return SchemaAndValue(None, None)
        node = parse_json(value)
        if self.schemas_enabled:
            if not isinstance(node, dict) or len(node) != 2 or node.keys() != {"schema", "payload"}:
                raise DataError(_ENVELOPE_ERROR)
            schema = self._decoder.schema(node["schema"])
            return SchemaAndValue(schema, self._decoder.value(schema, node["payload"]))
        return SchemaAndValue(None, self._decoder.value(None, node))

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        """A header value as JSON bytes."""
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        """A header value from JSON bytes."""
        return self.to_connect_data(topic, value)
