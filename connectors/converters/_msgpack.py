"""Tidal's MessagePack converter: compact, schemaless, fast.

Values are written as MessagePack: structs as maps in field order, ``decimal.Decimal`` as
its string, dates, times and datetimes as ISO 8601 strings (datetimes as msgpack
Timestamp extension values when ``datetime.as.timestamp=true``, the default). Reading
gives schemaless values (maps come back as dicts). Use it between Tidal applications;
use JsonConverter to interoperate with Kafka Connect.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Mapping
from typing import Any

import msgpack

from tidal.connectors.api import DataError, Headers, Schema, SchemaAndValue, Struct
from tidal.connectors.config import ConfigDef, ConfigType, Importance

from ._base import Converter, HeaderConverter, check_role, converter_type_config

__all__ = ["MsgpackConverter"]


def _plain(value: Any) -> Any:
    if isinstance(value, Struct):
        return {f.name: value.get(f) for f in value.schema.fields}
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


class MsgpackConverter(Converter, HeaderConverter):
    """Connect data as MessagePack (``tidal.connectors.converters.MsgpackConverter``)."""

    def __init__(self) -> None:
        self.datetime_as_timestamp = True

    def config(self) -> ConfigDef:
        """``converter.type`` and ``datetime.as.timestamp``."""
        return converter_type_config().define(
            "datetime.as.timestamp",
            ConfigType.BOOLEAN,
            True,
            None,
            Importance.LOW,
            "Write timezone-aware datetimes as MessagePack Timestamp extension values "
            "(read back as UTC datetimes) instead of ISO 8601 strings.",
        )

    def configure(self, configs: Mapping[str, Any], is_key: bool | None = None) -> None:
        """Read ``datetime.as.timestamp``."""
        check_role(configs)
        self.datetime_as_timestamp = self.config().parse(configs)["datetime.as.timestamp"]

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        """MessagePack bytes of ``value``; None stays None."""
        if value is None:
            return None
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        try:
            packed: bytes = msgpack.packb(
                value, default=_plain, datetime=self.datetime_as_timestamp, use_bin_type=True
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise DataError(f"MsgpackConverter cannot serialize value for {topic}: {exc}") from exc
        return packed

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        """The schemaless value of MessagePack bytes."""
        if value is None:
            return SchemaAndValue(None, None)
        try:
            decoded = msgpack.unpackb(value, raw=False, timestamp=3, strict_map_key=False)
        except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
            raise DataError(f"MsgpackConverter cannot read record from {topic}: {exc}") from exc
        return SchemaAndValue(None, decoded)

    def from_connect_header(
        self, topic: str, header_key: str, schema: Schema | None, value: Any
    ) -> bytes | None:
        """A header value as MessagePack."""
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, header_key: str, value: bytes | None) -> SchemaAndValue:
        """A header value from MessagePack."""
        return self.to_connect_data(topic, value)
