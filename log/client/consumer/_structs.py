"""Small value types the consumer hands to applications.

Named as in Kafka's Java client. ``TopicPartition`` and ``OffsetAndMetadata``
are the client core's, re-exported here for convenience.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.protocol import KafkaError
from tidal.log.records import TimestampType

__all__ = [
    "ConsumerRecord",
    "IsolationLevel",
    "NoOffsetForPartitionError",
    "OffsetAndMetadata",
    "OffsetAndTimestamp",
    "OffsetResetStrategy",
    "RebalanceListener",
    "TopicPartition",
]


@dataclass(frozen=True, slots=True)
class OffsetAndTimestamp:
    """The answer of ``offsets_for_times``: the first offset whose timestamp
    is at or after the asked time, and that record's timestamp."""

    offset: int
    timestamp: int
    leader_epoch: int = -1


class OffsetResetStrategy(StrEnum):
    """``auto_offset_reset``: where to start without a valid position."""

    EARLIEST = "earliest"
    LATEST = "latest"
    NONE = "none"


class IsolationLevel(StrEnum):
    """``isolation_level``: whether records of open and aborted transactions
    are returned (``read_uncommitted``, Kafka's default) or not."""

    READ_UNCOMMITTED = "read_uncommitted"
    READ_COMMITTED = "read_committed"

    @property
    def wire(self) -> int:
        """The Fetch/ListOffsets ``isolation_level`` byte."""
        return 0 if self is IsolationLevel.READ_UNCOMMITTED else 1


class ConsumerRecord:
    """One record as the consumer returns it, key and value deserialized.

    ``headers`` is a tuple of ``(key, value)`` pairs; ``timestamp`` is
    milliseconds since the epoch, set by the producer (``CREATE_TIME``) or
    the broker (``LOG_APPEND_TIME``) as ``timestamp_type`` tells.
    """

    __slots__ = (
        "headers",
        "key",
        "offset",
        "partition",
        "timestamp",
        "timestamp_type",
        "topic",
        "value",
    )

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp: int,
        timestamp_type: TimestampType,
        key: Any,
        value: Any,
        headers: tuple[tuple[str, bytes | None], ...] = (),
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestamp_type = timestamp_type
        self.key = key
        self.value = value
        self.headers = headers

    @property
    def topic_partition(self) -> TopicPartition:
        """The record's partition."""
        return TopicPartition(self.topic, self.partition)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConsumerRecord):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ConsumerRecord(topic={self.topic!r}, partition={self.partition}, "
            f"offset={self.offset}, timestamp={self.timestamp}, key={self.key!r}, "
            f"value={self.value!r}, headers={self.headers!r})"
        )


class NoOffsetForPartitionError(KafkaError):
    """A partition has no committed offset and ``auto_offset_reset`` is ``none``
    (Kafka's ``NoOffsetForPartitionException``)."""


class RebalanceListener(Protocol):
    """Callbacks around rebalances (plain or ``async`` methods; all optional
    when passing any object). Each gets the set of partitions concerned."""

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> Any: ...
    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> Any: ...

    # Optional: ``on_partitions_lost(lost)`` when the member was fenced and its
    # partitions may already belong to another member (default: revoked).
