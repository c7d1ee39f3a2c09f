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
        self._items: list[Header] = list(headers) if headers else []

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
        slots = _FIELD_SLOTS.get(type(self))
        if (
            slots is None
            or not changes.keys() <= slots.keys()
            or (isinstance(self, SinkRecord) and not _originals_kept(self, changes))
        ):
            # Unknown names raise, and SinkRecord's original_* defaults apply, as in replace.
            return dataclasses.replace(self, **changes)
        copy = _new(type(self))
        for name, slot in slots.items():
            slot.__set__(copy, changes[name] if name in changes else slot.__get__(self))
        return copy


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


# ---- fast construction for the runtime and the built-in connectors -----------------------
#
# The generated ``__init__`` of a frozen dataclass sets each field through
# ``object.__setattr__`` after binding keyword arguments; the per-record paths fill the slots
# directly instead. The results are the same records (same class, fields, equality).

_new = object.__new__
_ORIGINALS = frozenset({"original_topic", "original_kafka_partition", "original_kafka_offset"})


def _originals_kept(record: SinkRecord, changes: Mapping[str, Any]) -> bool:
    """Whether ``replace`` would keep the ``original_*`` fields of ``record`` as they are."""
    return (
        _ORIGINALS.isdisjoint(changes)
        and record.original_topic is not None
        and record.original_kafka_partition is not None
        and record.original_kafka_offset is not None
    )


def _slots_of(cls: type[ConnectRecord]) -> dict[str, Any]:
    """Each field's slot descriptor, in field order."""
    slots: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        owner = next(c for c in cls.__mro__ if f.name in c.__dict__.get("__slots__", ()))
        slots[f.name] = owner.__dict__[f.name]
    return slots


_FIELD_SLOTS: dict[type, dict[str, Any]] = {
    cls: _slots_of(cls) for cls in (ConnectRecord, SourceRecord, SinkRecord)
}
_SRC = _FIELD_SLOTS[SourceRecord]
_SINK = _FIELD_SLOTS[SinkRecord]
_src_topic = _SRC["topic"].__set__
_src_partition = _SRC["kafka_partition"].__set__
_src_key_schema = _SRC["key_schema"].__set__
_src_key = _SRC["key"].__set__
_src_value_schema = _SRC["value_schema"].__set__
_src_value = _SRC["value"].__set__
_src_timestamp = _SRC["timestamp"].__set__
_src_headers = _SRC["headers"].__set__
_src_source_partition = _SRC["source_partition"].__set__
_src_source_offset = _SRC["source_offset"].__set__
_sink_kafka_offset = _SINK["kafka_offset"].__set__
_sink_timestamp_type = _SINK["timestamp_type"].__set__
_sink_original_topic = _SINK["original_topic"].__set__
_sink_original_partition = _SINK["original_kafka_partition"].__set__
_sink_original_offset = _SINK["original_kafka_offset"].__set__


def empty_headers() -> Headers:
    """``Headers()``, without the call to ``__init__``."""
    headers: Headers = _new(Headers)
    headers._items = []
    return headers


def make_source_record(
    topic: str,
    kafka_partition: int | None,
    key_schema: Schema | None,
    key: Any,
    value_schema: Schema | None,
    value: Any,
    timestamp: int | None,
    headers: Headers | None,
    source_partition: Mapping[str, Any] | None,
    source_offset: Mapping[str, Any] | None,
) -> SourceRecord:
    """``SourceRecord(...)`` with every field given in order (``headers`` None: empty)."""
    record: SourceRecord = _new(SourceRecord)
    _src_topic(record, topic)
    _src_partition(record, kafka_partition)
    _src_key_schema(record, key_schema)
    _src_key(record, key)
    _src_value_schema(record, value_schema)
    _src_value(record, value)
    _src_timestamp(record, timestamp)
    _src_headers(record, empty_headers() if headers is None else headers)
    _src_source_partition(record, source_partition)
    _src_source_offset(record, source_offset)
    return record


def make_sink_record(
    topic: str,
    kafka_partition: int,
    kafka_offset: int,
    key_schema: Schema | None,
    key: Any,
    value_schema: Schema | None,
    value: Any,
    timestamp: int | None,
    timestamp_type: TimestampType,
    headers: Headers,
) -> SinkRecord:
    """``SinkRecord(...)`` as consumed: the ``original_*`` fields are the given ones."""
    record: SinkRecord = _new(SinkRecord)
    _src_topic(record, topic)
    _src_partition(record, kafka_partition)
    _src_key_schema(record, key_schema)
    _src_key(record, key)
    _src_value_schema(record, value_schema)
    _src_value(record, value)
    _src_timestamp(record, timestamp)
    _src_headers(record, headers)
    _sink_kafka_offset(record, kafka_offset)
    _sink_timestamp_type(record, timestamp_type)
    _sink_original_topic(record, topic)
    _sink_original_partition(record, kafka_partition)
    _sink_original_offset(record, kafka_offset)
    return record
