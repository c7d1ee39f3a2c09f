"""Where the group coordinator keeps ``__consumer_offsets``: a narrow interface.

The coordinator only appends record batches to a partition and, at start,
reads a partition back from its beginning. ``LogOffsetsStorage`` does that
over the storage engine's ``LogManager`` (a compacted topic, as in Kafka);
``MemoryOffsetsStorage`` keeps batches in lists for tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from tidal.log.records import iter_batches
from tidal.log.storage import LogConfig, LogManager, PartitionLog

__all__ = [
    "OFFSETS_TOPIC",
    "LogOffsetsStorage",
    "MemoryOffsetsStorage",
    "OffsetsTopicStorage",
    "offsets_topic_config",
]

#: Kafka's internal topic for group metadata and committed offsets.
OFFSETS_TOPIC = "__consumer_offsets"

_READ_CHUNK = 1 << 20


class OffsetsTopicStorage(Protocol):
    """Append-and-replay access to the partitions of ``__consumer_offsets``."""

    def append(self, partition: int, batch: bytes) -> None:
        """Append one record batch to ``partition``; raises on failure.

        The coordinator answers a commit only after this returns.
        """

    def read(self, partition: int) -> Iterator[bytes]:
        """The partition's batches from its start, in offset order, as buffers
        of whole batches (a partition never written yields nothing)."""


class MemoryOffsetsStorage:
    """``OffsetsTopicStorage`` in lists, for tests; ``fail`` makes appends raise."""

    def __init__(self) -> None:
        self.batches: dict[int, list[bytes]] = {}
        self.fail: Exception | None = None

    def append(self, partition: int, batch: bytes) -> None:
        """Keep ``batch`` in memory."""
        if self.fail is not None:
            raise self.fail
        self.batches.setdefault(partition, []).append(bytes(batch))

    def read(self, partition: int) -> Iterator[bytes]:
        """The batches appended to ``partition``."""
        yield from list(self.batches.get(partition, ()))


def offsets_topic_config(segment_bytes: int = 104857600) -> LogConfig:
    """The topic config Kafka gives ``__consumer_offsets``: compacted, 100 MiB segments
    (``offsets.topic.segment.bytes``)."""
    return LogConfig.from_properties(
        {"cleanup.policy": "compact", "segment.bytes": str(segment_bytes)}
    )


class LogOffsetsStorage:
    """``OffsetsTopicStorage`` over a ``LogManager``.

    Partitions are created on first append with ``config`` (default
    :func:`offsets_topic_config`). A single node commits on append, so the
    high watermark follows the log end offset.
    """

    def __init__(
        self, manager: LogManager, config: LogConfig | None = None, topic: str = OFFSETS_TOPIC
    ) -> None:
        self.manager = manager
        self.config = config if config is not None else offsets_topic_config()
        self.topic = topic

    def _log(self, partition: int) -> PartitionLog:
        log = self.manager.get_log(self.topic, partition)
        if log is None:
            log = self.manager.get_or_create_log(self.topic, partition, self.config)
        return log

    def append(self, partition: int, batch: bytes) -> None:
        """Append as the leader and advance the high watermark."""
        log = self._log(partition)
        log.append(batch, from_producer=False)
        log.high_watermark = log.log_end_offset

    def read(self, partition: int) -> Iterator[bytes]:
        """Read the partition in chunks of about 1 MiB of whole batches."""
        log = self.manager.get_log(self.topic, partition)
        if log is None:
            return
        offset = log.log_start_offset
        while offset < log.log_end_offset:
            data = log.read_bytes(offset, _READ_CHUNK)
            next_offset = offset
            for header in iter_batches(data):
                next_offset = header.next_offset
            if next_offset <= offset:
                return
            yield data
            offset = next_offset
