"""The records connectors produce and consume: source and sink records with their headers.

Records are immutable; transforms derive new ones with :meth:`ConnectRecord.new_record`,
which keeps every field not named (and copies the headers so the two records never share a
mutable header list)::

    routed = record.new_record(topic="audit-" + record.topic)
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from ._schema import Schema

__all__ = ["ConnectRecord", "Header", "Headers", "SinkRecord", "SourceRecord", "TimestampType"]


@dataclass(frozen=True, slots=True)
class Header:
    """One record header: a key, a schema (None when unknown) and a value."""

    key: str
    value: Any
    schema: Schema | None = None


class Headers:
    """The ordered headers of a record (Kafka's ``ConnectHeaders``); keys may repeat."""

    __slots__ = ("_items",)

    def __init__(self, headers: Iterable[Header] = ()) -> None:
        self._items: list[Header] = list(headers)

    def add(self, key: str, value: Any, schema: Schema | None = None) -> Headers:
        """Append a header; returns ``self``."""
        if schema is not None:
            schema.validate_value(value)
        self._items.append(Header(key, value, schema))
        return self

    def last_with_name(self, key: str) -> Header | None:
        """The last header called ``key``, or None."""
        for header in reversed(self._items):
            if header.key == key:
                return header
        return None

    def all_with_name(self, key: str) -> list[Header]:
        """Every header called ``key``, in order."""
        return [h for h in self._items if h.key == key]

    def remove(self, key: str) -> Headers:
        """Drop every header called ``key``; returns ``self``."""
        self._items = [h for h in self._items if h.key != key]
        return self

    def retain_latest(self) -> Headers:
        """Keep only the last header of each key; returns ``self``."""
        last = {h.key: i for i, h in enumerate(self._items)}
        self._items = [h for i, h in enumerate(self._items) if last[h.key] == i]
        return self

    def clear(self) -> Headers:
        """Drop every header; returns ``self``."""
        self._items.clear()
        return self

    def duplicate(self) -> Headers:
        """A copy that can change without affecting this one."""
        return Headers(self._items)

    def __iter__(self) -> Iterator[Header]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._items == other._items

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class TimestampType(enum.Enum):
    """What a Kafka record timestamp means."""

    NO_TIMESTAMP_TYPE = "NoTimestampType"
    CREATE_TIME = "CreateTime"
    LOG_APPEND_TIME = "LogAppendTime"


@dataclass(frozen=True, slots=True, kw_only=True, eq=True)
class ConnectRecord:
    """What source and sink records share: topic, partition, key, value, timestamp, headers.

    ``timestamp`` is milliseconds since the epoch, or None. Keys and values are Connect data
    (see :class:`~tidal.connectors.api.Schema`); a schema of None means "schemaless".
    """

    topic: str
    kafka_partition: int | None = None
    key_schema: Schema | None = None
    key: Any = None
    value_schema: Schema | None = None
    value: Any = None
    timestamp: int | None = None
    headers: Headers = field(default_factory=Headers)

    def new_record(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (any field by name), headers duplicated.

        Mirrors Kafka's ``newRecord(topic, partition, keySchema, key, valueSchema, value,
        timestamp[, headers])``.
        """
        if "headers" not in changes:
            changes["headers"] = self.headers.duplicate()
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True, kw_only=True, eq=True)
class SourceRecord(ConnectRecord):
    """A record a source task read from an external system.

    ``source_partition`` names where it came from (e.g. ``{"filename": "a.txt"}``) and
    ``source_offset`` how far into it (``{"position": 1024}``); the runtime stores the latest
    offset per partition so a restarted task can resume via its offset storage reader.
    ``kafka_partition`` None lets the producer's partitioner choose.
    """

    source_partition: Mapping[str, Any] | None = None
    source_offset: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=True)
class SinkRecord(ConnectRecord):
    """A record read from Kafka and handed to a sink task's ``put``.

    The ``original_*`` fields keep the topic, partition and offset as consumed, before any
    transform rerouted the record (KIP-793); sinks that track offsets must use them.
    """

    kafka_partition: int = 0
    kafka_offset: int = 0
    timestamp_type: TimestampType = TimestampType.NO_TIMESTAMP_TYPE
    original_topic: str | None = None
    original_kafka_partition: int | None = None
    original_kafka_offset: int | None = None

    def __post_init__(self) -> None:
        if self.original_topic is None:
            object.__setattr__(self, "original_topic", self.topic)
        if self.original_kafka_partition is None:
            object.__setattr__(self, "original_kafka_partition", self.kafka_partition)
        if self.original_kafka_offset is None:
            object.__setattr__(self, "original_kafka_offset", self.kafka_offset)
