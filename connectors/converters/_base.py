"""The converter interfaces: Connect data to bytes and back (Kafka's ``Converter``).

Converters are plain synchronous code: they do no I/O, so the runtime calls them inline on
the worker's loop. A converter is configured once per connector and role (key or value)
with the properties under ``key.converter.`` / ``value.converter.`` (prefix removed)::

    converter = JsonConverter()
    converter.configure({"schemas.enable": "false"}, is_key=False)
    converter.from_connect_data("orders", None, {"id": 1})   # b'{"id":1}'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from tidal.connectors.api import Headers, Schema, SchemaAndValue
from tidal.connectors.config import ConfigDef, ConfigType, Importance, ValidString

__all__ = ["CONVERTER_TYPE_CONFIG", "Converter", "HeaderConverter", "converter_type_config"]

CONVERTER_TYPE_CONFIG = "converter.type"


def converter_type_config() -> ConfigDef:
    """The ``converter.type`` config every converter shares (key, value or header)."""
    return ConfigDef().define(
        CONVERTER_TYPE_CONFIG,
        ConfigType.STRING,
        None,
        None,
        Importance.LOW,
        "How this converter will be used.",
    )


_ROLE = ValidString.in_("key", "value", "header")


class Converter(ABC):
    """Turns Connect data into the bytes of a Kafka record key or value, and back."""

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        """Read the converter's properties; ``is_key`` says whether it converts keys."""
        return

    @abstractmethod
    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        """Serialize ``value`` (described by ``schema``) for ``topic``."""

    @abstractmethod
    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        """Deserialize the bytes of a record read from ``topic``."""

    def config(self) -> ConfigDef:
        """The converter's config definition."""
        return converter_type_config()

    def close(self) -> None:
        """Release resources."""
        return


class HeaderConverter(ABC):
    """Turns one header value into bytes and back (Kafka's ``HeaderConverter``)."""

    def configure(self, configs: Mapping[str, Any]) -> None:
        """Read the converter's properties."""
        return

    @abstractmethod
    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        """Serialize one header value."""

    @abstractmethod
    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        """Deserialize one header value."""

    def config(self) -> ConfigDef:
        """The converter's config definition."""
        return converter_type_config()

    def close(self) -> None:
        """Release resources."""
        return


def check_role(configs: Mapping[str, Any]) -> None:
    """Validate an explicit ``converter.type``."""
    role = configs.get(CONVERTER_TYPE_CONFIG)
    if role is not None:
        _ROLE.ensure_valid(CONVERTER_TYPE_CONFIG, str(role).strip())
